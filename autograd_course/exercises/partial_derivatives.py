"""The checks of 03_partial_derivatives: ``partials_by_hand`` (exercise 1), ``gradient_with_autograd`` (exercise 2)
and ``directional_derivative`` (exercise 3).

Every reference is a float64 central difference (``numeric``), independent of any formula; a function whose
backward reports other slopes on purpose (``rules.MarkedSine``) tells an answer that asked autograd from one that
measured or derived the slopes.
"""

import torch

from ..cases import Check, expect_returned, returned, snapshot
from ..checks import expect_close, expect_rule, expect_true, hint_for
from ..numeric import central_difference
from ..rules import AutogradCalls, MarkedSine, ready_made_callers


def g(v):
    return v[0]**2 * v[1] + torch.sin(v[1])


def partials_slips(x, y):
    """Gradients of g students derive by mistake, each with the hint that names it."""
    x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    return (
        (torch.stack([2 * x, x**2 + torch.cos(y)]), "∂(x²y)/∂x = 2xy: y is a constant factor, keep it"),
        (torch.stack([2 * x * y, torch.cos(y)]), "∂(x²y)/∂y = x²: with x held fixed, x²y is x² times y"),
        (torch.stack([2 * x * y, x**2 - torch.cos(y)]), "the derivative of sin y is +cos y"),
        (torch.stack([2 * x * y, x**2 + torch.sin(y)]), "sin y changes with y: its derivative is cos y"),
        (torch.stack([2 * x * y + torch.cos(y), x**2 + torch.cos(y)]), "sin y does not depend on x: its ∂/∂x is 0"),
        (torch.stack([x**2 + torch.cos(y), 2 * x * y]), "return (∂g/∂x, ∂g/∂y) in that order"),
    )


# The notebook's finite-difference helper: slopes it measures are not formulas the answer derived.
FINITE_DIFFERENCE = {"autograd_course.numeric": "central_difference"}


class PartialsProbe(AutogradCalls):
    """Counts the answer's backward passes, and notes a torch call made from inside the notebook's
    finite-difference helper."""

    def __init__(self):
        super().__init__()
        self.helpers: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.helpers |= ready_made_callers(FINITE_DIFFERENCE)
        return super().__torch_function__(func, types, args, kwargs)


def observe_partials(answer, x, y):
    with PartialsProbe() as calls:
        got = returned(answer, x, y)
    return {"got": got, "backward_passes": calls.backward_passes, "calls": calls.summary(),
            "helpers": sorted(calls.helpers)}


def judge_partials(seen, x, y,
                   otherwise="for ∂g/∂x treat y as a constant; for ∂g/∂y treat x as a constant (sin y depends on y only)"):
    case, got = f"partials_by_hand({x}, {y})", seen["got"]
    expect_returned(got, what=case)
    expect_rule(seen["backward_passes"] == 0, what=case, rule="formulas you derive, with no backward pass",
                got=seen["calls"], hint="derive ∂g/∂x and ∂g/∂y on paper and write them with torch functions")
    expect_rule(not seen["helpers"], what=case, rule="formulas you derive",
                got=f"called {', '.join(seen['helpers'])}, which measures the slopes by a finite difference",
                hint="derive ∂g/∂x and ∂g/∂y on paper and write them with torch functions")
    expect_true(type(got) is torch.Tensor, what=case, expected="a torch.Tensor of shape (2,)",
                got=f"{type(got).__name__} {got!r}",
                hint="put both partials in one tensor: torch.stack([...]) or torch.tensor([...])")
    hint = hint_for(got, partials_slips(x, y), otherwise) if got.shape == (2,) else (
        "return both partial derivatives, shape (2,): the gradient is a vector, not their sum or one of them")
    expect_close(got, central_difference(g, [x, y]), what=case, require_tensor=True, hint=hint)


check_partials = Check("check_partials", observe_partials, judge_partials)


def bowl(p):
    return p[0]**2 + 3 * p[1]**2


def wave(v):
    return torch.sin(v[0]) * v[1] + v[2]**2


def marked(v):
    """A function whose true gradient is (1, 2, ...)·cos v, but whose backward reports (1, 2, ...)·(cos v + 1)."""
    return (MarkedSine.apply(v) * torch.arange(1, len(v) + 1, dtype=v.dtype)).sum()


def marked_gradient(point, reported):
    """The gradient of ``marked`` in float64: what its backward reports, or (reported=False) the true one."""
    v = torch.tensor(point, dtype=torch.float64)
    return torch.arange(1, len(point) + 1, dtype=torch.float64) * (torch.cos(v) + (1 if reported else 0))


# The functions the cases differentiate, by the name a message shows.
FUNCTIONS = {
    "x·y + exp(z)": lambda v: v[0] * v[1] + torch.exp(v[2]),
    "mean(v²)": lambda v: (v**2).mean(),
    "sin(v₀)·v₁²": lambda v: torch.sin(v[0]) * v[1]**2,
    "logsumexp(v)": lambda v: torch.logsumexp(v, dim=0),
    "v₀³": lambda v: v[0]**3,
    "bowl": bowl,
    "wave": wave,
}
PROBE = [0.5, -1.0, 2.0]

GRADIENT_RAISED = ("'does not require grad' means the leaf needs requires_grad=True; 'Only Tensors of floating point' "
                   "means the leaf is an integer tensor: ask for dtype=torch.float32 (section 5)")
USE_AUTOGRAD = ("make a float leaf from point with requires_grad=True, call f on it, call backward() once, return the "
                "leaf's .grad")
SECOND_CALL = ("your first call was right, this second one is not: the .grad of a reused leaf adds up over backward() "
               "calls; make a new leaf tensor inside the function on every call")
CHANGED_FIRST = ("a later call changed the tensor the first call returned: both are the .grad of one reused leaf; "
                 "make a new leaf tensor inside the function on every call")


def gradient_hint(got, f, point, otherwise):
    if type(got) is not torch.Tensor:
        return "return the tensor leaf.grad itself, not a list or numbers"
    value = f(torch.tensor(point, dtype=torch.float64))
    if got.shape == () and torch.allclose(got.double(), value, rtol=1e-4, atol=1e-6):
        return "you returned f(point), the value; the gradient is in the leaf's .grad after backward()"
    return otherwise


def observed_gradient(answer, f, point):
    with AutogradCalls() as calls:
        got = returned(answer, f, point)
    return {"got": got, "backward_passes": calls.backward_passes, "calls": calls.summary()}


def expect_gradient(seen, name, point, otherwise):
    case, got, f = f"gradient_with_autograd({name}, {point})", seen["got"], FUNCTIONS[name]
    expect_returned(got, what=case, hint=GRADIENT_RAISED)
    expect_rule(seen["backward_passes"] <= 1, what=case, rule="one backward pass for all coordinates",
                got=seen["calls"], hint="one backward() from the scalar f(leaf) fills every entry of leaf.grad at once")
    expect_close(got, central_difference(f, point), what=case, require_tensor=True,
                 hint=gradient_hint(got, f, point, otherwise))


def observe_gradient(answer, name, point):
    return observed_gradient(answer, FUNCTIONS[name], point)


def judge_gradient(seen, name, point,
                   otherwise="differentiate the f you are given at the point you are given, for any number of "
                             "coordinates"):
    expect_gradient(seen, name, point, otherwise)


check_gradient = Check("check_gradient", observe_gradient, judge_gradient)


FIRST_POINT, SECOND_POINT = [2.0, -1.0, 0.5], [1.0, 2.0, -0.5]


def observe_repeated_calls(answer):
    """x·y + exp(z) at one point, then at another, then mean(v²) at the first point again (an input seen before,
    another f); and the first result again, after the later calls."""
    first = observed_gradient(answer, FUNCTIONS["x·y + exp(z)"], FIRST_POINT)
    first_then = {**first, "got": snapshot(first["got"])}
    second = observed_gradient(answer, FUNCTIONS["x·y + exp(z)"], SECOND_POINT)
    second = {**second, "got": snapshot(second["got"])}
    again = observed_gradient(answer, FUNCTIONS["mean(v²)"], list(FIRST_POINT))
    return {**{f"first {key}": value for key, value in first_then.items()},
            **{f"second {key}": value for key, value in second.items()},
            **{f"again {key}": value for key, value in again.items()}, "first after second": first["got"]}


def same_point_again_hint(got):
    """What an answer that keeps something per point returns when the first point comes again, with another f."""
    earlier = central_difference(FUNCTIONS["x·y + exp(z)"], FIRST_POINT)
    wanted = central_difference(FUNCTIONS["mean(v²)"], FIRST_POINT)
    return hint_for(got, [(earlier, "you returned the gradient of x·y + exp(z), the first call's f, for f = mean(v²): "
                                    "differentiate the f you are given on every call, not one remembered or written "
                                    "for x·y + exp(z)"),
                          (earlier + wanted, "the .grad of a leaf kept per point adds up over calls with the same "
                                             "point: make a new leaf tensor inside the function on every call")],
                    f"{FIRST_POINT} came a second time, with another f: give each call its own answer")


def judge_repeated_calls(seen):
    def call(which):
        return {key.removeprefix(f"{which} "): value for key, value in seen.items() if key.startswith(f"{which} ")}

    expect_gradient(call("first"), "x·y + exp(z)", FIRST_POINT, USE_AUTOGRAD)
    expect_gradient(call("second"), "x·y + exp(z)", SECOND_POINT, SECOND_CALL)
    expect_gradient(call("again"), "mean(v²)", FIRST_POINT, same_point_again_hint(seen["again got"]))
    expect_close(seen["first after second"], seen["first got"], hint=CHANGED_FIRST,
                 what=f"the result of gradient_with_autograd(x·y + exp(z), {FIRST_POINT}) after the later calls")


check_repeated_calls = Check("check_repeated_calls", observe_repeated_calls, judge_repeated_calls)
GRADIENT_PROBE = f"gradient_with_autograd(f, {PROBE}) for an f whose backward reports different slopes on purpose"


def observe_gradient_asks_autograd(answer):
    return {"reported": returned(answer, marked, PROBE)}


def judge_gradient_asks_autograd(seen):
    reported, true = seen["reported"], marked_gradient(PROBE, reported=False)
    expect_returned(reported, what=GRADIENT_PROBE, hint=GRADIENT_RAISED)
    expect_rule(not (type(reported) is torch.Tensor and reported.shape == true.shape
                     and torch.allclose(reported.double(), true, rtol=1e-4, atol=1e-6)),
                what=GRADIENT_PROBE, rule="to ask autograd for the gradient",
                got="returned the true gradient, which finite differences or formulas give, not this f's backward",
                hint="call backward() on f(leaf) and return leaf.grad, instead of measuring the slopes")
    expect_close(reported, marked_gradient(PROBE, reported=True), what=GRADIENT_PROBE, require_tensor=True,
                 hint=gradient_hint(reported, marked, PROBE, USE_AUTOGRAD))


check_gradient_asks_autograd = Check("check_gradient_asks_autograd", observe_gradient_asks_autograd,
                                     judge_gradient_asks_autograd)


def slope_along(f, point, direction):
    """The definition: the derivative of t -> f(point + t·u) at t = 0, u the unit direction, in float64."""
    start, step = torch.tensor(point, dtype=torch.float64), torch.tensor(direction, dtype=torch.float64)
    return central_difference(lambda t: f(start + t * step / step.norm()), 0.0)


def directional_slips(f, point, direction):
    """Rates students compute by mistake, each with the hint that names it."""
    start, step = torch.tensor(point, dtype=torch.float64), torch.tensor(direction, dtype=torch.float64)
    gradient = central_difference(f, start)
    return (
        (gradient @ step, "scale direction to length 1 first: u = d / ‖d‖; the rate along d itself is ‖d‖ times too large"),
        (gradient @ step / step.norm()**2, "divide direction by its length ‖d‖ once, not by ‖d‖²"),
        (gradient / gradient.norm() @ step, "normalise the direction, not the gradient"),
        (-(gradient @ step) / step.norm(), "the rate of change along u is +∇f · u; -∇f is the steepest descent direction"),
        (gradient * step / step.norm(),
         "return one number, the dot product ∇f · u (sum of the products), not the vector of products"),
        (gradient, "return the rate along the direction, ∇f · u, not the gradient itself"),
    )


DIRECTIONAL_RAISED = "'floating point' in the message means an integer tensor: ask for dtype=torch.float32 (section 5)"


def observe_directional(answer, name, point, direction):
    return {"got": returned(answer, FUNCTIONS[name], point, direction)}


def judge_directional(seen, name, point, direction,
                      otherwise="use the gradient at the given point and the given direction scaled to length 1"):
    case, got, f = f"directional_derivative({name}, {point}, {direction})", seen["got"], FUNCTIONS[name]
    expect_returned(got, what=case, hint=DIRECTIONAL_RAISED)
    if type(got) is not torch.Tensor:
        hint = "return a 0-dimensional torch.Tensor: use torch operations, not .item() or a list"
    else:
        # a rate of another shape that is no known slip: say so, not the hint for a wrong number
        fallback = otherwise if got.shape == () else (
            f"return the rate ∇f · u as one number, a 0-dimensional tensor (shape ()), not of shape {tuple(got.shape)}")
        hint = hint_for(got, directional_slips(f, point, direction), fallback)
    expect_close(got, slope_along(f, point, direction), what=case, require_tensor=True, hint=hint)


check_directional = Check("check_directional", observe_directional, judge_directional)
PROBE_DIRECTION = [1.0, 2.0, -2.0]
DIRECTIONAL_PROBE = (f"directional_derivative(f, {PROBE}, {PROBE_DIRECTION}) for an f whose backward reports "
                     "different slopes on purpose")


def observe_directional_asks_autograd(answer):
    return {"reported": returned(answer, marked, PROBE, PROBE_DIRECTION)}


def judge_directional_asks_autograd(seen):
    reported, unit = seen["reported"], torch.tensor(PROBE_DIRECTION, dtype=torch.float64) / 3
    true = marked_gradient(PROBE, reported=False) @ unit
    expect_returned(reported, what=DIRECTIONAL_PROBE)
    expect_rule(not (type(reported) is torch.Tensor and reported.shape == ()
                     and torch.allclose(reported.double(), true, rtol=1e-4, atol=1e-6)),
                what=DIRECTIONAL_PROBE, rule="to compute the gradient with autograd",
                got="returned the true rate, which a finite difference along the direction gives, not this f's backward",
                hint="make a leaf from point, call backward() on f(leaf), and take leaf.grad · u")
    expect_close(reported, marked_gradient(PROBE, reported=True) @ unit, what=DIRECTIONAL_PROBE, require_tensor=True,
                 hint="take ∇f from autograd, as leaf.grad after backward(), and its dot product with the unit direction")


check_directional_asks_autograd = Check("check_directional_asks_autograd", observe_directional_asks_autograd,
                                        judge_directional_asks_autograd)

__all__ = ["check_directional", "check_directional_asks_autograd", "check_gradient", "check_gradient_asks_autograd",
           "check_partials", "check_repeated_calls"]
