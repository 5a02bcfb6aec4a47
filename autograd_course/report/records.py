"""An assignment's grading run as plain records: its test cells, and for each submission its status and scores,
what each failing test cell said and what the student answered.

Scores come from nbgrader's gradebook (so they include what an instructor regraded in formgrader). The trusted
grader (``make autograde``) also records an outcome per submission in ``grading/<id>/<student>.json``; where there
is none (plain ``nbgrader autograde``), a submission with an autograded notebook counts as graded and one without as
rejected. A graded submission that answered no exercise is reported as unanswered.

An exercise is the cells whose grade ids share the part before the first ``_`` (``ex1_answer``, ``ex1_tests``); an
answer is unanswered when its checksum is still the one nbgrader recorded for the released stub.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import compute_checksum
from nbformat.v4 import nbjson
from traitlets.config.loader import PyFileConfigLoader

from ..grading.assemble import is_answer, nbgrader_meta
from ..grading.gradebook_writer import rooted_sqlite_url
from ..grading.findings import Finding
from ..grading.late_penalty import penalised_score
from ..grading.outcomes import OutcomeStore

STATUSES = ("graded", "unanswered", "flagged", "rejected", "error")
ANALYSED = ("graded", "unanswered")  # statuses whose scores say something about the exercises


@dataclass(frozen=True)
class GradedCell:
    name: str
    exercise: str
    points: float


@dataclass
class Submission:
    student: str
    identity: tuple[str, ...]  # id, first and last name, email: what anonymising removes
    status: str
    score: float
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)  # test cell -> points earned
    failures: dict[str, str] = field(default_factory=dict)  # failed test cell -> what it printed
    answers: dict[str, str] = field(default_factory=dict)  # exercise -> the source of its answer cells
    unanswered: set[str] = field(default_factory=set)  # exercises whose answer cells are the released stubs
    late_penalty: float = 0.0  # what the gradebook took off ``score`` for lateness (per test cell ``scores`` are raw)

    @property
    def display_name(self) -> str:
        first, last = self.identity[1:3]
        full = " ".join(part for part in (first, last) if part)
        return f"{full} ({self.student})" if full else self.student


@dataclass
class Assignment:
    name: str
    max_score: float
    tests: list[GradedCell]
    exercises: list[str]  # in notebook order
    answered: list[str]  # the exercises that have answer cells
    submissions: list[Submission]

    def analysed(self) -> list[Submission]:
        return [submission for submission in self.submissions if submission.status in ANALYSED]


def exercise_of(grade_id: str) -> str:
    return grade_id.split("_")[0]


class Names:
    """Test cells and exercises by grade id; qualified by their notebook when an assignment has several."""

    def __init__(self, notebooks: list[str]):
        self.qualified = len(notebooks) > 1

    def cell(self, notebook: str, grade_id: str) -> str:
        return f"{notebook}: {grade_id}" if self.qualified else grade_id

    def exercise(self, notebook: str, grade_id: str) -> str:
        return self.cell(notebook, exercise_of(grade_id))


def natural(text: str) -> list:
    """Sort key: ex2 before ex10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def course_directory(root: Path) -> CourseDirectory:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return CourseDirectory(config=config, root=str(root))


def cell_text(cell: dict) -> str:
    """What a cell printed as a failure: its errors (``ename: evalue``) and anything on stderr."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" and output.get("ename") != "IntegrityFlag":
            parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
        elif output.get("output_type") == "stream" and output.get("name") == "stderr":
            parts.append("stderr: " + output.get("text", ""))
    return "\n".join(parts)


def read_autograded(path: Path) -> list | None:
    """The cells of an autograded notebook, or None when there is none (read without validation: a class of
    a thousand notebooks is read in seconds)."""
    try:
        return nbjson.reads(path.read_text()).cells
    except (OSError, ValueError, AttributeError):
        return None


def released_stubs(recorded) -> dict[tuple[str, str], str]:
    """(notebook, answer cell) -> the checksum nbgrader recorded for the answer cell as released."""
    stubs = {}
    for notebook in recorded.notebooks:
        checksums = {cell.name: cell.checksum for cell in notebook.source_cells}
        stubs.update({(notebook.name, cell.name): checksums[cell.name] for cell in notebook.solution_cells})
    return stubs


class Reader:
    """Reads one course folder's gradebook and grading records."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.coursedir = course_directory(self.root)
        self.db_url = rooted_sqlite_url(self.coursedir.db_url, self.root)

    def autograded(self, student: str, assignment: str, notebook: str) -> Path:
        return self.root / self.coursedir.autograded_directory / student / assignment / f"{notebook}.ipynb"

    def assignment(self, name: str) -> Assignment:
        with Gradebook(self.db_url, self.coursedir.course_id) as gradebook:
            try:
                recorded = gradebook.find_assignment(name)
            except MissingEntry:
                raise SystemExit(f"{name}: not in the gradebook {self.db_url}; grade it first (make autograde)") \
                    from None
            notebooks = sorted(notebook.name for notebook in recorded.notebooks)
            names = Names(notebooks)
            tests = sorted((GradedCell(names.cell(notebook.name, cell.name),
                                       names.exercise(notebook.name, cell.name), cell.max_score)
                            for notebook in recorded.notebooks for cell in notebook.grade_cells),
                           key=lambda test: natural(test.name))
            stubs = released_stubs(recorded)
            submissions = [self.submission(name, notebooks, names, stubs, submitted)
                           for submitted in recorded.submissions]
            max_score = recorded.max_score
        exercises = list(dict.fromkeys(test.exercise for test in tests))
        with_answers = {names.exercise(notebook, cell) for notebook, cell in stubs}
        for submission in submissions:
            if submission.status == "graded" and with_answers and with_answers <= submission.unanswered:
                submission.status = "unanswered"
        return Assignment(name, max_score, tests, exercises, sorted(with_answers, key=natural),
                          sorted(submissions, key=lambda submission: submission.student))

    def submission(self, assignment: str, notebooks: list[str], names: Names, stubs: dict, submitted) -> Submission:
        student = submitted.student
        identity = tuple(part or "" for part in (student.id, student.first_name, student.last_name, student.email))
        outcome = OutcomeStore.of(self.root, assignment).recorded(student.id)
        record = Submission(student.id, identity, outcome.status if outcome else "graded", penalised_score(submitted),
                            outcome.reason if outcome else "", outcome.findings if outcome else [],
                            late_penalty=submitted.late_submission_penalty)
        points = {}
        for notebook in submitted.notebooks:
            for grade in notebook.grades:
                record.scores[names.cell(notebook.name, grade.name)] = grade.score
                points[notebook.name, grade.name] = grade.max_score
        changed, read = set(), set()
        for notebook in notebooks:
            cells = read_autograded(self.autograded(student.id, assignment, notebook))
            if cells is None:
                if not outcome:  # plain nbgrader autograde wrote nothing for it: the notebook could not be run
                    record.status, record.reason = "rejected", "nbgrader autograde wrote no autograded notebook"
                continue
            read.add(notebook)
            for cell in cells:
                grade_id = nbgrader_meta(cell).get("grade_id")
                if is_answer(cell) and (notebook, grade_id) in stubs:
                    exercise = names.exercise(notebook, grade_id)
                    record.answers[exercise] = "\n".join(filter(None, (record.answers.get(exercise), cell.source)))
                    if compute_checksum(cell) != stubs[notebook, grade_id]:
                        changed.add(exercise)
                # nbgrader scores a test cell all or nothing: less than its points is a failure
                key = names.cell(notebook, grade_id)
                if (notebook, grade_id) in points and record.scores[key] < points[notebook, grade_id]:
                    record.failures[key] = cell_text(cell)
        # A notebook that was never run (rejected) says nothing about which exercises it answered.
        record.unanswered = {names.exercise(notebook, cell) for notebook, cell in stubs if notebook in read} - changed
        return record
