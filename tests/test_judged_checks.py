"""Each judged notebook's checks on the misconception corpus, without a kernel: the same verdicts and hints.

For every case of ``tests/corpus/<id>.py`` the notebook's locked cells and the case's answers run in this
process; then every call of every test cell (visible and hidden, read by the grader's ``test_calls``) observes the
answer, sends its values through plain data and is judged by ``cases.verdict``, as the grader judges them outside
the kernel. A correct answer passes every case; a mistake fails its test cell with its hint and no other.
"""

import contextlib
import statistics
import warnings

import matplotlib
import nbformat
import pytest
import torch

from autograd_course.cases import verdict
from autograd_course.checks import same_value
from autograd_course.exercises import checks_of
from autograd_course.grading.test_calls import cases_of
from autograd_course.values import decode, encode
from conftest import ASSIGNMENTS, COURSE
from misconceptions import Correct, Flagged, Mistake, load, with_answers
from notebook_cells import grade_cells, nbgrader

JUDGED = [assignment for assignment in ASSIGNMENTS if checks_of(assignment) is not None]
# A broken answer rule is the policy's to find before anything runs (test_misconceptions), not the checks'.
CASES = [(assignment, case) for assignment in JUDGED for case in load(assignment) if not isinstance(case, Flagged)]


def source(assignment: str):
    return nbformat.read(COURSE.source_notebook(assignment), as_version=4)


def run_locked_cells_and_answers(notebook) -> dict:
    """The notebook's namespace after every code cell but the test cells, as a kernel would leave it (a cell tagged
    ``raises-exception`` stops where it raises)."""
    matplotlib.use("Agg")
    namespace: dict = {}
    # A kernel is new for every notebook, so torch's warn-once warnings (09 records one) come in each run: here too.
    warned_always = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        for cell in notebook.cells:
            if cell.cell_type == "code" and not nbgrader(cell).get("grade"):
                raises = "raises-exception" in cell.metadata.get("tags", [])
                with warnings.catch_warnings(), contextlib.suppress(*[Exception] if raises else []):
                    warnings.simplefilter("ignore")
                    exec(compile(cell.source, cell.id, "exec"), namespace)
    finally:
        torch.set_warn_always(warned_always)
    return namespace


def first_failures(assignment: str, notebook) -> dict[str, str | None]:
    """Each test cell's first failing message (None when every case passes), as the grader judges it."""
    checks, namespace = checks_of(assignment), run_locked_cells_and_answers(notebook)
    failures = {}
    for cell in grade_cells(notebook):
        failures[nbgrader(cell)["grade_id"]] = None
        for case in cases_of(cell.source):
            check = getattr(checks, case.check)
            seen = check.seen(namespace[case.answer], *case.inputs)
            message = verdict(check, seen, case.inputs, case.options)
            if message is not None:
                failures[nbgrader(cell)["grade_id"]] = message
                break
    return failures


@pytest.mark.parametrize("assignment", JUDGED)
def test_reference_answers_pass_every_case(assignment):
    assert first_failures(assignment, source(assignment)) == {
        nbgrader(cell)["grade_id"]: None for cell in grade_cells(source(assignment))}


@pytest.mark.parametrize("assignment, case", CASES, ids=[f"{assignment}-{case.name}" for assignment, case in CASES])
def test_corpus_case_gets_its_verdict_and_hint(assignment, case):
    failures = first_failures(assignment, with_answers(source(assignment), case))
    if isinstance(case, Correct):
        assert failures == dict.fromkeys(failures), failures
        return
    assert isinstance(case, Mistake)
    assert failures[case.fails] is not None, f"{case.name} ({case.why}) passed {case.fails}"
    assert case.hint in failures[case.fails], f"{case.name}: hint {case.hint!r} not in {failures[case.fails]!r}"
    assert {cell: message for cell, message in failures.items() if cell != case.fails} == dict.fromkeys(
        cell for cell in failures if cell != case.fails)


@pytest.mark.parametrize("assignment", JUDGED)
def test_every_cases_inputs_survive_plain_data(assignment):
    """The grader matches the values a case sends against its inputs read from the cell: inputs that plain data
    does not bring back equal would fail an honest answer once graded, though every check above passed them."""
    cases = [case for cell in grade_cells(source(assignment)) for case in cases_of(cell.source)]
    assert cases
    for case in cases:
        assert same_value(decode(encode(case.inputs)), case.inputs), case


def visible_lengths(notebook) -> list[int]:
    """Non-blank lines of each test cell as the student sees it (the hidden block removed)."""
    student = [cell.source.split("### BEGIN HIDDEN TESTS")[0] for cell in grade_cells(notebook)]
    return [sum(bool(line.strip()) for line in text.splitlines()) for text in student]


@pytest.mark.parametrize("assignment", JUDGED)
def test_visible_test_cells_are_a_few_lines_of_calls(assignment):
    lengths = visible_lengths(source(assignment))
    assert max(lengths) <= 12 and statistics.median(lengths) <= 6, lengths
