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

    def recorded(self, student: str) -> Outcome | None:
        path = self.folder / f"{student}.json"
        try:
            outcome = Outcome(**json.loads(path.read_text()))
            outcome.findings = [Finding.from_record(record) for record in outcome.findings]
            return outcome
        except (OSError, ValueError, TypeError):  # unreadable (or of an older grader): graded again
            return None

    def unchanged(self, student: str, notebook: Path) -> Outcome | None:
        """The outcome recorded for ``student``'s submission if it is final and the notebook has not changed since
        (it is not graded again), else None."""
        previous = None if student_ids.refusal(student) else self.recorded(student)
        if previous and previous.status in FINAL and previous.digest == digest_of(notebook):
            return previous
        return None

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
