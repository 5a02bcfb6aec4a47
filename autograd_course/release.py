"""Student versions: nbgrader's generate_assignment writes notebooks/<id>/ from source/<id>/."""

import subprocess
import sys
import tempfile
from pathlib import Path

from .course import Course


def generate_assignment(course_root: Path, assignment_id: str, *options: str) -> None:
    """``nbgrader generate_assignment`` in the course folder, as an instructor would run it."""
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment_id, "--force", *options,
         "--log-level=WARN"],
        cwd=course_root, check=True,
    )


def release_student_version(course: Course, assignment_id: str) -> None:
    """Write notebooks/<id>/ without touching a gradebook.

    The gradebook is the instructor's (``nbgrader generate_assignment`` without ``--no-db``
    writes the same notebooks and records the assignment); building the repository must not
    create one.
    """
    generate_assignment(course.root, assignment_id, "--no-db")


def record_in_gradebook(course_root: Path, assignment_id: str) -> None:
    """Put an assignment (its cells and points) into the instructor's gradebook, leaving notebooks/ alone.

    nbgrader records an assignment while generating it; the student version goes to a
    throw-away folder because the committed one is built by ``make build``.
    """
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        generate_assignment(course_root, assignment_id, f"--CourseDirectory.release_directory={scratch}")
