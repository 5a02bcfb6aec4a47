"""Assertions for test cells whose failures teach.

A failing check raises ``AnswerMismatch`` with at most two lines: which case ran, what was
expected and what the student's code gave, then a hint. In JupyterLab the exception renders
itself as just those lines (IPython's ``_render_traceback_`` protocol), not as a traceback
through the course package; ``%tb verbose`` in a new cell shows the full traceback.
"""

import warnings
from numbers import Real

import torch

FULL_TRACEBACK = "\x1b[2m(the full traceback: run %tb verbose in a new cell)\x1b[0m"


class AnswerMismatch(AssertionError):
    """A test-cell failure that says what was expected, what came, and how to look again."""

    def _render_traceback_(self) -> list[str]:
        from IPython import get_ipython  # only a kernel renders tracebacks; the package must import without it

        shell = get_ipython()
        if shell is not None and shell.InteractiveTB.mode == "Verbose":
            return shell.InteractiveTB.structured_traceback(type(self), self, self.__traceback__)
        first, *rest = str(self).splitlines()
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {first}", *rest, FULL_TRACEBACK]


class RuleBroken(AnswerMismatch):
    """The answer computed something, but not the way the exercise asks (and the way is the lesson)."""


def fail(what: str, expected: str, got: str, hint: str) -> None:
    __tracebackhide__ = True
    raise AnswerMismatch(f"{what}: expected {expected}, got {got}.\nHint: {hint}")


def break_rule(what: str, rule: str, got: str, hint: str) -> None:
    __tracebackhide__ = True
    raise RuleBroken(f"{what}: the exercise's rule is {rule}, but your code {got}.\nHint: {hint}")


def describe(value: object) -> str:
    """How a value looks to a student: tensors as torch prints them, without the graph."""
    if isinstance(value, torch.Tensor):
        return repr(value.detach())
    return repr(value)


MAX_SHOWN = 8  # numbers shown of a larger tensor; the rest is elided


def numbers(values: torch.Tensor, digits: int) -> str:
    """``values`` with ``digits`` significant digits, nested like torch prints them (0-d as a bare number)."""
    def nested(part) -> str:
        if isinstance(part, list):
            return "[" + ", ".join(map(nested, part)) + "]"
        return f"{part:.{digits}g}"

    if values.ndim == 0:
        return nested(values.item())
    if values.numel() <= MAX_SHOWN:
        return f"tensor({nested(values.detach().tolist())})"
    first = ", ".join(map(nested, values.detach().flatten()[:MAX_SHOWN].tolist()))
    return f"tensor of shape {tuple(values.shape)}: [{first}, …]"


def distinguishing_pair(want: torch.Tensor, got: torch.Tensor) -> tuple[str, str]:
    """Both values with the fewest digits (at least 5) that show how they differ."""
    for digits in range(5, 18):
        pair = numbers(want, digits), numbers(got, digits)
        if pair[0] != pair[1]:
            return pair
    return pair


def worst_element(want: torch.Tensor, got: torch.Tensor) -> int:
    """Flat index of the element furthest from what was expected (a nan or inf counts as furthest)."""
    error = (got - want).abs().flatten()
    return int(torch.nan_to_num(error, nan=torch.inf).argmax())


# Exactly these types: a subclass could answer comparisons with whatever it likes.
TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)


def as_float64(value: object) -> torch.Tensor | None:
    """``value`` as a float64 tensor, or None when it is not a number or a plain numeric tensor."""
    if type(value) in TENSOR_TYPES and not value.is_complex():
        return torch.Tensor.to(torch.Tensor.detach(value), torch.float64)
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        return torch.tensor(number, dtype=torch.float64) if type(number) is float else None
    return None


def same_value(got: object, expected: object) -> bool:
    """Equality that trusts no ``__eq__`` but those of the built-in types, element by element."""
    if type(got) is not type(expected):
        return False
    if isinstance(expected, (tuple, list)):
        return len(got) == len(expected) and all(map(same_value, got, expected))
    if isinstance(expected, dict):
        return got.keys() == expected.keys() and all(same_value(got[key], expected[key]) for key in expected)
    return got == expected


RAISED_HINT = "call your function on this input in a new cell to see where it fails"


def answer_of(function, *args, what: str, hint: str = RAISED_HINT, hints: tuple[tuple[str, str], ...] = (),
              **kwargs):
    """``function(*args, **kwargs)``, the student's code, run so that whatever it does the test can teach.

    An exception fails the test in plain words, with the hint of the first ``(fragment, hint)`` in ``hints`` whose
    fragment the error's message contains, else ``hint``. Warnings the answer raises are kept off stderr, where
    nbgrader would count them as a failed test.
    """
    __tracebackhide__ = True
    try:
        with warnings.catch_warnings(record=True):
            return function(*args, **kwargs)
    except (AnswerMismatch, NotImplementedError):  # an unanswered cell: validate names it as such
        raise
    except Exception as error:
        raise AnswerMismatch(raised_message(what, type(error).__name__, str(error), hint, hints)) from error


def raised_message(what: str, error_type: str, said: str, hint: str = RAISED_HINT,
                   hints: tuple[tuple[str, str], ...] = ()) -> str:
    """What a test says when the answer raised ``error_type`` with message ``said`` (see ``answer_of``)."""
    chosen = next((text for fragment, text in hints if fragment in said), hint)
    # torch ends some messages with a "Hint: ..." of its own; one "Hint:" line, the one for this exercise, is clearer.
    said = said.replace("Hint: ", "torch suggests: ")
    return f"{what}: your code raised {error_type}: {said}\nHint: {chosen}"


def hint_for(got, known_mistakes, otherwise: str, *, rtol: float = 1e-4, atol: float = 1e-6) -> str:
    """The hint of the first known mistake that ``got`` shows, else ``otherwise``.

    A mistake is ``(what it returns, hint)``, optionally with a third item, its own relative tolerance,
    or ``(predicate, hint)`` where the predicate gets ``got`` as a float64 tensor. Only plain tensors and numbers
    are compared: anything else gets ``otherwise``.
    """
    actual = as_float64(got)
    if actual is None:
        return otherwise
    for mistaken, hint, *own_rtol in known_mistakes:
        if callable(mistaken):
            if mistaken(actual):
                return hint
            continue
        mistaken = torch.as_tensor(mistaken, dtype=torch.float64)
        if actual.shape == mistaken.shape and torch.allclose(actual, mistaken, rtol=own_rtol[0] if own_rtol else rtol,
                                                             atol=atol, equal_nan=True):
            return hint
    return otherwise


def expect_close(got, expected, *, what: str, hint: str, rtol: float = 1e-4, atol: float = 1e-6,
                 require_tensor: bool = False) -> None:
    """Pass when ``got`` is numerically ``expected`` (same shape, all finite, within tolerance)."""
    __tracebackhide__ = True
    want = torch.as_tensor(expected, dtype=torch.float64)
    shown = numbers(want, 5)
    if require_tensor and type(got) not in TENSOR_TYPES:
        fail(what, f"a torch.Tensor close to {shown}", f"{type(got).__name__} {describe(got)}", hint)
    actual = as_float64(got)
    if actual is None:
        fail(what, shown, f"{type(got).__name__} {describe(got)}", hint)
    if actual.shape != want.shape:
        fail(what, f"shape {tuple(want.shape)} ({shown})", f"shape {tuple(actual.shape)} ({numbers(actual, 5)})", hint)
    if not bool(torch.isfinite(actual).all()) or not torch.allclose(actual, want, rtol=rtol, atol=atol):
        expected_text, got_text = distinguishing_pair(want, actual)
        if want.numel() > MAX_SHOWN:
            worst = worst_element(want, actual)
            at = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), want.shape))
            pair = distinguishing_pair(want.flatten()[worst], actual.flatten()[worst])
            got_text += f" (at index {at}: expected {pair[0]}, got {pair[1]})"
        fail(what, expected_text, got_text, hint)


def expect_equal(got, expected, *, what: str, hint: str) -> None:
    """Pass when ``got == expected`` for plain values (bools, strings, tuples of them)."""
    __tracebackhide__ = True
    if not same_value(got, expected):
        fail(what, describe(expected), describe(got), hint)


def expect_finite(got, *, what: str, hint: str) -> None:
    """Pass when every element of ``got`` is a finite number (no nan, no inf)."""
    __tracebackhide__ = True
    actual = as_float64(got)
    if actual is None or not bool(torch.isfinite(actual).all()):
        fail(what, "finite values (no nan, no inf)", describe(got), hint)


def expect_true(condition: bool, *, what: str, expected: str, got: str, hint: str) -> None:
    """Pass when ``condition`` holds; the caller describes both sides in words."""
    __tracebackhide__ = True
    if condition is not True:
        fail(what, expected, got, hint)


def expect_rule(condition: bool, *, what: str, rule: str, got: str, hint: str) -> None:
    """Pass when the answer kept the exercise's ``rule``; ``got`` says what the code did instead."""
    __tracebackhide__ = True
    if condition is not True:
        break_rule(what, rule, got, hint)


__all__ = ["AnswerMismatch", "RuleBroken", "answer_of", "expect_close", "expect_equal", "expect_finite",
           "expect_rule", "expect_true", "hint_for"]
