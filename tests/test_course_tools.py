"""The course package's own pieces: teaching checks and the finite-difference reference."""

import math

import nbformat
import pytest
import torch

from autograd_course.checks import (AnswerMismatch, RuleBroken, answer_of, expect_close, expect_equal, expect_finite,
                                    expect_rule, expect_true, hint_for)
from autograd_course.numeric import central_difference
from autograd_course.rules import AutogradCalls, MarkedSine, ready_made_callers
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
        "f'(5.47): expected 0.8281, got 0.5.", "Hint: use the chain rule"]


def test_expect_close_prints_enough_digits_to_show_the_difference():
    first = message_of(expect_close, torch.tensor(0.30549), 0.3055, what="f(x)", hint="h", rtol=1e-6, atol=0)[0]
    assert first == "f(x): expected 0.3055, got 0.30549."
    first = message_of(expect_close, torch.tensor([[1.0, 2.0], [3.0, 4.0]]), [[1, 2], [3, 4.5]], what="J", hint="h")[0]
    assert first == "J: expected tensor([[1, 2], [3, 4.5]]), got tensor([[1, 2], [3, 4]])."
    first = message_of(expect_close, torch.arange(10.0), torch.arange(10.0) + 1, what="v", hint="h")[0]
    assert first == "v: expected tensor of shape (10,): [1, 2, 3, 4, 5, 6, 7, 8, …], got tensor of shape (10,): " \
                    "[0, 1, 2, 3, 4, 5, 6, 7, …] (at index (0,): expected 1, got 0)."
    late = torch.ones(3, 4)
    late[2, 3] = float("nan")
    first = message_of(expect_close, late, torch.ones(3, 4), what="g", hint="h")[0]
    assert first.endswith("(at index (2, 3): expected 1, got nan).")


def test_a_failure_renders_as_its_message_without_the_traceback():
    with pytest.raises(AnswerMismatch) as failure:
        expect_close(torch.tensor(0.5), 0.8281, what="f'(5.47)", hint="use the chain rule")
    lines = failure.value._render_traceback_()
    assert lines[:2] == ["\x1b[31mAnswerMismatch\x1b[0m: f'(5.47): expected 0.8281, got 0.5.", "Hint: use the chain rule"]
    assert "%tb verbose" in lines[2] and len(lines) == 3


def test_an_answer_that_raised_says_so_in_plain_words():
    def broken(x):
        return [1, 2][x]

    assert answer_of(broken, 1, what="broken(1)") == 2
    assert message_of(answer_of, broken, 5, what="broken(5)", hint="h") == [
        "broken(5): your code raised IndexError: list index out of range", "Hint: h"]


def test_torchs_own_hint_in_an_error_does_not_read_as_the_exercises_hint():
    def modified_in_place(x):
        y = torch.tanh(torch.tensor(x, requires_grad=True))
        y += 1
        y.sum().backward()

    lines = message_of(answer_of, modified_in_place, [1.0], what="case", hint="tanh saves its output")
    assert [line.startswith("Hint:") for line in lines] == [False, True] and lines[-1] == "Hint: tanh saves its output"
    assert "torch suggests: enable anomaly detection" in lines[0]


def test_an_error_picks_the_hint_that_names_it_and_warnings_stay_off_stderr(capfd):
    def backward_twice(x):
        y = torch.tensor(x, requires_grad=True) ** 2
        y.backward()
        y.backward()

    hints = (("a second time", "pass retain_graph=True to the first backward()"), ("shape", "check the shapes"))
    assert message_of(answer_of, backward_twice, 2.0, what="twice(2.0)", hints=hints)[-1] == (
        "Hint: pass retain_graph=True to the first backward()")

    def warns():
        leaf = torch.ones(2, requires_grad=True)
        return (leaf * 2).grad  # reading .grad of a non-leaf warns

    assert answer_of(warns, what="warns()") is None
    assert capfd.readouterr().err == ""


def test_an_unanswered_cell_is_not_reported_as_an_error_of_the_answer():
    def unanswered():
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        answer_of(unanswered, what="unanswered()")


def test_hint_for_names_the_first_mistake_the_answer_shows():
    mistakes = [(torch.tensor([1.0, 2.0]), "doubled"), (lambda got: bool((got < 0).any()), "negative"),
                (torch.tensor([0.5, 1.0001]), "close only with its own tolerance", 1e-3)]
    assert hint_for(torch.tensor([1.0, 2.0]), mistakes, "other") == "doubled"
    assert hint_for(torch.tensor([-1.0, 2.0]), mistakes, "other") == "negative"
    assert hint_for(torch.tensor([0.5, 1.0]), mistakes, "other") == "close only with its own tolerance"
    assert hint_for(torch.tensor([7.0, 7.0]), mistakes, "other") == "other"
    assert hint_for("not a number", mistakes, "other") == "other"
    assert hint_for(torch.tensor(1e-9), [(0.0, "zero")], "other", atol=1e-12) == "other"


def test_marked_sine_tells_autograd_from_finite_differences():
    x = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    MarkedSine.apply(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.cos(x.detach()) + 1)
    slope = central_difference(lambda t: MarkedSine.apply(t).sum(), x.detach())
    torch.testing.assert_close(slope, torch.cos(x.detach()))


def test_ready_made_callers_sees_a_helper_on_the_stack():
    seen = []
    torch.func.grad(lambda t: seen.append(ready_made_callers({"torch._functorch": "torch.func"})) or t.sin())(
        torch.tensor(1.0))
    assert seen == [{"torch.func"}] and ready_made_callers({"torch._functorch": "torch.func"}) == set()


def test_a_broken_rule_names_the_rule():
    expect_rule(True, what="f", rule="r", got="g", hint="h")
    with pytest.raises(RuleBroken) as failure:
        expect_rule(False, what="derivative(2.0)", rule="no backward()", got="called backward() 1 time", hint="h")
    assert str(failure.value).splitlines()[0] == (
        "derivative(2.0): the exercise's rule is no backward(), but your code called backward() 1 time.")


def test_autograd_calls_sees_every_way_to_ask_for_a_backward_pass():
    from torch.autograd import grad as renamed_grad

    def f(t):
        return torch.sin(t**2).sum()

    leaf = torch.tensor([1.0, 2.0], requires_grad=True)
    with AutogradCalls() as calls:
        f(leaf).backward()
        renamed_grad(f(leaf), leaf)
        torch.func.grad(f)(leaf.detach())
        torch.autograd.functional.jacobian(lambda t: torch.sin(t), leaf.detach())
    assert calls.calls == {"backward()": 1, "torch.autograd.grad": 4}
    assert calls.backward_passes == 5 and calls.summary() == "called backward() 1 time, torch.autograd.grad 4 times"
    with AutogradCalls() as calls:
        (f(leaf + 1e-3) - f(leaf)) / 1e-3
    assert calls.backward_passes == 0 and "no backward pass" in calls.summary()


@pytest.mark.parametrize("got, shown", [
    (None, "got NoneType None."),
    ("0.8281", "got str '0.8281'."),
    (True, "got bool True."),
    (torch.tensor(float("nan")), "got nan."),
])
def test_expect_close_rejects_non_numbers_and_nan(got, shown):
    assert message_of(expect_close, got, 0.8281, what="x", hint="h")[0].endswith(shown)


def test_expect_close_names_a_shape_mismatch():
    first = message_of(expect_close, torch.zeros(3), [0.0, 0.0], what="grad", hint="h")[0]
    assert first == "grad: expected shape (2,) (tensor([0, 0])), got shape (3,) (tensor([0, 0, 0]))."


def test_expect_close_can_require_a_tensor():
    first = message_of(expect_close, 6.0, 6.0, what="grad", hint="h", require_tensor=True)[0]
    assert first == "grad: expected a torch.Tensor close to 6, got float 6.0."


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
