"""The checks of 01_chain_rule: ``chain_rule_derivative`` (exercise 1) and ``autograd_derivative`` (exercise 2).

Every expected value is a float64 central difference (``numeric``), independent of autograd and of the formula;
a wrong value that matches a known mistake gets the hint that names it.
"""

import math

import torch

from ..cases import Check, expect_returned, returned, snapshot
from ..checks import expect_close, expect_rule, hint_for
from ..numeric import central_difference
from ..rules import AutogradCalls, MarkedSine


def composite(t):
    return torch.exp(torch.sin(t**2))


# Formulas students write by mistake, with the hint that names each: a wrong answer that matches one gets that hint.
CHAIN_RULE_SLIPS = (
    (lambda t: torch.exp(torch.sin(t**2)) * torch.cos(t**2),
     "the inner factor dy/dx = 2x is missing: multiply by the derivative of x² too"),
    (lambda t: torch.exp(torch.sin(t**2)) * 2 * t,
     "the middle factor dz/dy = cos(x²) is missing: sin has a derivative too"),
    (lambda t: -torch.exp(torch.sin(t**2)) * torch.cos(t**2) * 2 * t,
     "the sign is flipped: the derivative of sin is +cos (it is cos whose derivative is -sin)"),
    (lambda t: torch.exp(torch.sin(t**2)) * torch.cos(t) * 2 * t,
     "evaluate cos at y = x², not at x: each local derivative is taken at its own input"),
    (lambda t: torch.exp(torch.cos(t**2)) * 2 * t,
     "keep e^sin(x²) unchanged (e^z is its own derivative) and multiply it by the derivative of the exponent"),
    (lambda t: torch.exp(torch.sin(t)**2) * 2 * torch.sin(t) * torch.cos(t),
     "sin(x²) is the sine of x squared, not (sin x)²"),
    (lambda t: torch.exp(torch.sin(t**2)) + torch.cos(t**2) + 2 * t,
     "the chain rule multiplies the local derivatives; it does not add them"),
)
THREE_FACTORS = "multiply the three local derivatives du/dz · dz/dy · dy/dx (section 3.3)"


def chain_rule_hint(got, point, otherwise):
    """The hint for the slip ``got`` matches at ``point``, or ``otherwise``."""
    if type(got) is not torch.Tensor:
        return "return a torch.Tensor: use torch functions, or wrap a number in torch.tensor(...)"
    exact = torch.tensor(point, dtype=torch.float64)
    return hint_for(got, [(slip(exact), hint) for slip, hint in CHAIN_RULE_SLIPS], otherwise)


def observe_chain_rule(answer, point):
    with AutogradCalls() as calls:
        got = returned(answer, point)
    return {"got": got, "backward_passes": calls.backward_passes, "calls": calls.summary()}


def judge_chain_rule(seen, point, otherwise=THREE_FACTORS):
    case, got = f"chain_rule_derivative({point})", seen["got"]
    expect_returned(got, what=case)
    expect_rule(seen["backward_passes"] == 0, what=case, rule="the chain-rule formula, with no backward pass",
                got=seen["calls"], hint="write du/dz · dz/dy · dy/dx as a formula in x, as in section 3.3")
    expect_close(got, central_difference(composite, point), what=case, require_tensor=True,
                 hint=chain_rule_hint(got, point, otherwise))


check_chain_rule = Check("check_chain_rule", observe_chain_rule, judge_chain_rule)


# The functions exercise 2's cases differentiate, by the name a message shows.
FUNCTIONS = {
    "sin(x²)": lambda t: torch.sin(t**2),
    "x³": lambda t: t**3,
    "tanh(x)·x": lambda t: torch.tanh(t) * t,
    "exp(sin(x²))": composite,
}
RAISED = ("'does not require grad' means the leaf needs requires_grad=True; 'must be Tensor, not float' means "
          "f needs a tensor: call f on the leaf, not on the float x")
FIRST_CALL = "create torch.tensor(x, requires_grad=True), call f on it, then .backward() and return .grad"
SECOND_CALL = ("your first call was right, this second one is not: the .grad of a reused leaf adds up over backward() "
               "calls; make a new leaf tensor inside the function on every call")
CHANGED_FIRST = ("a later call changed the tensor the first call returned: both are the .grad of one reused leaf; "
                 "make a new leaf tensor inside the function on every call")


def autograd_hint(got, f, point, otherwise):
    """A hint naming what ``got`` is when it is a recognisable wrong thing, else ``otherwise``."""
    if got is None:
        return "the .grad you returned was None: call backward() on f(leaf) before reading leaf.grad"
    if type(got) is not torch.Tensor:
        return "return the tensor leaf.grad itself, not a Python number (no .item(), no float())"
    exact = torch.tensor(point, dtype=torch.float64)
    return hint_for(got, [(f(exact), "you returned f(x), the value; the derivative is in the leaf's .grad after backward()"),
                          (exact, "you returned x itself; the derivative is in the leaf's .grad after backward()")],
                    otherwise)


def expect_derivative(got, name, point, otherwise):
    case, f = f"autograd_derivative({name}, {point})", FUNCTIONS[name]
    expect_returned(got, what=case, hint=RAISED)
    expect_close(got, central_difference(f, point), what=case, require_tensor=True,
                 hint=autograd_hint(got, f, point, otherwise))


def observe_derivative(answer, name, point):
    return {"got": returned(answer, FUNCTIONS[name], point)}


def judge_derivative(seen, name, point, otherwise="differentiate the f you are given, at the x you are given"):
    expect_derivative(seen["got"], name, point, otherwise)


check_derivative = Check("check_derivative", observe_derivative, judge_derivative)


def observe_repeated_calls(answer):
    """sin(x²) at 5.47, then at 1.5, then x³ at 5.47 again (an input seen before, another f); and the first result
    again, after the later calls."""
    first = returned(answer, FUNCTIONS["sin(x²)"], 5.47)
    first_then = snapshot(first)
    second = snapshot(returned(answer, FUNCTIONS["sin(x²)"], 1.5))
    again = returned(answer, FUNCTIONS["x³"], 5.47)
    return {"first": first_then, "second": second, "same x again": again, "first_after_second": first}


def same_x_again_hint(got):
    """What an answer that keeps something per x returns when x = 5.47 comes again, with another f."""
    exact = torch.tensor(5.47, dtype=torch.float64)
    earlier, wanted = 2 * exact * torch.cos(exact**2), 3 * exact**2
    return hint_for(got, [(earlier, "you returned the derivative of sin(x²), the first call's f, for f = x³: "
                                    "differentiate the f you are given on every call, not one remembered or written "
                                    "for sin(x²)"),
                          (earlier + wanted, "the .grad of a leaf kept per x adds up over calls with the same x: make "
                                             "a new leaf tensor inside the function on every call")],
                    "x = 5.47 came a second time, with another f: give each call its own answer")


def judge_repeated_calls(seen):
    expect_derivative(seen["first"], "sin(x²)", 5.47, FIRST_CALL)
    expect_derivative(seen["second"], "sin(x²)", 1.5, SECOND_CALL)
    expect_derivative(seen["same x again"], "x³", 5.47, same_x_again_hint(seen["same x again"]))
    expect_close(seen["first_after_second"], seen["first"], hint=CHANGED_FIRST,
                 what="the result of autograd_derivative(sin(x²), 5.47), after the later calls")


check_repeated_calls = Check("check_repeated_calls", observe_repeated_calls, judge_repeated_calls)

MARKED_CASE = "autograd_derivative(f, 0.5) for an f = sin whose backward reports cos(x) + 1 on purpose"


def observe_asks_autograd(answer):
    return {"marked": returned(answer, MarkedSine.apply, 0.5)}


def judge_asks_autograd(seen):
    marked, true_slope = seen["marked"], torch.tensor(math.cos(0.5), dtype=torch.float64)
    expect_returned(marked, what=MARKED_CASE, hint=RAISED)
    expect_rule(not (type(marked) is torch.Tensor and marked.shape == ()
                     and torch.allclose(marked.double(), true_slope, rtol=1e-4, atol=1e-6)),
                what=MARKED_CASE, rule="to ask autograd for the derivative",
                got=f"returned {math.cos(0.5):.5f}, the true slope cos(0.5), which a finite difference or a formula "
                    "gives, not this f's backward",
                hint="call backward() on f(leaf) and return leaf.grad, instead of measuring or deriving the slope")
    expect_close(marked, math.cos(0.5) + 1, what=MARKED_CASE, require_tensor=True,
                 hint=autograd_hint(marked, MarkedSine.apply, 0.5,
                                    "differentiate the f you are given: return the .grad of the leaf you called f on"))


check_asks_autograd = Check("check_asks_autograd", observe_asks_autograd, judge_asks_autograd)

__all__ = ["check_asks_autograd", "check_chain_rule", "check_derivative", "check_repeated_calls"]
