"""The course package's own pieces: teaching checks and the finite-difference reference."""

import math

import nbformat
import pytest
import torch

from autograd_course.checks import AnswerMismatch, expect_close, expect_equal, expect_finite, expect_true
from autograd_course.numeric import central_difference
from autograd_course.solutions import merge_streams


def message_of(check, *args, **kwargs) -> list[str]:
    with pytest.raises(AnswerMismatch) as failure:
        check(*args, **kwargs)
    return str(failure.value).splitlines()


def test_expect_close_passes_within_tolerance_and_accepts_graphs():
    x = torch.tensor(3.0, requires_grad=True)
    expect_close(x * 2, 6.0000001, what="2x", hint="-")
    expect_close(torch.tensor([1.0, 2.0]), [1.0, 2.0], what="v", hint="-", require_tensor=True)


def test_expect_close_says_expected_got_and_hint_in_two_lines():
    assert message_of(expect_close, torch.tensor(0.5), 0.8281, what="f'(5.47)", hint="use the chain rule") == [
        "f'(5.47): expected 0.8281, got tensor(0.5000).", "Hint: use the chain rule"]


@pytest.mark.parametrize("got, shown", [
    (None, "got NoneType None."),
    ("0.8281", "got str '0.8281'."),
    (True, "got bool True."),
    (torch.tensor(float("nan")), "got tensor(nan)."),
])
def test_expect_close_rejects_non_numbers_and_nan(got, shown):
    assert message_of(expect_close, got, 0.8281, what="x", hint="h")[0].endswith(shown)


def test_expect_close_names_a_shape_mismatch():
    first = message_of(expect_close, torch.zeros(3), [0.0, 0.0], what="grad", hint="h")[0]
    assert first == "grad: expected shape (2,) (tensor([0., 0.])), got shape (3,) (tensor([0., 0., 0.]))."


def test_expect_close_can_require_a_tensor():
    first = message_of(expect_close, 6.0, 6.0, what="grad", hint="h", require_tensor=True)[0]
    assert first == "grad: expected a torch.Tensor close to 6.0000, got float 6.0."


def test_expect_equal_checks_type_and_value():
    expect_equal(True, True, what="flag", hint="h")
    assert message_of(expect_equal, 1, True, what="flag", hint="h")[0] == "flag: expected True, got 1."


def test_expect_finite_and_expect_true():
    expect_finite(torch.tensor([1.0, -2.0]), what="grad", hint="h")
    assert message_of(expect_finite, torch.tensor([1.0, math.inf]), what="grad", hint="h")[0] == (
        "grad: expected finite values (no nan, no inf), got tensor([1., inf]).")
    assert message_of(expect_true, 1 == 2, what="w", expected="e", got="g", hint="h") == ["w: expected e, got g.", "Hint: h"]


@pytest.mark.parametrize("function, point", [
    (lambda t: torch.exp(torch.sin(t**2)), torch.tensor(5.47, dtype=torch.float64)),
    (lambda t: (t**2).mean(), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)),
    (lambda t: torch.sigmoid(t @ torch.tensor([[0.5], [-1.5]], dtype=torch.float64)).sum(),
     torch.tensor([[0.3, 0.2], [-1.0, 2.0]], dtype=torch.float64)),
])
def test_central_difference_matches_autograd(function, point):
    leaf = point.clone().requires_grad_(True)
    function(leaf).backward()
    torch.testing.assert_close(central_difference(function, point), leaf.grad, rtol=1e-7, atol=1e-9)


def test_recorded_streams_are_merged_so_a_rerun_records_the_same_file():
    cell = nbformat.v4.new_code_cell("print('a'); print('b')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a"),
                    nbformat.v4.new_output("stream", name="stdout", text="\nb\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="c\n")]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert [(out.name, out.text) for out in merge_streams(notebook).cells[0].outputs] == [
        ("stdout", "a\nb\n"), ("stderr", "warning\n"), ("stdout", "c\n")]
