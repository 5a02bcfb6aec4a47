"""A whole semester through nbgrader's own exchange, with the trusted grader in the middle.

nbgrader's exchange names a submission after the operating-system user who submits it. Each
student command runs in a bubblewrap user namespace where its uid is that student's, with a
passwd file that names it, so two students can submit from one machine account.
"""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from conftest import COURSE
from notebook_cells import answered

ASSIGNMENT = "01_chain_rule"
COURSE_ID = "autograd-course"
STUDENTS = {"alice": None, "bob": {"ex1"}}  # alice answers everything, bob only exercise 1


# Above login.defs' UID_MAX (60000), so useradd never gives a real account (a hub test's, running beside this one)
# the uid nbgrader looks up to name the submission.
FIRST_UID = 62001


def as_user(tmp_path, user: str) -> list[str]:
    uid = FIRST_UID + sorted(STUDENTS).index(user)
    passwd = tmp_path / f"passwd.{user}"
    # The student's line first: getpwuid reads the file in order.
    passwd.write_text(f"{user}:x:{uid}:{uid}:{user}:{tmp_path / user}:/bin/sh\n" + Path("/etc/passwd").read_text())
    return ["bwrap", "--dev-bind", "/", "/", "--unshare-user", "--uid", str(uid), "--gid", str(uid),
            "--ro-bind", str(passwd), "/etc/passwd", "--"]


def test_release_fetch_submit_collect_grade_feedback_export(tmp_path):
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)  # nbgrader's exchange is a world-writable drop box
    course.mkdir()
    shutil.copy(COURSE.root / "nbgrader_config.py", course)
    shutil.copytree(COURSE.source_dir / ASSIGNMENT, course / "source" / ASSIGNMENT)
    exchange_option = f"--Exchange.root={exchange}"

    def nbgrader(*args, cwd, user=None):
        identity = as_user(tmp_path, user) if user else []
        # Each student has a home of their own: nbgrader keeps a student's submission cache there.
        env = {**os.environ, "HOME": str(cwd), "JUPYTER_DATA_DIR": str(cwd / ".jupyter")} if user else None
        subprocess.run([*identity, sys.executable, "-m", "nbgrader", *args, exchange_option, "--log-level=WARN"],
                       cwd=cwd, env=env, check=True)

    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course)
    nbgrader("release_assignment", ASSIGNMENT, "--force", cwd=course)

    for student, exercises in STUDENTS.items():
        home = tmp_path / student
        home.mkdir()
        nbgrader("fetch_assignment", ASSIGNMENT, f"--course={COURSE_ID}", cwd=home, user=student)
        fetched = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        nbformat.write(answered(fetched, COURSE.source_notebook(ASSIGNMENT), exercises), fetched)
        nbgrader("submit", ASSIGNMENT, f"--course={COURSE_ID}", cwd=home, user=student)

    nbgrader("collect", ASSIGNMENT, cwd=course)
    grading = subprocess.run([sys.executable, "-m", "autograd_course.grading.autograde", ASSIGNMENT,
                              "--root", str(course)], capture_output=True, text=True)
    assert grading.returncode == 0, grading.stdout + grading.stderr
    nbgrader("generate_feedback", ASSIGNMENT, cwd=course)
    nbgrader("release_feedback", ASSIGNMENT, cwd=course)

    for student in STUDENTS:
        home = tmp_path / student
        nbgrader("fetch_feedback", ASSIGNMENT, f"--course={COURSE_ID}", cwd=home, user=student)
        feedback = list((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(feedback) == 1
        assert "BEGIN HIDDEN TESTS" not in feedback[0].read_text()

    nbgrader("export", cwd=course)
    with open(course / "grades.csv") as table:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(table)}
    assert scores == {"alice": 6.0, "bob": 3.0}
