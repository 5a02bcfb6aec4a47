"""Late penalties for the trusted grader, as nbgrader applies them.

The due date is the gradebook's (formgrader's assignment page, ``nbgrader db assignment add ID --duedate=...``), the
time of a submission its ``timestamp.txt`` (the exchange writes it at submit). The penalty is the one the course's
nbgrader_config.py configures: ``c.LateSubmissionPlugin.penalty_method = "zero"``, or a plugin of the instructor's
(``c.AssignLatePenalties.plugin_class = "late.SubMarks"``, a module in the course folder). nbgrader's own
``AssignLatePenalties`` computes it and records it in the gradebook beside the scores; nbgrader's export and
feedback then give ``score - penalty``, which ``penalised_score`` computes the same way.
"""

import sys
from pathlib import Path

from nbgrader.api import Gradebook, SubmittedAssignment
from nbgrader.preprocessors import AssignLatePenalties


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


class LatePenalty:
    """nbgrader's ``AssignLatePenalties``, configured as the course is, applied to one graded submission at a time."""

    def __init__(self, config, root: Path, db_url: str):
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
        self.db_url = db_url

    def assign(self, notebook, resources: dict) -> None:
        """Record the penalty of ``resources``' submission (graded already: the penalty depends on its score)."""
        self.assigner.preprocess(notebook, resources)

    def notes(self, assignment: str, student: str) -> list[str]:
        """What the grader's summary says of a late submission: 'submitted 6 h 51 min late: penalty 6'."""
        with Gradebook(self.db_url) as gradebook:
            submission = gradebook.find_submission(assignment, student)
            late, penalty = submission.total_seconds_late, submission.late_submission_penalty
        return [f"submitted {lateness(late)} late: penalty {penalty:g}"] if late > 0 else []
