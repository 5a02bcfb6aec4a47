"""A throw-away instructor course for grading tests: assignments, submissions, the grader, its records."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from autograd_course.grading.findings import Finding
from conftest import COURSE
from notebook_cells import answered

ASSIGNMENT = "01_chain_rule"
SHIPPED = "data.txt"
SHIPPED_TEXT = "1.0 2.0 3.0\n"
# nbgrader's own API, as formgrader's buttons call it.
GENERATE_AND_AUTOGRADE = """\
import sys
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

api = NbGraderAPI(config=PyFileConfigLoader("nbgrader_config.py", path=".").load_config())
for item in sys.argv[1:]:  # an assignment id to generate, or "assignment_id/student" to autograde
    assignment_id, _, student = item.partition("/")
    if student:
        result = api.autograde(assignment_id, student, force=True, create=True)
    else:
        result = api.generate_assignment(assignment_id, force=True, create=True)
    if not result["success"]:
        sys.exit(f"{item} failed:\\n{result.get('log', '')}\\n{result['error']}")
"""


def make_course(root: Path, assignment: str = ASSIGNMENT, shipped: bool = True) -> Path:
    """An instructor's course folder with (one more) assignment: by default 01, shipping a data file."""
    shutil.copy(COURSE.root / "nbgrader_config.py", root)
    for folder in ("source", "notebooks"):
        shutil.copytree(COURSE.root / folder / assignment, root / folder / assignment)
        if shipped:
            (root / folder / assignment / SHIPPED).write_text(SHIPPED_TEXT)
    return root


def student_version(root: Path, assignment: str = ASSIGNMENT) -> Path:
    return root / "notebooks" / assignment / f"{assignment}.ipynb"


def solved(root: Path, assignment: str = ASSIGNMENT, exercises=None):
    """The student version with the reference answers typed in (only those of ``exercises`` when given)."""
    return answered(student_version(root, assignment), root / "source" / assignment / f"{assignment}.ipynb",
                    exercises)


def submit(root: Path, student: str, content, assignment: str = ASSIGNMENT) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    target = folder / f"{assignment}.ipynb"
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        nbformat.write(content, target)


def grade(root: Path, *args: str, assignment: str | list[str] = ASSIGNMENT, cell_timeout: int = 20,
          **kwargs) -> subprocess.CompletedProcess:
    """``python -m autograd_course.grading.autograde`` on one assignment or a list of them."""
    assignments = [assignment] if isinstance(assignment, str) else assignment
    return subprocess.run([sys.executable, "-m", "autograd_course.grading.autograde", *assignments, "--root",
                           str(root), "--cell-timeout", str(cell_timeout), *args], capture_output=True, text=True,
                          **kwargs)


def outcome(root: Path, student: str, assignment: str = ASSIGNMENT) -> dict:
    return json.loads((root / "grading" / assignment / f"{student}.json").read_text())


def findings_said(recorded: dict) -> list[str]:
    """An outcome's findings (records) as integrity.md and the grader's summary render them."""
    return [str(Finding.from_record(record)) for record in recorded["findings"]]


def gradebook_scores(root: Path, assignment: str = ASSIGNMENT) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "autograd-course") as gradebook:
        return {submission.student.id: submission.score
                for submission in gradebook.find_assignment(assignment).submissions}


def nbgrader_api(root: Path, items: list[str]) -> None:
    """One nbgrader process for every item: generate_assignment of an id, or autograde of "id/student"."""
    subprocess.run([sys.executable, "-c", GENERATE_AND_AUTOGRADE, *items], cwd=root, check=True, timeout=1200)
