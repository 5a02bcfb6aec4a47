"""Student versions: nbgrader's generate_assignment writes notebooks/<id>/ from source/<id>/."""

import subprocess
import tempfile
import sys

from .course import Course


def release_student_version(course: Course, assignment_id: str) -> None:
    """Run ``nbgrader generate_assignment`` as an instructor would, without touching a gradebook.

    The gradebook is the instructor's (``nbgrader generate_assignment`` without ``--no-db``
    writes the same notebooks and records the assignment); building the repository must not
    create one.
    """
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment_id,
         "--force", "--no-db", "--log-level=WARN"],
        cwd=course.root, check=True,
    )


def record_in_gradebook(course_root, assignment_id: str) -> None:
    """Put an assignment (its cells and points) into the instructor's gradebook, leaving notebooks/ alone.

    nbgrader records an assignment while generating it; the student version goes to a
    throw-away folder because the committed one is built by ``make build``.
    """
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment_id, "--force",
             f"--CourseDirectory.release_directory={scratch}", "--log-level=WARN"],
            cwd=course_root, check=True,
        )
