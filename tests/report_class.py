"""A simulated class with known answers for the report's tests, and what ``make report`` must say about it.

Each student hands in either one of the simulated kinds of ``grading.simulate`` (correct, partial, unanswered,
broken, hostile; what each must get is ``simulate.expected``) or a case of the misconception corpus: a ``Mistake``
fails exactly its test cell with its hint, a ``Correct`` answer earns every point. So every count of the report
(statuses, scores, per exercise means, misconceptions, integrity findings) follows from the plan alone.
"""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from autograd_course.course import Course
from autograd_course.grading.simulate import KINDS, Submission, expected, submission_text
from grading_course import make_course, solved, submit
from misconceptions import Correct, Mistake, exercise, load, with_answers
from notebook_cells import grade_cells, nbgrader


@dataclass(frozen=True)
class Planned:
    """One submission and what the report must count for it."""

    student: str
    assignment: str
    status: str
    cell_scores: dict[str, float]  # test cell -> points it earns (graded and unanswered submissions)
    unanswered: frozenset[str]
    misconception: tuple[str, str] | None = None  # (exercise, a phrase of the hint that names it)


def test_cell_points(root: Path, assignment: str) -> dict[str, float]:
    source = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {nbgrader(cell)["grade_id"]: nbgrader(cell)["points"] for cell in grade_cells(source)}


def plan_kind(root: Path, assignment: str, kind: str, student: str) -> Planned:
    """Submit a simulated kind of notebook."""
    submit(root, student, submission_text(Course(root), assignment, kind).encode(), assignment)
    outcome = expected(Course(root), Submission(student, assignment, kind))
    points = test_cell_points(root, assignment)
    earns = kind in ("correct", "partial")
    scores = {cell: points[cell] if earns and exercise(cell) not in outcome["unanswered"] else 0 for cell in points}
    assert sum(scores.values()) == outcome["score"], (kind, scores, outcome)
    return Planned(student, assignment, outcome["status"], scores, frozenset(outcome["unanswered"]))


def plan_case(root: Path, assignment: str, name: str, student: str, comment: str = "") -> Planned:
    """Submit the reference answers with one corpus case's answers in place (``comment`` above each of them)."""
    case = next(case for case in load(assignment) if case.name == name)
    submit(root, student, with_answers(solved(root, assignment), case, comment), assignment)
    points = test_cell_points(root, assignment)
    if isinstance(case, Correct):
        return Planned(student, assignment, "graded", points, frozenset())
    assert isinstance(case, Mistake)
    scores = {**points, case.fails: 0}
    return Planned(student, assignment, "graded", scores, frozenset(), (exercise(case.fails), case.hint))


def build_class(root: Path, plan: list[tuple[str, str, str]], comments: dict[str, str] | None = None) -> list[Planned]:
    """``plan``: (student, assignment, a simulated kind or a corpus case's name); ``comments``: student -> a comment
    their answers start with."""
    for assignment in sorted({assignment for _, assignment, _ in plan}):
        make_course(root, assignment, shipped=False)
    comments = comments or {}
    return [plan_kind(root, assignment, what, student) if what in KINDS
            else plan_case(root, assignment, what, student, comments.get(student, ""))
            for student, assignment, what in plan]


def name_students(root: Path, names: dict[str, tuple[str, str]]) -> None:
    """First and last names in the gradebook, as ``nbgrader db student add`` records them."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "autograd-course") as gradebook:
        for student, (first, last) in names.items():
            gradebook.update_or_create_student(student, first_name=first, last_name=last)


def report(root: Path, assignments: list[str], output: Path, *options: str) -> subprocess.CompletedProcess:
    """``python -m autograd_course.report`` (what make report runs)."""
    return subprocess.run([sys.executable, "-m", "autograd_course.report", *assignments, "--root", str(root),
                           "--output", str(output), *options], capture_output=True, text=True, check=False)
