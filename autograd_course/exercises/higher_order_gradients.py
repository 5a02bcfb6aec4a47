"""The checks of 09_higher_order_gradients: ``second_derivative`` (exercise 1) and ``hessian_vector_product``
(exercise 2).

Exercise 1's references are closed forms of f'', exercise 2's torch's own Hessian in float64 times v (a closed form
for the n = 1000 case, whose Hessian would have a million entries). A function whose second backward pass reports
another number on purpose (``MarkedCube``) tells an answer that asked autograd twice from one that measured or
derived the result. A wrong value that matches a known mistake gets the hint that names it.
"""

import math

import torch
import torch.nn.functional as F

from ..cases import Check, expect_returned, returned, snapshot
from ..checks import expect_close, expect_equal, expect_rule, expect_true
from ..numeric import central_difference
from ..rules import TORCH_FUNC_PACKAGE, AutogradCalls, ready_made_callers


class MarkedSquare(torch.autograd.Function):
    """t² going forward, but its backward reports 3t on purpose (the true derivative is 2t)."""

    @staticmethod
    def forward(t):
        return t**2

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * 3 * t


class MarkedCube(torch.autograd.Function):
    """Σ t³/3 with the right first derivative t², computed by MarkedSquare: differentiating that derivative again
    with autograd gives 3t, where the true second derivative (finite differences, a formula) is 2t."""

    @staticmethod
    def forward(t):
        return (t**3 / 3).sum()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * MarkedSquare.apply(t)


def closeness(got, candidate) -> bool:
    """``got`` is a plain tensor numerically equal to ``candidate`` (a known mistake's value)."""
    candidate = torch.as_tensor(candidate, dtype=torch.float64)
    return type(got) is torch.Tensor and got.shape == candidate.shape and torch.allclose(
        got.double(), candidate, rtol=1e-4, atol=1e-6)


# Exercise 1: each function by the name a message shows, with its f'' in closed form (x a float).
SECOND_DERIVATIVES = {
    "sin(x²)": (lambda t: torch.sin(t**2), lambda x: 2 * math.cos(x**2) - 4 * x**2 * math.sin(x**2)),
    "x³": (lambda t: t**3, lambda x: 6 * x),
    "sin": (torch.sin, lambda x: -math.sin(x)),
    "x·eˣ": (lambda t: t * torch.exp(t), lambda x: (x + 2) * math.exp(x)),
    "tanh": (torch.tanh, lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2)),
    "log(1 + x²)": (lambda t: torch.log(1 + t**2), lambda x: 2 * (1 - x**2) / (1 + x**2) ** 2),
    # softplus'' = sigmoid', differentiated numerically from torch's sigmoid.
    "softplus": (F.softplus, lambda x: float(central_difference(torch.sigmoid, x))),
    "relu": (torch.relu, lambda x: 0.0),  # relu' has a graph (a mask of x) whose gradient is 0
}
# Functions whose f' autograd computes from constants only: it has no graph, and f'' = 0.
CONSTANT_FIRST_DERIVATIVES = {
    "3x + 1": lambda t: 3 * t + 1,
    "-x/2": lambda t: -0.5 * t,
    "x·(x > 0)": lambda t: t * (t > 0),
}
CREATE_GRAPH = "pass create_graph=True to the first torch.autograd.grad, so that f' has a graph to differentiate (3.2)"
RAISED_HINTS = (("does not require grad", CREATE_GRAPH),
                ("must be Tensor, not float", "f needs a tensor: call f on your leaf tensor, not on the float x"))
LINEAR_HINT = "when the first derivative has no grad_fn, no recorded operation links it to x: return a zero tensor (3.4)"
ANY_F = "differentiate the f you are given twice, at the x you are given"
TWICE_WITH_AUTOGRAD = "differentiate the f you are given twice with autograd, at the x you are given"
SAME_TWICE = "a second call with the same arguments must give the same f'': make a new leaf on every call"
CHANGED_FIRST = "the second call changed the tensor the first returned: make a new leaf inside the function on every call"


def second_derivative_hint(got, f, point, exact, otherwise):
    """The hint that names the mistake a wrong f'' shows, else ``otherwise``."""
    if type(got) is not torch.Tensor:
        return "return a torch.Tensor (the second gradient itself; no .item(), no float())"
    first = central_difference(f, point)
    candidates = ((first + exact, "that is f' + f'': backward() added the second derivative into .grad on top of the "
                                  "first (section 5.1); use torch.autograd.grad, which returns instead of adding"),
                  (first, "that is f'(x), the first derivative: differentiate it once more"),
                  (torch.zeros(()), "0 although f' depends on x here: without create_graph=True the first derivative "
                                    "never has a graph, so your zero branch (or except clause) always runs"))
    return next((hint for candidate, hint in candidates if got.shape == () and closeness(got, candidate)), otherwise)


def observe_second_derivative(answer, name, point):
    return {"got": returned(answer, SECOND_DERIVATIVES[name][0], point)}


def expect_second_derivative(got, name, point, otherwise):
    case, (f, closed_form) = f"second_derivative({name}, {point})", SECOND_DERIVATIVES[name]
    expect_returned(got, what=case, hints=RAISED_HINTS)
    # The closed form at the float32 value of the point, the number a float32 leaf made from it holds.
    exact = torch.tensor(closed_form(float(torch.tensor(point))), dtype=torch.float64)
    expect_close(got, exact, what=case, require_tensor=True,
                 hint=second_derivative_hint(got, f, point, exact, otherwise))


def judge_second_derivative(seen, name, point, otherwise=ANY_F):
    expect_second_derivative(seen["got"], name, point, otherwise)


check_second_derivative = Check("check_second_derivative", observe_second_derivative, judge_second_derivative)


def observe_constant_first_derivative(answer, name, point):
    return {"got": returned(answer, CONSTANT_FIRST_DERIVATIVES[name], point)}


def judge_constant_first_derivative(seen, name, point):
    case, got = f"second_derivative({name}, {point}), whose f' has no graph", seen["got"]
    expect_returned(got, what=case, hints=(("does not require grad", LINEAR_HINT), *RAISED_HINTS[1:]))
    # f' itself is the branch for an f' without a graph gone wrong; any other number is not about that branch
    returned_first = closeness(got, central_difference(CONSTANT_FIRST_DERIVATIVES[name], point))
    expect_close(got, 0.0, what=case, require_tensor=True, hint=LINEAR_HINT if returned_first else TWICE_WITH_AUTOGRAD)


check_constant_first_derivative = Check("check_constant_first_derivative", observe_constant_first_derivative,
                                        judge_constant_first_derivative)


def observe_repeated_calls(answer):
    """sin at 1.1 twice; and the first result again, after the second call."""
    first = returned(answer, torch.sin, 1.1)
    first_then = snapshot(first)
    second = returned(answer, torch.sin, 1.1)
    return {"first": first_then, "second": second, "first after second": first}


def judge_repeated_calls(seen):
    expect_second_derivative(seen["first"], "sin", 1.1, ANY_F)
    expect_second_derivative(seen["second"], "sin", 1.1, SAME_TWICE)
    expect_close(seen["first after second"], seen["first"], hint=CHANGED_FIRST,
                 what="the result of second_derivative(sin, 1.1), after a second call")


check_repeated_calls = Check("check_repeated_calls", observe_repeated_calls, judge_repeated_calls)
MARKED_POINT = 0.5
MARKED_CASE = f"second_derivative(f, {MARKED_POINT}) for an f = x³/3 whose second backward pass reports 3x on purpose"


def observe_second_derivative_asks_autograd(answer):
    return {"marked": returned(answer, MarkedCube.apply, MARKED_POINT)}


def judge_second_derivative_asks_autograd(seen):
    marked = seen["marked"]
    expect_returned(marked, what=MARKED_CASE, hints=RAISED_HINTS)
    expect_rule(not (type(marked) is torch.Tensor and marked.shape == () and abs(marked.item() - 2 * MARKED_POINT) < 1e-4),
                what=MARKED_CASE, rule="to differentiate twice with autograd",
                got="returned 1.0, the true f''(0.5) = 2x, which finite differences or a formula give, not this f's "
                    "backward",
                hint="take f' with torch.autograd.grad(..., create_graph=True), then the gradient of f' with autograd "
                     "again")
    expect_close(marked, 3 * MARKED_POINT, what=MARKED_CASE, require_tensor=True, hint=TWICE_WITH_AUTOGRAD)


check_second_derivative_asks_autograd = Check("check_second_derivative_asks_autograd",
                                              observe_second_derivative_asks_autograd,
                                              judge_second_derivative_asks_autograd)


# Exercise 2. A backward pass asked for from inside these modules belongs to a ready-made Hessian helper, not to the
# answer's two passes.
READY_MADE = {"torch.autograd.functional": "torch.autograd.functional (hessian, hvp, vhp ...)",
              TORCH_FUNC_PACKAGE: "torch.func (hessian, jacrev, jvp ...)"}


class HessianProbe(AutogradCalls):
    """Counts the answer's backward passes, notes who asked for them, and the largest tensor its torch calls made."""

    def __init__(self):
        super().__init__()
        self.helpers, self.largest = set(), 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in (torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward):
            self.helpers |= ready_made_callers(READY_MADE)
        result = super().__torch_function__(func, types, args, kwargs)
        for item in result if isinstance(result, (tuple, list)) else (result,):
            if isinstance(item, torch.Tensor):
                self.largest = max(self.largest, item.numel())
        return result


def rosenbrock(t):
    return (100 * (t[1:] - t[:-1] ** 2) ** 2 + (1 - t[:-1]) ** 2).sum()


def quartic_and_sine(t):
    return (t @ t) ** 2 / 4 + torch.sin(t).sum()


# The functions exercise 2's cases differentiate, by the name a message shows.
FUNCTIONS = {
    "rosenbrock": rosenbrock,
    "x0²x1 + sin(x1x2)": lambda t: t[0] ** 2 * t[1] + torch.sin(t[1] * t[2]),
    "a coupled f": lambda t: torch.logsumexp(t, 0) + (t @ t) ** 2 / 8 + (torch.sin(t) * t.roll(1)).sum(),
    "exp(2x)": lambda t: torch.exp(2 * t).sum(),
    "Σ x³/3 whose second backward reports 3x on purpose": MarkedCube.apply,
    "(x·x)²/4 + Σ sin x": quartic_and_sine,
}
DTYPES = {"float32": torch.float32, "float64": torch.float64}
HVP_RAISED_HINTS = (("does not require grad", "pass create_graph=True to the first torch.autograd.grad, so that the "
                                              "gradient has a graph the second pass can go through (3.7)"),)
ANY_X_AND_V = "differentiate the f you are given at the x and v you are given"


def hvp_hint(got, f, x, v, exact, otherwise):
    """The hint that names the mistake a wrong H v shows, else ``otherwise``."""
    if type(got) is not torch.Tensor:
        return "return the tensor torch.autograd.grad gives for the second pass"
    leaf = x.detach().double().requires_grad_()
    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    (hessian_times_ones,) = torch.autograd.grad(gradient.sum(), leaf)
    gradient, v = gradient.detach(), v.double()
    candidates = ((gradient + exact, "that is ∇f + Hv: backward() added the second pass into .grad on top of the first "
                                     "(section 5.1); use torch.autograd.grad, which returns instead of adding"),
                  (hessian_times_ones, "that is H·1, the gradient of gradient.sum(): weight the gradient by v, "
                                       "differentiate (gradient @ v)"),
                  (hessian_times_ones * v, "that is (H·1)∘v: v must go inside the second pass, as gradient @ v"),
                  (gradient * v, "that is ∇f∘v, one pass only: differentiate (gradient @ v) once more"),
                  (gradient, "that is ∇f, the gradient: differentiate (gradient @ v) once more"))
    return next((hint for candidate, hint in candidates if closeness(got, candidate)), otherwise)


def vectors(x, v, dtype, requires_grad):
    """The case's x and v as the tensors the answer gets."""
    return (torch.tensor(x, dtype=DTYPES[dtype], requires_grad=requires_grad), torch.tensor(v, dtype=DTYPES[dtype]))


def observe_hvp_of(answer, f, x, v):
    """What the answer returned for f at x and v, how it computed it, and what it left of the caller's x."""
    probe = HessianProbe()
    with probe:
        got = returned(answer, f, x, v)
    return {"got": got, "x requires_grad": x.requires_grad, "x grad": x.grad, "helpers": sorted(probe.helpers),
            "backward_passes": probe.backward_passes, "calls": probe.summary(), "largest": probe.largest}


def expect_hvp(seen, name, x, v, exact, otherwise):
    got, f = seen["got"], FUNCTIONS[name]
    shown = f"{name}{', x requires grad' if x.requires_grad else ''}, x and v of length {len(x)}"
    case = f"hessian_vector_product({shown}{', float64' if x.dtype == torch.float64 else ''})"
    expect_returned(got, what=case, hints=HVP_RAISED_HINTS)
    expect_close(got, exact, what=case, require_tensor=True, hint=hvp_hint(got, f, x, v, exact, otherwise))
    expect_equal(got.dtype, x.dtype, what=f"the dtype of {case}",
                 hint="make your leaf from x itself (x.detach()), so that it keeps x's dtype")
    expect_true(seen["x requires_grad"] == x.requires_grad and seen["x grad"] is None,
                what=f"the caller's x after {case}",
                expected=f"x as it was: requires_grad {x.requires_grad}, .grad None",
                got=f"requires_grad {seen['x requires_grad']}, .grad {seen['x grad']}",
                hint="work on a new leaf, x.detach().requires_grad_(), and use torch.autograd.grad instead of backward()")
    # Right numbers are not enough: the exercise is two backward passes through vectors, never the n × n Hessian.
    expect_rule(not seen["helpers"], what=case, rule="your own two backward passes, not a ready-made helper",
                got=f"used {' and '.join(seen['helpers'])}",
                hint="gradient = grad(f(leaf), leaf, create_graph=True), then grad(gradient @ v, leaf) (section 3.7)")
    expect_rule(seen["backward_passes"] == 2, what=case, rule="exactly two backward passes, whatever n is",
                got=seen["calls"], hint="one pass for the gradient (create_graph=True), one for (gradient @ v): "
                                        "no loop over unit vectors, no finite differences")
    expect_rule(seen["largest"] <= len(x), what=case, rule=f"no n × n Hessian: vectors of {len(x)} numbers at most",
                got=f"made a tensor of {seen['largest']} numbers", hint="do not form H (nor torch.eye(n)): "
                                                                        "differentiate (gradient @ v) once instead")


def observe_hvp(answer, name, x, v, dtype="float32", requires_grad=False):
    return observe_hvp_of(answer, FUNCTIONS[name], *vectors(x, v, dtype, requires_grad))


def judge_hvp(seen, name, x, v, dtype="float32", requires_grad=False, otherwise=ANY_X_AND_V):
    x, v = vectors(x, v, dtype, requires_grad)
    # torch's full Hessian (fine for these small n) times v, in float64.
    exact = torch.autograd.functional.hessian(FUNCTIONS[name], x.detach().double()) @ v.double()
    expect_hvp(seen, name, x, v, exact, otherwise)


check_hvp = Check("check_hvp", observe_hvp, judge_hvp)
MARKED_F = "Σ x³/3 whose second backward reports 3x on purpose"
MARKED_X, MARKED_V = [0.5, -1.0, 2.0], [1.0, 2.0, -1.0]


def observe_hvp_asks_autograd(answer):
    return observe_hvp(answer, MARKED_F, MARKED_X, MARKED_V)


def judge_hvp_asks_autograd(seen):
    x, v = vectors(MARKED_X, MARKED_V, "float32", False)
    # What autograd reports for MarkedCube: 3x∘v; finite differences of the gradient give the true 2x∘v.
    expect_hvp(seen, MARKED_F, x, v, 3 * x.double() * v.double(),
               otherwise="ask autograd for both passes: this f's second backward reports 3x on purpose, and only a "
                         "second torch.autograd.grad returns it (not finite differences of the gradient)")


check_hvp_asks_autograd = Check("check_hvp_asks_autograd", observe_hvp_asks_autograd, judge_hvp_asks_autograd)
AT_SCALE = "(x·x)²/4 + Σ sin x"


def seeded_vectors(n):
    """x and v of length n in float64, the same on every call: x small, so that (x·x)² stays moderate."""
    generator = torch.Generator().manual_seed(9)
    x = torch.randn(n, dtype=torch.float64, generator=generator) / 10
    return x, torch.randn(n, dtype=torch.float64, generator=generator)


def observe_hvp_at_scale(answer, n):
    return observe_hvp_of(answer, FUNCTIONS[AT_SCALE], *seeded_vectors(n))


def judge_hvp_at_scale(seen, n):
    """For n = 1000 the product needs vectors of 1000 numbers and two passes; the Hessian would have a million
    entries. Closed form of f = (x·x)²/4 + Σ sin x:  H v = (x·x) v + 2 (x·v) x − sin(x)∘v."""
    x, v = seeded_vectors(n)
    expect_hvp(seen, AT_SCALE, x, v, (x @ x) * v + 2 * (x @ v) * x - torch.sin(x) * v, ANY_X_AND_V)


check_hvp_at_scale = Check("check_hvp_at_scale", observe_hvp_at_scale, judge_hvp_at_scale)

__all__ = ["check_constant_first_derivative", "check_hvp", "check_hvp_asks_autograd", "check_hvp_at_scale",
           "check_repeated_calls", "check_second_derivative", "check_second_derivative_asks_autograd"]
