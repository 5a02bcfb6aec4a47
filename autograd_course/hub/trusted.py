"""nbgrader's autograde, graded by the sandboxed grader: formgrader's Autograde button, ``nbgrader autograde`` and
nbgrader's API (``NbGraderAPI.autograde``, which the button calls) all run nbgrader's ``Autograde`` converter.

Its preprocessors are configurable: ``use_trusted_grader`` replaces the ones that execute the notebook (``Execute``,
``SaveAutoGrades`` ...) with ``TrustedAutograde``, which grades the submission with the course's trusted grader
(``autograd_course.grading.autograde``, what ``make autograde`` runs: sandbox, answer policy, evidence that each
test ran) and gives nbgrader the notebook that grader wrote. That grader also records the late penalty and marks a
flagged submission in formgrader's Flagged? column, as it does for ``make autograde``; nbgrader's metadata check still
runs after it. nbgrader itself never executes student code; where the sandbox cannot run, grading is refused.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import CheckCellMetadata, NbGraderPreprocessor

from ..grading.outcomes import OutcomeStore

GRADER = "autograd_course.grading.autograde"
REFUSED = 2  # the grader's exit status when the sandbox is unavailable


class TrustedGradingFailed(RuntimeError):
    """The trusted grader refused, rejected the submission or failed; the message says which and why."""


class TrustedAutograde(NbGraderPreprocessor):
    """Grades one submitted notebook with the trusted grader and returns the notebook it graded."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        student, assignment, notebook = info["student"], info["assignment"], info["notebook"]
        if notebook != assignment:
            raise TrustedGradingFailed(f"the trusted grader grades {assignment}/{assignment}.ipynb, one notebook "
                                       f"per assignment; {notebook}.ipynb is not graded")
        coursedir = self.parent.parent.coursedir  # the exporter's parent is nbgrader's Autograde
        root = Path(coursedir.root).resolve()
        run = subprocess.run([sys.executable, "-m", GRADER, assignment, "--student", student, "--force",
                              "--workers", "1", "--no-progress", "--root", str(root)],
                             cwd=root, capture_output=True, text=True)
        if run.returncode == REFUSED:
            raise TrustedGradingFailed(f"{run.stderr.strip()}\nGrade from a terminal with `make autograde "
                                       f"ASSIGNMENT={assignment}` once the sandbox works here.")
        outcome = OutcomeStore.of(root, assignment).recorded(student)
        if run.returncode != 0 or outcome is None or outcome.status in ("error", "rejected"):
            reason = outcome.reason if outcome else (run.stderr.strip() or run.stdout.strip())
            status = outcome.status if outcome else "failed"
            raise TrustedGradingFailed(f"the trusted grader {status} {student}'s {assignment}: {reason} "
                                       f"(scored {outcome.score if outcome else 0:g}; `make autograde "
                                       f"ASSIGNMENT={assignment}` prints the whole batch)")
        for finding in outcome.findings:
            self.log.warning("Integrity finding for %s (scored as flagged): %s", student, finding)
        graded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment)) / f"{assignment}.ipynb"
        self.log.info("Trusted grader: %s %s %g / %g", student, outcome.status, outcome.score, outcome.max_score)
        return nbformat.read(graded, as_version=nbformat.NO_CONVERT), resources


def use_trusted_grader(c) -> None:
    """Configure nbgrader's Autograde (``c``, an nbgrader_config.py's config) to grade through the trusted grader."""
    c.Autograde.autograde_preprocessors = [TrustedAutograde, CheckCellMetadata]
