"""What make autograde records in nbgrader's gradebook beside the scores, as plain nbgrader autograde does: late
penalties (the gradebook's due date, each submission's timestamp.txt, the penalty the course's nbgrader_config.py
configures) and formgrader's Flagged? column for the submissions the integrity check flagged. Scores are read back
as nbgrader itself reports them: its export (grades.csv, what make export writes) and formgrader's API."""

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.preprocessors import SaveAutoGrades

from adversarial_corpus import CASES
from autograd_course.course import this_course
from autograd_course.grading.batch import TrustedAutograder
from autograd_course.grading.gradebook_writer import SaveAutoGradesOnce, copy_other_files
from autograd_course.grading.late_penalty import UnreadableTimestamp, read_timestamp
from autograd_course.grading.sandbox import Unconfined
from grading_course import ASSIGNMENT, grade, make_course, outcome, solved, submit

COURSE = this_course()
DUE = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
# Each student's submission: its timestamp (as nbgrader's exchange writes it into timestamp.txt) and its work.
SUBMISSIONS = {"ada": (DUE - timedelta(hours=1), "honest_complete"),
               "bob": (DUE + timedelta(hours=6, minutes=51), "honest_complete"),
               "mallory": (DUE - timedelta(minutes=5), "patch_torch_allclose")}
ONE_POINT_PER_DAY = '''\
import math
from nbgrader.plugins import BasePlugin


class OnePointPerDayStarted(BasePlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return math.ceil(total_seconds_late / 86400)
'''
# formgrader's "Manage submissions" of a notebook, the page with the Flagged? column, asks nbgrader's API for this.
FORMGRADER_NOTEBOOK_SUBMISSIONS = f"""\
import json
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

api = NbGraderAPI(config=PyFileConfigLoader("nbgrader_config.py", path=".").load_config())
rows = api.get_notebook_submissions("{ASSIGNMENT}", "{ASSIGNMENT}")
print(json.dumps({{row["student"]: row["flagged"] for row in rows}}))
"""


def nbgrader(root, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def configure(root, *lines: str) -> None:
    with open(root / "nbgrader_config.py", "a") as config:
        config.write("\n" + "\n".join(lines) + "\n")


def exported(root) -> dict[str, dict[str, float]]:
    """grades.csv as nbgrader's export writes it: per student, the raw score, the late penalty and the score."""
    nbgrader(root, "export")
    with open(root / "grades.csv", newline="") as table:
        return {row["student_id"]: {key: float(row[key]) for key in ("raw_score", "late_submission_penalty", "score")}
                for row in csv.DictReader(table)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("late"), shipped=False)
    configure(root, 'c.LateSubmissionPlugin.penalty_method = "zero"')
    nbgrader(root, "db", "assignment", "add", ASSIGNMENT, f"--duedate={DUE:%Y-%m-%d %H:%M:%S} UTC")
    honest = solved(root)
    for student, (submitted_at, case) in SUBMISSIONS.items():
        submit(root, student, next(c for c in CASES if c.name == case).build(honest, root))
        (root / "submitted" / student / ASSIGNMENT / "timestamp.txt").write_text(
            f"{submitted_at:%Y-%m-%d %H:%M:%S.%f} UTC")
    run = grade(root)
    assert run.returncode == 0, run.stdout + run.stderr
    return root


def test_a_submission_late_under_the_zero_penalty_scores_zero_as_in_plain_nbgrader(graded):
    assert exported(graded) == {"ada": {"raw_score": 6.0, "late_submission_penalty": 0.0, "score": 6.0},
                                "bob": {"raw_score": 6.0, "late_submission_penalty": 6.0, "score": 0.0},
                                "mallory": {"raw_score": 0.0, "late_submission_penalty": 0.0, "score": 0.0}}
    late = outcome(graded, "bob")
    assert (late["status"], late["score"], late["max_score"]) == ("graded", 0.0, 6.0)
    assert "submitted 6 h 51 min late: penalty 6" in late["notes"]
    assert not any("late" in note for note in outcome(graded, "ada")["notes"])


def test_a_penalty_plugin_of_the_instructors_subtracts_what_it_says(graded, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(graded, root)
    (root / "late.py").write_text(ONE_POINT_PER_DAY)
    configure(root, 'c.AssignLatePenalties.plugin_class = "late.OnePointPerDayStarted"')
    run = grade(root, "--student", "bob", "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    assert exported(root)["bob"] == {"raw_score": 6.0, "late_submission_penalty": 1.0, "score": 5.0}
    assert outcome(root, "bob")["score"] == 5.0


def test_a_penalty_plugin_that_cannot_be_loaded_stops_the_batch_before_grading(graded, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(graded, root)
    configure(root, 'c.AssignLatePenalties.plugin_class = "late.NoSuchPlugin"')
    before = outcome(root, "bob")
    run = grade(root, "--student", "bob", "--force")
    assert run.returncode != 0
    assert "late.NoSuchPlugin" in run.stderr and "AssignLatePenalties.plugin_class" in run.stderr, run.stderr
    assert outcome(root, "bob") == before and exported(root)["bob"]["score"] == 0.0, "a grade was lost"


def test_formgraders_flagged_column_shows_what_the_integrity_check_flagged(graded):
    shown = subprocess.run([sys.executable, "-c", FORMGRADER_NOTEBOOK_SUBMISSIONS], cwd=graded, capture_output=True,
                           text=True, timeout=300, check=True)
    assert json.loads(shown.stdout) == {"ada": False, "bob": False, "mallory": True}
    assert outcome(graded, "mallory")["status"] == "flagged"


def test_a_garbled_timestamp_is_graded_without_a_time_and_says_so(graded, tmp_path):
    """Plain nbgrader stops the batch ("Invalid timestamp string"); here the late submission is graded (the time of
    its earlier grading is not kept), its outcome and the summary say its time is unknown, nothing else changes."""
    root = tmp_path / "course"
    shutil.copytree(graded, root)
    (root / "submitted" / "bob" / ASSIGNMENT / "timestamp.txt").write_bytes(b"\xff\xfe next tuesday")
    run = grade(root, "--student", "bob", "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    assert exported(root) == {"ada": {"raw_score": 6.0, "late_submission_penalty": 0.0, "score": 6.0},
                              "bob": {"raw_score": 6.0, "late_submission_penalty": 0.0, "score": 6.0},
                              "mallory": {"raw_score": 0.0, "late_submission_penalty": 0.0, "score": 0.0}}
    note = "timestamp.txt gives no submission time"
    assert any(note in line for line in outcome(root, "bob")["notes"])
    assert note in run.stdout + run.stderr
    assert not any(note in line for line in outcome(root, "ada")["notes"])


@pytest.mark.parametrize("make, why", [
    (lambda path: path.symlink_to("/etc/hostname"), "not a regular file"),
    (lambda path: os.mkfifo(path), "not a regular file"),  # opening a FIFO would wait for a writer forever
    (lambda path: path.mkdir(), "not a regular file"),
    (lambda path: path.write_bytes(b"2026-12-01 12:00:00 UTC" * 20), "longer than a time"),
    (lambda path: path.write_bytes(b"\x00\xff"), "not a time")])
def test_a_timestamp_that_is_not_a_readable_time_is_refused_with_its_reason(tmp_path, make, why):
    path = tmp_path / "timestamp.txt"
    make(path)
    with pytest.raises(UnreadableTimestamp, match=why):
        read_timestamp(path)


def test_a_missing_or_empty_timestamp_is_no_time_and_a_valid_one_is_read_as_utc(tmp_path):
    path = tmp_path / "timestamp.txt"
    assert read_timestamp(path) is None
    path.write_text("\n")
    assert read_timestamp(path) is None
    path.write_text("2026-12-01 19:51:00.000000 CET")
    assert read_timestamp(path) == datetime(2026, 12, 1, 18, 51)


def test_make_reports_class_scores_are_after_late_penalties_and_say_so(graded, tmp_path):
    """ada 6 on time, bob 6 raw but 6 h 51 min late under "zero" (0), mallory flagged (0): the class's mean is 2 and
    its median 0, not the raw 4 and 6; the exercises keep bob's points (a penalty is on the whole assignment)."""
    output = tmp_path / "report"
    run = subprocess.run([sys.executable, "-m", "autograd_course.report", ASSIGNMENT, "--root", str(graded),
                          "--output", str(output)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    found = json.loads((output / ASSIGNMENT / "report.json").read_text())
    assert found["scores"] == {"mean": 2.0, "median": 0.0, "count": 3}
    assert found["late_penalised"] == 1 and found["scores_are"].startswith("after late penalties")
    graded_at = {b["low"]: b["counts"].get("graded", 0) for b in found["histogram"]}
    assert (graded_at[0.0], graded_at[6.0]) == (1, 1)  # bob's 0 in the distribution beside ada's 6
    assert all(centre["count"] == 2 and centre["mean"] > 0 for centre in found["exercise_scores"].values())
    page = (output / ASSIGNMENT / "index.html").read_text()
    assert "Scores are after late penalties (1 submission penalised)" in page


def test_the_autograded_folder_gets_the_students_regular_files_and_no_link_or_fifo(tmp_path):
    submitted, target = tmp_path / "submitted", tmp_path / "autograded"
    (submitted / "data" / ".ipynb_checkpoints").mkdir(parents=True)
    (submitted / "timestamp.txt").write_text("2026-12-01 12:00:00 UTC")
    (submitted / "data" / "points.csv").write_text("1,2\n")
    (submitted / "data" / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("{}")
    (submitted / f"{ASSIGNMENT}.ipynb").write_text("{}")
    (submitted / "shadow").symlink_to("/etc/shadow")  # root can read it; the student cannot
    (submitted / "everything").symlink_to("/")
    os.mkfifo(submitted / "pipe")
    target.mkdir()
    copy_other_files(submitted, target)
    copied = sorted(str(path.relative_to(target)) for path in target.rglob("*"))
    assert copied == ["data", "data/points.csv", "timestamp.txt"]
    assert (target / "data" / "points.csv").read_text() == "1,2\n"


def gradebook_rows(db_url: str, student: str) -> dict[str, tuple]:
    with Gradebook(db_url) as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {**{grade.name: (grade.auto_score, grade.needs_manual_grade) for grade in notebook.grades},
                **{f"comment {comment.name}": comment.auto_comment for comment in notebook.comments}}


@pytest.mark.parametrize("student", ["ada", "mallory"])
def test_the_one_commit_save_writes_the_rows_nbgraders_save_autogrades_writes(graded, tmp_path, student):
    """SaveAutoGradesOnce against nbgrader's SaveAutoGrades, each from the same stale rows (scores cleared, comments
    set, one cell graded by hand so that it needs a review) and the same graded notebook, with one answer left as
    released (its comment: "No response.")."""
    graded_notebook = nbformat.read(graded / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    released = nbformat.read(COURSE.student_notebook(ASSIGNMENT), 4)
    unanswered = next(cell for cell in released.cells if cell.metadata.get("nbgrader", {}).get("solution"))
    graded_notebook.cells = [unanswered if cell.metadata.get("nbgrader", {}).get("grade_id") ==
                             unanswered.metadata.nbgrader.grade_id else cell for cell in graded_notebook.cells]
    rows = {}
    for save in (SaveAutoGrades, SaveAutoGradesOnce):
        db = tmp_path / f"{save.__name__}.db"
        shutil.copy(graded / "gradebook.db", db)
        url = f"sqlite:///{db}"
        with Gradebook(url) as gradebook:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            for grade in notebook.grades:
                grade.auto_score, grade.needs_manual_grade = None, True
            notebook.grades[0].manual_score = 0.5
            for comment in notebook.comments:
                comment.auto_comment = "stale"
            gradebook.db.commit()
        resources = {"nbgrader": {"notebook": ASSIGNMENT, "assignment": ASSIGNMENT, "student": student, "db_url": url}}
        if save is SaveAutoGrades:
            save().preprocess(graded_notebook, resources)
        else:
            with Gradebook(url) as gradebook:
                save(gradebook).preprocess(graded_notebook, resources)
        rows[save] = gradebook_rows(url, student)
    assert rows[SaveAutoGradesOnce] == rows[SaveAutoGrades]
    assert "No response." in rows[SaveAutoGrades].values() and "stale" not in rows[SaveAutoGrades].values()


def test_the_batchs_one_gradebook_holds_no_lock_between_submissions(graded, tmp_path):
    """The grader keeps one gradebook connection for a batch: between two submissions' writes another writer (formgrader
    saving a manual score) gets the database at once, and what it wrote stays after the grader's next write."""
    root = tmp_path / "course"
    shutil.copytree(graded, root)
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        marked = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ada").grades[0].id
    writer = TrustedAutograder(root, ASSIGNMENT, Unconfined()).gradebook
    graded_notebook = nbformat.read(root / "autograded" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    assert writer.save_grades("ada", graded_notebook, root / "submitted" / "ada" / ASSIGNMENT, flagged=True) == (6, 6)
    formgrader = sqlite3.connect(root / "gradebook.db", timeout=0)  # "database is locked" at once if a lock is held
    formgrader.execute("BEGIN IMMEDIATE")
    formgrader.execute("UPDATE grade SET manual_score = 0.5 WHERE id = ?", (marked,))
    formgrader.commit()
    writer.save_rejection("bob", root / "submitted" / "bob" / ASSIGNMENT)
    formgrader.execute("BEGIN IMMEDIATE")
    formgrader.rollback()
    writer.close()
    with Gradebook(db_url) as gradebook:
        ada = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ada")
        assert ada.flagged and next(grade for grade in ada.grades if grade.id == marked).manual_score == 0.5
        assert gradebook.find_submission(ASSIGNMENT, "bob").score == 0
