"""One outcome per submission, recorded in ``grading/<id>/<student>.json`` after its grades are committed.

An outcome is *graded*, *flagged* (an integrity finding: scored 0), *rejected* (with the reason) or *error* (the
grader failed on it; the next run retries it). It is written atomically, so a batch stopped at any point is finished
by running the command again.
"""

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import student_ids
from .findings import Finding

FINAL = ("graded", "flagged", "rejected")


@dataclass
class Outcome:
    student: str
    assignment: str
    status: str
    digest: str
    score: float = 0.0
    max_score: float = 0.0
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class OutcomeStore:
    """One assignment's recorded outcomes, one file per student; none for a refused student id."""

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def of(cls, course_root: Path, assignment: str) -> "OutcomeStore":
        """The store of an assignment in a course folder: ``grading/<id>/``."""
        return cls(course_root / "grading" / assignment)

    def recorded(self, student: str) -> Outcome | None:
        path = self.folder / f"{student}.json"
        try:
            outcome = Outcome(**json.loads(path.read_text()))
            outcome.findings = [Finding.from_record(record) for record in outcome.findings]
            return outcome
        except (OSError, ValueError, TypeError):  # unreadable (or of an older grader): graded again
            return None

    def to_grade(self, submitted: Path, assignment: str, students: list[str] | None = None,
                 force: bool = False) -> tuple[list[Outcome], list[str]]:
        """Of ``students`` (every student with a submission folder when None), the outcomes recorded for submissions
        that are final and unchanged since (not graded again unless ``force``), and the students still to grade."""
        done, todo = [], []
        for student in students or submitted_students(submitted, assignment):
            previous = None if force or student_ids.refusal(student) else self.recorded(student)
            if previous and previous.status in FINAL \
                    and previous.digest == digest_of(submitted_notebook(submitted, student, assignment)):
                done.append(previous)
            else:
                todo.append(student)
        return done, todo

    def record(self, outcome: Outcome) -> None:
        if student_ids.refusal(outcome.student):
            return  # no file is named after a refused id: the summary reports it
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{outcome.student}.json"
        partial = target.with_suffix(".json.partial")
        partial.write_text(json.dumps(asdict(outcome), indent=1))
        os.replace(partial, target)


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def submitted_students(submitted: Path, assignment: str) -> list[str]:
    """The students with a folder for ``assignment`` in nbgrader's submitted directory."""
    return sorted(folder.parent.name for folder in submitted.glob(f"*/{assignment}") if folder.is_dir())


def submitted_notebook(submitted: Path, student: str, assignment: str) -> Path:
    return submitted / student / assignment / f"{assignment}.ipynb"
