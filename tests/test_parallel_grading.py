"""Grading in parallel: one worker or several, locally or on Dask, the same grades; nothing crosses submissions."""

import copy
import json
from pathlib import Path

import pytest

from autograd_course.grading.simulate import build_class
from conftest import COURSE
from grading_course import ASSIGNMENT, findings_said, grade, gradebook_scores, make_course, outcome, solved, submit

CLASS_ASSIGNMENTS = ["01_chain_rule", "03_partial_derivatives"]
STUDENTS = 12  # two of each kind of submission

# Starts a daemon that waits for the next submission's kernel in this folder, then kills every process it can.
SABOTEUR = """import os, signal, time
folder, first = os.getcwd(), open('.kernel.json').read()
if os.fork() == 0:
    os.setsid()
    while True:
        try:
            if open(folder + '/.kernel.json').read() != first:
                os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        time.sleep(0.005)
"""
HOST_KILLER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"


def records(root: Path) -> dict[tuple[str, str], tuple]:
    """(assignment, student) -> what was decided: status, score, findings."""
    found = {}
    for path in (root / "grading").glob("*/*.json"):
        record = json.loads(path.read_text())
        found[record["assignment"], record["student"]] = (record["status"], record["score"], record["findings"])
    return found


def graded_class(root: Path, *args: str):
    submissions = build_class(COURSE, root, STUDENTS, CLASS_ASSIGNMENTS)
    result = grade(root, *args, assignment=CLASS_ASSIGNMENTS)
    assert result.returncode == 0, result.stdout + result.stderr
    return submissions, result


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    root = tmp_path_factory.mktemp("one-worker")
    return root, *graded_class(root, "--workers", "1")


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-workers")
    return root, *graded_class(root, "--workers", "2")


def test_each_kind_of_submission_gets_its_grade(two_workers):
    root, submissions, _ = two_workers
    decided = records(root)
    for submission in submissions:
        status, score, findings = decided[submission.assignment, submission.student]
        expected = {"broken": "rejected", "hostile": "flagged"}.get(submission.kind, "graded")
        assert status == expected, submission
        if submission.kind in ("unanswered", "wrong", "broken", "hostile"):
            assert score == 0, submission
    for assignment in CLASS_ASSIGNMENTS:
        scores = {s.kind: gradebook_scores(root, assignment)[s.student] for s in submissions
                  if s.assignment == assignment}
        assert scores["correct"] > scores["partial"] > 0


def test_two_workers_grade_exactly_like_one(one_worker, two_workers):
    root, submissions, _ = two_workers
    assert records(root) == records(one_worker[0])
    assert len(records(root)) == len(submissions) == STUDENTS * len(CLASS_ASSIGNMENTS)


def test_progress_bar_and_summary_table(two_workers):
    _, submissions, result = two_workers
    total = len(submissions)
    assert f"{total}/{total}" in result.stderr  # tqdm: count, then rate and ETA
    assert "notebook/s" in result.stderr or "s/notebook" in result.stderr
    counts = f"{total - 8} graded, 4 flagged, 4 rejected, 0 error"
    assert counts in result.stdout
    assert f"{total} submissions in" in result.stdout and "with 2 worker(s)" in result.stdout


def test_dask_cluster_grades_exactly_like_the_local_pool(tmp_path, two_workers):
    from distributed import LocalCluster

    root, submissions, _ = two_workers
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote_root = tmp_path / "dask"
        _, result = graded_class(remote_root, "--scheduler", cluster.scheduler_address)
    assert records(remote_root) == records(root)
    for assignment in CLASS_ASSIGNMENTS:
        assert gradebook_scores(remote_root, assignment) == gradebook_scores(root, assignment)
    assert "with 2 worker(s)" in result.stdout


def test_a_submission_leaves_nothing_behind_for_the_next_one_in_its_worker(tmp_path):
    """One worker, in order: a daemon lying in wait for the next kernel, then one that kills the kernel host."""
    root = make_course(tmp_path)
    solved_notebook = solved(root)
    submit(root, "a_saboteur", _with_first_answer_prefixed(solved_notebook, SABOTEUR))
    submit(root, "b_honest", solved_notebook)
    submit(root, "c_host_killer", _with_first_answer_prefixed(solved_notebook, HOST_KILLER))
    submit(root, "d_honest", solved_notebook)
    result = grade(root, "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    for honest in ("b_honest", "d_honest"):
        assert (outcome(root, honest)["status"], outcome(root, honest)["score"]) == ("graded", 6), result.stdout
    assert outcome(root, "a_saboteur")["status"] == "flagged"
    killer = outcome(root, "c_host_killer")
    assert killer["status"] == "flagged" and killer["score"] == 0
    assert any("os.kill" in finding for finding in findings_said(killer))
    assert gradebook_scores(root) == {"a_saboteur": 0, "b_honest": 6, "c_host_killer": 0, "d_honest": 6}
    assert ASSIGNMENT in result.stdout


def _with_first_answer_prefixed(notebook, code: str):
    changed = copy.deepcopy(notebook)
    answer = next(cell for cell in changed.cells if cell.get("id") == "ex1_answer")
    answer.source = code + answer.source
    return changed
