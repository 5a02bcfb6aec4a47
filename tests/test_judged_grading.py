"""Judging outside the kernel, piece by piece: values as plain data, test cells as calls, the judge's verdicts."""

import math
import types

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograd_course.cases import Check, returned
from autograd_course.checks import expect_close
from autograd_course.grading.findings import Finding
from autograd_course.grading.judge import Judge
from autograd_course.grading.test_calls import Case, NotJudged, cases_of, kernel_version
from autograd_course.record import RECORD_MIME
from autograd_course.values import BadValue, Opaque, Raised, TooLarge, decode, encode


# -- values ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
                                   torch.int64, torch.uint8, torch.bool])
def test_a_tensor_comes_back_bit_for_bit(dtype):
    original = (torch.arange(12, dtype=torch.float64).reshape(3, 4) / 7 - 0.5).to(dtype)
    back = decode(encode(original))
    assert type(back) is torch.Tensor and back.dtype == dtype and back.shape == (3, 4) and torch.equal(back, original)
    assert torch.equal(decode(encode(torch.tensor(0.25))), torch.tensor(0.25))  # 0-d
    assert decode(encode(torch.ones(0, 3))).shape == (0, 3)


def test_plain_values_come_back_as_themselves():
    values = [None, True, 3, 0.1, math.inf, "x³", (1.5, [2, None]), Raised("RuntimeError", "boom")]
    assert [decode(encode(value)) for value in values] == values
    assert math.isnan(decode(encode(math.nan)))
    requires_grad = torch.tensor(2.0, requires_grad=True) * 3
    assert torch.equal(decode(encode(requires_grad)), torch.tensor(6.0))


def test_anything_else_is_only_its_name_and_a_capped_repr():
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    for value in (torch.tensor(1.0).as_subclass(Liar), object(), {"a": 1}, 2 + 3j):
        back = decode(encode(value))
        assert isinstance(back, Opaque) and back.type == type(back).__name__ == type(value).__name__
    assert len(decode(encode("y" * 10**6))) <= 2_001
    assert type(decode(encode(torch.zeros(2**19)))) is TooLarge


@pytest.mark.parametrize("data", [
    "tensor", [], {"kind": "pickle", "data": "gASVAAAA"}, {"kind": "tensor", "dtype": "object", "shape": [], "data": ""},
    {"kind": "tensor", "dtype": "float32", "shape": [2], "data": "AAAAAA=="},  # 4 bytes for 8
    {"kind": "tensor", "dtype": "float32", "shape": [-1], "data": ""}, {"kind": "float", "value": "one"},
    {"kind": "int", "value": "1"}, {"kind": "tuple", "items": [{"kind": "none"}] * 65}])
def test_anything_that_is_not_an_encoded_value_is_refused(data):
    with pytest.raises(BadValue):
        decode(data)


# -- test cells as calls ---------------------------------------------------------------------------
CELL = '''# the visible case
check_double(double, 1.5)
### BEGIN HIDDEN TESTS
# a secret comment
check_double(double, -4.0, otherwise="a hint only the grader holds")
### END HIDDEN TESTS
'''


def test_a_test_cell_is_read_as_its_cases_in_order():
    assert cases_of(CELL) == [Case("check_double", "double", (1.5,)),
                              Case("check_double", "double", (-4.0,), {"otherwise": "a hint only the grader holds"},
                                   hidden=True)]


def test_the_kernel_gets_the_hidden_calls_as_inputs_only():
    assert kernel_version(CELL) == "# the visible case\ncheck_double(double, 1.5)\ncheck_double.record(double, -4.0)\n"


@pytest.mark.parametrize("statement", ["for x in (1, 2):\n    check_double(double, x)", "check_double(lambda x: x, 1)",
                                       "check_double(double, math.pi)", "check_double(double, **options)",
                                       "assert double(1) == 2"])
def test_a_test_cell_that_is_not_calls_with_literal_inputs_is_refused(statement):
    with pytest.raises(NotJudged):
        cases_of(statement)


# -- the judge -------------------------------------------------------------------------------------
def judge_double(seen, x, otherwise="twice x"):
    expect_close(seen["got"], 2 * x, what=f"double({x})", hint=otherwise)


CHECKS = types.ModuleType("checks_of_a_test")
CHECKS.check_double = Check("check_double", lambda answer, x: {"got": returned(answer, x)}, judge_double)


def source_notebook():
    cell = new_code_cell(CELL, id="ex1_tests", metadata={"nbgrader": {"grade": True, "grade_id": "ex1_tests",
                                                                         "points": 1}})
    return new_notebook(cells=[new_code_cell("x = 1", id="setup"), cell])


def run(outputs_of_test: list, outputs_of_setup: tuple = ()) -> nbformat.NotebookNode:
    """The source notebook as the kernel gave it back, with these outputs."""
    notebook = source_notebook()
    notebook.cells[0].outputs, notebook.cells[1].outputs = list(outputs_of_setup), outputs_of_test
    return nbformat.reads(nbformat.writes(notebook), as_version=4)  # as the grader reads the run


def record(x, got, check="check_double"):
    data = {"check": check, "inputs": [encode(x)], "seen": {"got": encode(got)}}
    return new_output("display_data", data={RECORD_MIME: data})


def errors(cell) -> list[str]:
    return [output.evalue for output in cell.outputs if output.output_type == "error"]


def judged(notebook) -> tuple[list[str], list[str]]:
    findings = Judge(source_notebook(), CHECKS).judge(notebook)
    assert not any(RECORD_MIME in output.get("data", {}) for cell in notebook.cells for output in cell.outputs)
    return findings, errors(notebook.cells[1])


def test_right_values_pass_and_their_records_are_removed():
    notebook = run([record(1.5, 3.0), record(-4.0, torch.tensor(-8.0))], outputs_of_setup=[record(1.5, 3.0)])
    assert judged(notebook) == ([], [])
    assert notebook.cells[0].outputs == []


def test_a_wrong_hidden_value_fails_the_cell_with_the_hidden_hint():
    findings, messages = judged(run([record(1.5, 3.0), record(-4.0, 8.0)]))
    assert findings == [] and messages == ["double(-4.0): expected -8, got 8.\nHint: a hint only the grader holds"]


def test_a_kernel_pass_that_the_values_contradict_scores_nothing_and_is_a_finding():
    findings, messages = judged(run([record(1.5, 0.0), record(-4.0, -8.0)]))
    assert messages == ["double(1.5): expected 3, got 0.\nHint: twice x"]
    assert findings == [Finding("ex1_tests", 0, "the kernel reported it passed, but a visible case fails when its "
                                "values are judged outside it")]


@pytest.mark.parametrize("outputs, said", [
    ([record(1.5, 3.0)], "received values for 1 of its 2 cases"),
    ([record(1.5, 3.0)] * 3, "received values for 3 of its 2 cases"),
    ([record(-4.0, -8.0), record(1.5, 3.0)], "not for the case check_double(1.5,)"),
    ([record(1.5, 3.0, check="check_triple"), record(-4.0, -8.0)], "are for check_triple"),
    ([new_output("display_data", data={RECORD_MIME: {"check": "check_double"}}), record(-4.0, -8.0)], "malformed"),
    ([], "received values for 0 of its 2 cases")])
def test_missing_extra_reordered_or_malformed_records_after_a_pass_are_a_finding(outputs, said):
    findings, messages = judged(run(outputs))
    assert len(messages) == 1 and said in messages[0] and findings == [
        Finding("ex1_tests", 0, "the kernel reported it passed, but the values it sent out do not match its cases")]


def test_a_cell_the_kernel_failed_is_left_as_it_failed():
    failed = new_output("error", ename="AnswerMismatch", evalue="double(1.5): expected 3, got 0.", traceback=[])
    assert judged(run([record(1.5, 0.0), failed])) == ([], ["double(1.5): expected 3, got 0."])


def test_a_notebook_without_a_module_of_checks_is_not_judged():
    assert Judge.for_assignment("99_not_judged", source_notebook()) is None
