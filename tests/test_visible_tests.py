"""A visible test already fails for the common mistakes (issue 23): the student learns before grading.

In every notebook, every misconception of the corpus (but those named below) fails the visible calls of its
test cell (the part above ``### BEGIN HIDDEN TESTS``), with the hint grading gives it, judged as in test_judged_checks.
"""

import pytest

import test_judged_checks as judged
from autograd_course.cases import verdict
from autograd_course.exercises import checks_of
from autograd_course.grading.test_calls import cases_of
from conftest import ASSIGNMENTS
from misconceptions import Mistake, load, with_answers
from notebook_cells import grade_cells, nbgrader

HIDDEN = "### BEGIN HIDDEN TESTS"
# Answers fitted to the visible case (its value returned for every input): only the hidden tests can catch them.
FITTED_TO_THE_VISIBLE_CASE = {("01_chain_rule", "ex1-hard-coded"), ("04_mlp_nan_diagnosis", "ex2-float32-hard-coded")}
CASES = [(assignment, case) for assignment in ASSIGNMENTS for case in load(assignment) if isinstance(case, Mistake)
         and (assignment, case.name) not in FITTED_TO_THE_VISIBLE_CASE]


def visible_failure(assignment: str, case: Mistake) -> str | None:
    """The first failing message of the visible calls of the case's test cell, None when they all pass."""
    notebook = with_answers(judged.source(assignment), case)
    checks, namespace = checks_of(assignment), judged.run_locked_cells_and_answers(notebook)
    cell = next(cell for cell in grade_cells(notebook) if nbgrader(cell)["grade_id"] == case.fails)
    for call in cases_of(cell.source.split(HIDDEN)[0]):
        check = getattr(checks, call.check)
        message = verdict(check, check.seen(namespace[call.answer], *call.inputs), call.inputs, call.options)
        if message is not None:
            return message
    return None


@pytest.mark.parametrize("assignment, case", CASES, ids=[f"{assignment}-{case.name}" for assignment, case in CASES])
def test_the_visible_test_catches_the_mistake_with_its_hint(assignment, case):
    message = visible_failure(assignment, case)
    assert message is not None, f"{case.name} ({case.why}) passes the visible {case.fails}"
    assert case.hint in message, f"{case.name}: hint {case.hint!r} not in {message!r}"
