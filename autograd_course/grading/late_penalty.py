"""Late penalties for the trusted grader, as nbgrader applies them.

The due date is the gradebook's (formgrader's assignment page, ``nbgrader db assignment add ID --duedate=...``), the
time of a submission its ``timestamp.txt`` (the exchange writes it at submit). The penalty is the one the course's
nbgrader_config.py configures: ``c.LateSubmissionPlugin.penalty_method = "zero"``, or a plugin of the instructor's
(``c.AssignLatePenalties.plugin_class = "late.SubMarks"``, a module in the course folder). nbgrader's own
``AssignLatePenalties`` computes it and records it in the gradebook beside the scores; nbgrader's export and
feedback then give ``score - penalty``, which ``penalised_score`` computes the same way.

A ``timestamp.txt`` that cannot be read or is not a time (plain nbgrader stops the whole batch with "Invalid timestamp
string") leaves the submission without a time: it is graded, without a late penalty (as nbgrader grades one whose
timestamp.txt is empty), and its outcome says why, so that the instructor checks when it came in. This gives a
student nothing a valid earlier time would not: the student's own submit writes the file.
"""

import sys
from datetime import datetime
from pathlib import Path

from nbgrader.api import Gradebook, SubmittedAssignment
from nbgrader.preprocessors import AssignLatePenalties
from nbgrader.utils import parse_utc

TIMESTAMP_FILE = "timestamp.txt"
TIMESTAMP_MAX_BYTES = 200  # "2026-12-01 18:51:00.000000 UTC" and any time zone spelling fit


def penalised_score(submission: SubmittedAssignment) -> float:
    """The score nbgrader's export (grades.csv) and feedback give a submission: never below 0."""
    return max(0.0, submission.score - submission.late_submission_penalty)


def lateness(seconds: float) -> str:
    """'6 h 51 min', '2 d 3 h', '40 s'."""
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    parts = [(days, "d"), (hour, "h"), (minute, "min")] if minutes else [(second, "s")]
    shown = [f"{count} {unit}" for count, unit in parts if count]
    return " ".join(shown[:2]) or "0 s"


class UnreadableTimestamp(ValueError):
    """Why a submission's timestamp.txt gives no time."""


def read_timestamp(path: Path) -> datetime | None:
    """The time in ``path`` (naive UTC, as nbgrader stores it); None when there is no file or it is empty."""
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():  # a link could point anywhere, a FIFO would block the grader
        raise UnreadableTimestamp("it is not a regular file")
    try:
        with path.open("rb") as file:
            text = file.read(TIMESTAMP_MAX_BYTES + 1)
    except OSError as error:
        raise UnreadableTimestamp(f"it cannot be read: {error.strerror}") from error
    if len(text) > TIMESTAMP_MAX_BYTES:
        raise UnreadableTimestamp(f"it is longer than a time ({TIMESTAMP_MAX_BYTES} bytes)")
    try:
        stripped = text.decode("utf-8").strip()
        return parse_utc(stripped) if stripped else None
    except (ValueError, OverflowError) as error:  # UnicodeDecodeError and dateutil's ParserError are ValueErrors
        raise UnreadableTimestamp("it is not a time nbgrader can read") from error


class LatePenalty:
    """nbgrader's ``AssignLatePenalties``, configured as the course is, applied to one graded submission at a time."""

    def __init__(self, config, root: Path):
        # nbgrader runs in the course folder and imports a penalty plugin (late.SubMarks) from it; so do we.
        if str(root) not in sys.path:
            sys.path.append(str(root))
        try:  # a plugin that cannot be loaded stops the batch at its start, before anything is graded
            self.assigner = AssignLatePenalties(config=config)
            self.assigner.init_plugin()
        except Exception as error:
            raise SystemExit(f"Refusing to grade: the late penalty configured in {root / 'nbgrader_config.py'} "
                             f"(c.AssignLatePenalties.plugin_class, c.LateSubmissionPlugin) cannot be used: "
                             f"{error}") from error
        self.unreadable: dict[str, str] = {}  # student -> why their timestamp.txt gave no time

    def submission_fields(self, student: str, submitted_dir: Path) -> dict:
        """The gradebook submission's time from ``student``'s timestamp.txt: none to set when there is no file (as
        nbgrader does), cleared (and noted) when it gives no time, so that an earlier grading's time does not stay."""
        self.unreadable.pop(student, None)
        try:
            timestamp = read_timestamp(submitted_dir / TIMESTAMP_FILE)
        except UnreadableTimestamp as why:
            self.unreadable[student] = (f"{TIMESTAMP_FILE} gives no submission time ({why}): graded without a late "
                                        f"penalty; check when it was submitted (the exchange's inbound folder is "
                                        f"named with the time) and set a penalty in formgrader if it was late")
            return {"timestamp": None}
        return {"timestamp": timestamp} if timestamp else {}

    def assign(self, notebook, resources: dict) -> None:
        """Record the penalty of ``resources``' submission (graded already: the penalty depends on its score)."""
        self.assigner.preprocess(notebook, resources)

    def notes(self, gradebook: Gradebook, assignment: str, student: str) -> list[str]:
        """What the grader's summary says of a late submission ('submitted 6 h 51 min late: penalty 6') or of one
        whose timestamp.txt gave no time."""
        if student in self.unreadable:
            return [self.unreadable[student]]
        submission = gradebook.find_submission(assignment, student)
        late, penalty = submission.total_seconds_late, submission.late_submission_penalty
        return [f"submitted {lateness(late)} late: penalty {penalty:g}"] if late > 0 else []
