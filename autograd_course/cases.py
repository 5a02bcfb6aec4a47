"""A test cell's checks as cases judged from the values an answer returned, in the kernel or outside it.

A ``Check`` is one kind of case of an exercise. It has two halves:

- ``observe(answer, *inputs)`` runs in the kernel: it calls the student's answer on the case's inputs and returns
  what the answer gave (its return values, and facts such as how many backward passes it asked for);
- ``judge(seen, *inputs, **options)`` runs anywhere: from those values, as plain data (``values``), and the
  inputs it computes the expected values itself and raises ``AnswerMismatch`` with a message that teaches.

A test cell is a few calls such as ``check_chain_rule(chain_rule_derivative, 5.47)``. In the kernel such a call
observes, then judges what it observed *after* a round trip through plain data, so the student sees exactly the
verdict and message the grader computes outside. When the grader runs a notebook, every call also publishes its
values (``record``); the grader reads them from the test cell's outputs, judges them outside the sandbox with
expected values that never entered it, and removes them. The hidden calls of a test cell reach the kernel as
``check.record(answer, *inputs)``: they only observe and publish, so neither their expected values nor their
messages exist in the kernel.
"""

import warnings
from dataclasses import dataclass
from typing import Callable

from .checks import RAISED_HINT, TENSOR_TYPES, AnswerMismatch, raised_message
from .record import publish
from .values import Raised, decode, encode


def returned(function, *args, **kwargs):
    """What ``function(*args, **kwargs)`` returned, or ``Raised`` for the exception it raised instead.

    ``NotImplementedError`` (an answer cell not yet answered) is raised on, so that the cell fails as unanswered.
    Warnings the answer raises are kept off stderr, where nbgrader would count them as a failed test.
    """
    try:
        with warnings.catch_warnings(record=True):
            return function(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as error:
        try:
            said = str(error)
        except Exception:  # an exception whose message itself raises still fails the case, with its type
            said = "(a message that could not be shown)"
        return Raised(type(error).__name__, said)


def snapshot(value):
    """``value`` as it is now: a copy of a tensor, which later calls of the answer cannot change."""
    return value.detach().clone() if type(value) in TENSOR_TYPES else value


def expect_returned(got, *, what: str, hint: str = RAISED_HINT, hints: tuple[tuple[str, str], ...] = ()) -> None:
    """Pass unless the answer raised: then say what it raised, with the hint of ``checks.answer_of``."""
    __tracebackhide__ = True
    if type(got) is Raised:
        raise AnswerMismatch(raised_message(what, got.type, got.message, hint, hints))


@dataclass(frozen=True)
class Check:
    """One kind of case: ``observe`` in the kernel, ``judge`` on the values it saw (see the module's docstring)."""

    name: str
    observe: Callable[..., dict]
    judge: Callable[..., None]

    def seen(self, answer, *inputs) -> dict:
        """Observe, send the values out when the grader runs the notebook, and return them as the grader gets them."""
        sent = {key: encode(value) for key, value in self.observe(answer, *inputs).items()}
        publish({"check": self.name, "inputs": [encode(value) for value in inputs], "seen": sent})
        return {key: decode(value) for key, value in sent.items()}

    def __call__(self, answer, *inputs, **options) -> None:
        __tracebackhide__ = True
        self.judge(self.seen(answer, *inputs), *inputs, **options)

    def record(self, answer, *inputs) -> None:
        """A hidden case in the kernel: observed and sent, judged only outside."""
        self.seen(answer, *inputs)


def verdict(check: Check, seen: dict, inputs: tuple, options: dict) -> str | None:
    """``None`` when the case passes, else the message its test would show."""
    try:
        check.judge(seen, *inputs, **options)
    except AnswerMismatch as mismatch:
        return str(mismatch)
    except Exception as error:  # values no answer returns honestly: the case fails, the batch goes on
        return f"the grader could not judge the values this case returned ({type(error).__name__}: {error})"
    return None


__all__ = ["Check", "expect_returned", "returned", "snapshot", "verdict"]
