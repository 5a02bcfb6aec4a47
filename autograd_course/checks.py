"""Assertions for test cells whose failures teach.

A failing check raises ``AnswerMismatch`` with at most two lines: what was expected and
what the student's code gave, then a hint. IPython skips the frames marked ``__tracebackhide__``,
so the traceback shows the test line, the one ``raise`` in ``fail`` and then the message.
"""

from numbers import Real

import torch


class AnswerMismatch(AssertionError):
    """A test-cell failure that says what was expected, what came, and how to look again."""


def fail(what: str, expected: str, got: str, hint: str) -> None:
    __tracebackhide__ = True
    raise AnswerMismatch(f"{what}: expected {expected}, got {got}.\nHint: {hint}")


def describe(value: object) -> str:
    """How a value looks to a student: tensors as torch prints them, without the graph."""
    if isinstance(value, torch.Tensor):
        return repr(value.detach())
    return repr(value)


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


def expect_close(got, expected, *, what: str, hint: str, rtol: float = 1e-4, atol: float = 1e-6,
                 require_tensor: bool = False) -> None:
    """Pass when ``got`` is numerically ``expected`` (same shape, all finite, within tolerance)."""
    __tracebackhide__ = True
    want = torch.as_tensor(expected, dtype=torch.float64)
    shown = describe(want.to(torch.float32)) if want.ndim else f"{want.item():.4f}"
    if require_tensor and type(got) not in TENSOR_TYPES:
        fail(what, f"a torch.Tensor close to {shown}", f"{type(got).__name__} {describe(got)}", hint)
    actual = as_float64(got)
    if actual is None:
        fail(what, shown, f"{type(got).__name__} {describe(got)}", hint)
    if actual.shape != want.shape:
        fail(what, f"shape {tuple(want.shape)} ({shown})", f"shape {tuple(actual.shape)} ({describe(got)})", hint)
    if not bool(torch.isfinite(actual).all()) or not torch.allclose(actual, want, rtol=rtol, atol=atol):
        fail(what, shown, describe(got), hint)


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


__all__ = ["AnswerMismatch", "expect_close", "expect_equal", "expect_finite", "expect_true"]
