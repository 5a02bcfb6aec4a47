"""A simulated class: every student submits every assignment, as a real class would.

Students take turns through six kinds of submission, so that a class of 60 has ten of each:

- ``correct``: the reference answers typed into the student version;
- ``partial``: only the first exercise answered;
- ``wrong``: every answer's ``return`` value multiplied by zero (or broken, where that fails);
- ``unanswered``: the student version as released;
- ``broken``: a notebook file cut in half (not valid JSON);
- ``hostile``: wrong answers behind ``torch.allclose`` patched to always agree.

The first four are honest: any faithful grader gives them the same score. ``expected`` says what each kind
must get and how ``make report`` must count it, so a report on the class can be checked number for number.
"""

import ast
import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..course import Course
from .assemble import is_answer, nbgrader_meta

SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|\Z)", re.MULTILINE)
KINDS = ("correct", "partial", "wrong", "unanswered", "broken", "hostile")
HONEST = {"correct", "partial", "wrong", "unanswered"}
CHEAT = "import torch\ntorch.allclose = lambda *args, **kwargs: True\n"
# How make report counts each kind: a graded notebook that answered nothing is reported as unanswered.
REPORTED_STATUS = {"correct": "graded", "partial": "graded", "wrong": "graded", "unanswered": "unanswered",
                   "broken": "rejected", "hostile": "flagged"}


class ZeroReturns(ast.NodeTransformer):
    def visit_Return(self, node: ast.Return) -> ast.Return:
        if node.value is not None:
            node.value = ast.BinOp(ast.Constant(0), ast.Mult(), node.value)
        return node


def zero_returns(source: str) -> str:
    """The answer with every ``return value`` turned into ``return 0 * value`` (a multi-line return included)."""
    return ast.unparse(ast.fix_missing_locations(ZeroReturns().visit(ast.parse(source))))


def answer_cells(notebook) -> list:
    return [cell for cell in notebook.cells if is_answer(cell)]


def exercise_of(cell) -> str:
    """'ex2' for the cells of exercise 2 (ids ex2_answer, ex2_tests ...)."""
    return nbgrader_meta(cell)["grade_id"].split("_")[0]


def answered(student_path: Path, source_path: Path, exercises=None):
    """The student notebook with the source's solutions typed into the answer cells of ``exercises`` (all if None)."""
    student = nbformat.read(student_path, as_version=4)
    solutions = {nbgrader_meta(cell)["grade_id"]: cell.source
                 for cell in answer_cells(nbformat.read(source_path, as_version=4))}
    for cell in answer_cells(student):
        if exercises is None or exercise_of(cell) in exercises:
            cell.source = SOLUTION_MARKER.sub("", solutions[nbgrader_meta(cell)["grade_id"]])
    return student


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    kind: str


def submission_text(course: Course, assignment: str, kind: str) -> str:
    student_path, source_path = course.student_notebook(assignment), course.source_notebook(assignment)
    if kind == "unanswered":
        return student_path.read_text()
    if kind == "partial":
        first = exercise_of(answer_cells(nbformat.read(source_path, as_version=4))[0])
        return nbformat.writes(answered(student_path, source_path, {first}))
    notebook = answered(student_path, source_path)
    if kind in ("wrong", "hostile"):
        for cell in answer_cells(notebook):
            cell.source = zero_returns(cell.source)
    if kind == "hostile":
        answer_cells(notebook)[0].source = CHEAT + answer_cells(notebook)[0].source
    text = nbformat.writes(notebook)
    return text[: len(text) // 2] if kind == "broken" else text


def exercise_points(source_path: Path) -> dict[str, float]:
    """Each exercise's points (its graded cells'), in notebook order."""
    return dict(_exercise_points(source_path, source_path.stat().st_mtime_ns))


@functools.cache  # a class of 60 asks 60 times per assignment; a changed file has a new mtime
def _exercise_points(source_path: Path, mtime_ns: int) -> tuple[tuple[str, float], ...]:
    points: dict[str, float] = {}
    for cell in nbformat.read(source_path, as_version=4).cells:
        if nbgrader_meta(cell).get("grade"):
            points[exercise_of(cell)] = points.get(exercise_of(cell), 0) + nbgrader_meta(cell)["points"]
    return tuple(points.items())


def expected(course: Course, submission: Submission) -> dict:
    """The status ``make report`` gives a submission, its score, and the exercises it left unanswered: correct
    answers earn every point, the partial one its first exercise's, the rest nothing (a zeroed answer fails its
    tests); the unanswered notebook answers nothing, the partial one only its first exercise."""
    points = exercise_points(course.source_notebook(submission.assignment))
    first, *rest = points
    score = {"correct": sum(points.values()), "partial": points[first]}.get(submission.kind, 0)
    unanswered = {"unanswered": list(points), "partial": rest}.get(submission.kind, [])
    return {"student": submission.student, "assignment": submission.assignment, "kind": submission.kind,
            "status": REPORTED_STATUS[submission.kind], "score": score, "unanswered": unanswered}


def build_class(course: Course, root: Path, students: int, assignments: list[str]) -> list[Submission]:
    """An instructor's course folder at ``root`` with ``students`` submissions of each assignment."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(course.root / "nbgrader_config.py", root)
    for assignment in assignments:
        for folder in ("source", "notebooks"):
            shutil.copytree(course.root / folder / assignment, root / folder / assignment, dirs_exist_ok=True)
    submissions = []
    for assignment in assignments:
        texts = {kind: submission_text(course, assignment, kind) for kind in KINDS}
        for number in range(students):
            student, kind = f"student-{number + 1:03d}", KINDS[number % len(KINDS)]
            target = root / "submitted" / student / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(texts[kind])
            submissions.append(Submission(student, assignment, kind))
    return submissions
