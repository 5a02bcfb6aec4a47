"""The trusted grader on hostile submissions of 04, 11, 12 and 15 (tests/adversarial_judged.py), graded in one batch
beside each notebook's honest submission: every case scores exactly what it earned, with its reason, in the
gradebook, and the honest work keeps its full marks."""

import nbformat
import pytest

from adversarial_judged import FULL_MARKS, HOSTILE
from grading_course import findings_said, grade, gradebook_scores, make_course, outcome, solved, submit

HIDDEN = "### BEGIN HIDDEN TESTS"


def honest_id(assignment: str) -> str:
    return f"honest-{assignment[:2]}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("judged-corpus")
    for assignment in FULL_MARKS:
        make_course(root, assignment, shipped=False)
        solved_notebook = solved(root, assignment)
        submit(root, honest_id(assignment), solved_notebook, assignment)
        for case in HOSTILE:
            if case.assignment == assignment:
                submit(root, case.name, case.build(solved_notebook), assignment)
    result = grade(root, assignment=list(FULL_MARKS), cell_timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
def test_case_scores_what_it_earned_with_its_reason(graded, case):
    recorded = outcome(graded, case.name, case.assignment)
    said = " ".join([recorded["reason"], *recorded["notes"], *findings_said(recorded)])
    assert (recorded["status"], recorded["score"]) == (case.status, case.score), said
    assert gradebook_scores(graded, case.assignment)[case.name] == case.score
    assert case.reason in said


@pytest.mark.parametrize("assignment", FULL_MARKS)
def test_honest_work_beside_them_keeps_full_marks(graded, assignment):
    recorded = outcome(graded, honest_id(assignment), assignment)
    assert (recorded["status"], recorded["score"], recorded["findings"]) == ("graded", FULL_MARKS[assignment], [])
    assert gradebook_scores(graded, assignment)[honest_id(assignment)] == FULL_MARKS[assignment]


@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
def test_no_hidden_test_line_is_in_the_outputs(graded, case):
    source = nbformat.read(graded / "source" / case.assignment / f"{case.assignment}.ipynb", as_version=4)
    hidden = {line.strip() for test in source.cells if HIDDEN in test.source
              for line in test.source.split(HIDDEN, 1)[1].splitlines() if line.strip().startswith("check")}
    autograded = nbformat.read(graded / "autograded" / case.name / case.assignment / f"{case.assignment}.ipynb",
                               as_version=4)
    printed = "\n".join(text for cell in autograded.cells for output in cell.get("outputs", [])
                        for text in [output.get("text", ""), *output.get("data", {}).values(),
                                     *output.get("traceback", [])] if isinstance(text, str))
    assert hidden and not [line for line in hidden if line in printed]
