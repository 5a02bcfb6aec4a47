"""The checks of 10_custom_autograd_function: ``ScaledTanh`` (exercise 1) and ``StableSoftplus`` (exercise 2).

A case calls the answer's ``apply`` under ``saved_tensors_hooks`` (which sees every tensor given to
``ctx.save_for_backward``; ``ctx`` is the graph node, so ``vars`` of it shows what was kept as attributes), then its
``backward`` directly, with a ``grad_output`` that is not 1, so that the case sees what backward returns and any
autograd call it makes. The expected values are computed here with Python's ``math`` in float64, element by
element (through a longer chain: float64 central differences, ``numeric``), never with the formulas an answer writes
in torch; a wrong gradient that matches a known mistake gets the hint that names it. gradcheck runs where the
answer runs, as a further condition: its verdict never earns a point alone, the values do.
"""

import math

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ..cases import Check, expect_returned, returned
from ..checks import TENSOR_TYPES, expect_close, expect_equal, expect_finite, expect_rule, expect_true, hint_for
from ..numeric import central_difference
from ..rules import AutogradCalls

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _randn(shape, scale, seed):
    # A private generator: the values do not depend on what earlier cells drew.
    return lambda dtype: scale * torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def _far_and_near(dtype):
    """80 points: far out on both sides of 0, around it, and at random, as a (4, 20) matrix."""
    spread = 8 * torch.randn(39, dtype=dtype, generator=torch.Generator().manual_seed(22))
    return torch.cat([torch.linspace(-60, 60, 41, dtype=dtype), spread]).reshape(4, 20)


# Inputs too many to write in a test cell, by name; a test cell writes any other x or grad_output as a literal.
POINTS = {
    "3 randn(2, 3)": _randn((2, 3), 3.0, 10),
    "3 randn(4)": _randn((4,), 3.0, 11),
    "3 randn(1)": _randn((1,), 3.0, 12),
    "20 randn(3, 5)": _randn((3, 5), 20.0, 20),
    "randn(3, 5)": _randn((3, 5), 1.0, 21),
    "80 points in [-60, 60], shape (4, 20)": _far_and_near,
}
LINSPACE = "linspace(-2, 3)"  # a grad_output from -2 to 3, shaped like x


def tensor_of(points, dtype: str) -> torch.Tensor:
    """x (or grad_output) as a tensor: named points from ``POINTS``, else the literal (a number is a 0-d tensor)."""
    return POINTS[points](DTYPES[dtype]) if isinstance(points, str) else torch.tensor(points, dtype=DTYPES[dtype])


def grad_output_of(points, x: torch.Tensor) -> torch.Tensor:
    if points == LINSPACE:
        return torch.linspace(-2, 3, x.numel(), dtype=x.dtype).reshape(x.shape)
    return tensor_of(points, str(x.dtype).removeprefix("torch."))


def shown(points) -> str:
    return points if isinstance(points, str) else f"x = {points}"


def gradcheck_verdict(function, *inputs) -> str:
    """'passed', or what gradcheck found wrong: section 3.3's verdict, the two Jacobians when they are small."""
    try:
        torch.autograd.gradcheck(function, inputs)
    except NotImplementedError:
        raise  # an unfinished answer cell, not a wrong gradient
    except RuntimeError as error:  # a GradcheckError, or autograd rejecting what backward returned
        message = " ".join(str(error).split())
        return message if len(message) <= 400 else message.split(",")[0] + " (Jacobians too large to show)"
    return "passed"


# Both exercises: the probe of forward and backward, and the rules of a custom Function.

class SoftplusCalls(TorchFunctionMode):
    """Counts calls of F.softplus (torch.nn.Softplus calls it too) while the ``with`` block runs; replaces nothing."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.count += func is F.softplus
        return func(*args, **(kwargs or {}))


def probe(function, inputs: tuple, grad_output: torch.Tensor) -> dict:
    """What forward returned and saved, and what backward, called directly on the output's node, returned and called."""
    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor), SoftplusCalls() as softplus_calls:
        output = returned(function.apply, *inputs)
        node = output.grad_fn if type(output) in TENSOR_TYPES else None
        seen = {"value": output, "node": type(node).__name__, "backward": None, "saved": len(saved),
                "tensor attributes": [], "backward passes": 0, "calls": ""}
        if node is not None and type(node).__name__ == f"{function.__name__}Backward":
            seen["tensor attributes"] = sorted(name for name, value in vars(node).items()
                                               if isinstance(value, torch.Tensor))
            with AutogradCalls() as calls:
                seen["backward"] = returned(function.backward, node, grad_output.clone())
            seen["backward passes"], seen["calls"] = calls.backward_passes, calls.summary()
    return {**seen, "softplus calls": softplus_calls.count}


def judge_probe(seen, name: str, what: str) -> None:
    expect_returned(seen["value"], what=f"{what}: forward")
    expect_true(seen["node"] == f"{name}Backward", what=f"{what}: the graph node of the output",
                expected=f"{name}Backward", got=seen["node"],
                hint="subclass torch.autograd.Function with static forward and backward; forward returns a tensor")
    expect_returned(seen["backward"], what=f"{what}: backward")


def backward_values(seen, count: int, what: str) -> tuple:
    # backward returns one value per forward input (a lone tensor counts as one); the gradient for x comes first.
    returned_values = seen["backward"]
    values = returned_values if isinstance(returned_values, tuple) else (returned_values,)
    expect_true(len(values) == count, what=f"{what}: values returned by backward", expected=f"{count}, one per forward input",
                got=f"{len(values)}", hint="one value per forward input after ctx: the gradient for x, then None for scale")
    return values


def judge_rules(seen, what: str, formula: str) -> None:
    attributes = seen["tensor attributes"]
    kept = ", ".join(f"ctx.{name}" for name in attributes)
    expect_rule(seen["saved"] > 0 and not attributes, what=what,
                rule="that forward saves the tensors backward needs with ctx.save_for_backward",
                got=(f"kept {kept} as {'an attribute' if len(attributes) == 1 else 'attributes'}" if attributes
                     else "saved no tensor with ctx.save_for_backward"),
                hint="ctx.save_for_backward(t) in forward, (t,) = ctx.saved_tensors in backward; attributes only for non-tensors")
    expect_rule(seen["backward passes"] == 0, what=what, rule=f"a backward written from the formula {formula}",
                got=seen["calls"], hint="compute the derivative from the saved tensors with torch operations, no autograd call")


def gradcheck_check(check_name: str, name: str, hint: str) -> Check:
    """gradcheck of the answer's ``apply(x, *arguments)`` at float64 points ``x``."""

    def observe(answer, x, *arguments):
        leaf = tensor_of(x, "float64").requires_grad_()
        return {"verdict": returned(gradcheck_verdict, lambda t: answer.apply(t, *arguments), leaf)}

    def judge(seen, x, *arguments):
        what = f"gradcheck of {name}{''.join(f' with scale {a}' for a in arguments)} at {shown(x)}"
        expect_returned(seen["verdict"], what=what, hint=hint)
        expect_equal(seen["verdict"], "passed", what=what, hint=hint)

    return Check(check_name, observe, judge)


# Exercise 1: ScaledTanh.apply(x, scale).

def tanh_slopes(x: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """scale * tanh(x) and its derivative scale * (1 - tanh(x)**2), element by element in float64."""
    values = x.double().flatten().tolist()
    value = torch.tensor([scale * math.tanh(v) for v in values], dtype=torch.float64).reshape(x.shape)
    slope = torch.tensor([scale * (1 - math.tanh(v) ** 2) for v in values], dtype=torch.float64).reshape(x.shape)
    return value, slope


def scaled_tanh_gradient_hint(got, x, scale, upstream):
    tanh = torch.tanh(x.double())
    upstream = upstream.double()
    return hint_for(got, [
        (scale * (1 - tanh**2), "multiply by grad_output: it carries dL/dy from everything after your node"),
        (upstream * (1 - tanh**2), "y = scale * tanh(x), so dy/dx has the factor scale (kept in ctx.scale)"),
        (upstream * scale * (1 - tanh), "d/dx tanh(x) = 1 - tanh(x)**2: square tanh(x)"),
        (upstream * scale * (1 - x.double() ** 2), "the formula is 1 - tanh(x)**2, not 1 - x**2: take tanh first"),
        (upstream * scale * (1 - (scale * tanh) ** 2), "square tanh(x) alone, not the output scale * tanh(x)"),
        (-upstream * scale * (1 - tanh**2), "check the sign: 1 - tanh(x)**2 is positive")],
        "backward returns grad_output * scale * (1 - tanh(x)**2) for x")


def observe_scaled_tanh(answer, x, scale, dtype, grad_output=LINSPACE):
    leaf = tensor_of(x, dtype).requires_grad_()
    return probe(answer, (leaf, scale), grad_output_of(grad_output, leaf.detach()))


def judge_scaled_tanh(seen, x, scale, dtype, grad_output=LINSPACE):
    points = tensor_of(x, dtype)
    upstream = grad_output_of(grad_output, points)
    what = f"ScaledTanh.apply(x, {scale}) for {dtype} {shown(x)}"
    judge_probe(seen, "ScaledTanh", what)
    expected_value, expected_slope = tanh_slopes(points, scale)
    expect_close(seen["value"], expected_value, what=f"{what}: value", require_tensor=True,
                 hint="scale * tanh(x), shaped like x (0-d for a 0-d x): multiply by the float scale itself")
    x_gradient, scale_gradient = backward_values(seen, 2, what)
    expect_true(scale_gradient is None, what=f"{what}: backward's second value, for scale", expected="None",
                got=repr(scale_gradient), hint="scale is a Python float, not a tensor: its gradient is None")
    gradient_what = f"{what}: backward's gradient for x with grad_output = {grad_output}"
    expect_finite(x_gradient, what=gradient_what,
                  hint="exp(2x) or exp(-2x) overflows to inf for |x| > 44 in float32 and inf/inf is NaN: use 1 - tanh(x)**2")
    expect_close(x_gradient, upstream.double() * expected_slope, require_tensor=True, what=gradient_what,
                 hint=scaled_tanh_gradient_hint(x_gradient, points, scale, upstream))
    judge_rules(seen, what, "1 - tanh(x)**2")


check_scaled_tanh = Check("check_scaled_tanh", observe_scaled_tanh, judge_scaled_tanh)
check_scaled_tanh_gradcheck = gradcheck_check(
    "check_scaled_tanh_gradcheck", "ScaledTanh", "backward returns one value per forward input: grad_output times dy/dx for x, None for the float "
                  "scale, for every scale and shape")


def observe_chain(answer, x, scale, weights):
    leaf = torch.tensor(x, requires_grad=True)
    done = returned(lambda: (answer.apply(leaf, scale) * torch.tensor(weights)).sum().backward())
    return {"backward": done, "grad": leaf.grad}


def judge_chain(seen, x, scale, weights):
    what = f"(ScaledTanh.apply(x, {scale}) * weights).sum() for x = {x}, weights = {weights}"
    expect_returned(seen["backward"], what=f"backward() through {what}")
    w = torch.tensor(weights, dtype=torch.float64)
    expect_close(seen["grad"], central_difference(lambda t: (scale * torch.tanh(t) * w).sum(), torch.tensor(x)),
                 what=f"x.grad through {what}", require_tensor=True,
                 hint="multiply by grad_output: it carries the derivative of everything after your node")


check_scaled_tanh_chain = Check("check_scaled_tanh_chain", observe_chain, judge_chain)


# Exercise 2: StableSoftplus.apply(x).

def softplus_exact(t: torch.Tensor) -> torch.Tensor:
    # log(1 + e^v) in float64, with e^v factored out of the larger term so that nothing overflows.
    return torch.tensor([max(v, 0.0) + math.log1p(math.exp(-abs(v))) for v in t.double().flatten().tolist()],
                        dtype=torch.float64).reshape(t.shape)


def sigmoid_exact(t: torch.Tensor) -> torch.Tensor:
    return torch.tensor([1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
                         for v in t.double().flatten().tolist()], dtype=torch.float64).reshape(t.shape)


def softplus_value_hint(got, x):
    if type(got) in TENSOR_TYPES and got.shape == x.shape and bool(torch.isinf(got[x > 88.72]).any()):
        return "exp(x) overflows to inf above 88.72: use max(x, 0) + log1p(exp(-|x|)), whose exponent is never positive"
    return "max(x, 0) + log1p(exp(-|x|)), elementwise"


KINK_HINT = ("at x = 0 the slope is sigmoid(0) = 0.5; differentiating max(x, 0) and |x| gives the slope of how max is "
             "written at their kink (clamp 1, relu 0, section 3.6): write sigmoid(x) itself")


CANCELLED = ("1 - exp(-y) rounds to 0 where y = softplus(x) is tiny (very negative x), losing every digit: write it "
             "-expm1(-y) (torch.expm1), or compute sigmoid(x) from x")


def softplus_gradient_hint(got, x, upstream, precise=False):
    """The hint for the slip ``got`` shows; ``precise``: the case asks for full relative precision, where a sigmoid
    formed as 1 - exp(-y) from the output y (float32, as a backward sees it) is the one slip left."""
    sigmoid = sigmoid_exact(x)
    kink = x == 0
    if precise:
        cancelled = upstream * (1 - torch.exp(-softplus_exact(x).to(x.dtype))).double()
        if hint_for(got, [(cancelled, CANCELLED)], "", atol=0.0):
            return CANCELLED
    return hint_for(got, [
        (sigmoid, "multiply by grad_output: it carries dL/dy from everything after your node"),
        (upstream * (1 - sigmoid), "that is sigmoid(-x) = 1 - sigmoid(x): the two branches of the formula are swapped"),
        (upstream * torch.where(kink, 1.0, sigmoid), KINK_HINT),
        (upstream * torch.where(kink, 0.0, sigmoid), KINK_HINT)], "backward returns grad_output * sigmoid(x), elementwise")


def observe_softplus(answer, x, dtype, grad_output):
    leaf = tensor_of(x, dtype).requires_grad_()
    return probe(answer, (leaf,), grad_output_of(grad_output, leaf.detach()))


def judge_softplus(seen, x, dtype, grad_output, rtol=1e-4, atol=1e-6):
    points = tensor_of(x, dtype)
    upstream = grad_output_of(grad_output, points).double()
    what = f"StableSoftplus.apply(x) for {dtype} {shown(x)}"
    judge_probe(seen, "StableSoftplus", what)
    count = seen["softplus calls"]
    expect_rule(count == 0, what=what, rule="no call of torch's own softplus",
                got=f"called F.softplus {count} time{'s' if count > 1 else ''}",
                hint="write max(x, 0) + log1p(exp(-|x|)) yourself")
    value = seen["value"]
    expect_finite(value, what=f"{what}: value", hint=softplus_value_hint(value, points))
    expect_close(value, softplus_exact(points), what=f"{what}: value", require_tensor=True, rtol=rtol, atol=atol,
                 hint="1 + exp(x) rounds to 1 below ln u₃₂ ≈ -16.64: use torch.log1p(exp(-|x|))" if rtol < 1e-4
                 else softplus_value_hint(value, points))
    expect_true(value.dtype == points.dtype, what=f"{what}: dtype of the value", expected=str(points.dtype),
                got=str(value.dtype), hint="compute with torch operations on x, so that the output keeps x's dtype")
    (x_gradient,) = backward_values(seen, 1, what)
    gradient_what = f"{what}: backward's gradient with grad_output = {grad_output}"
    expect_finite(x_gradient, what=gradient_what,
                  hint="exp(x)/(1 + exp(x)) is inf/inf = NaN above 88.72: compute sigmoid(x) from exp(-|x|), which is "
                       "at most 1 (the two-branch formula), or use torch.sigmoid")
    expect_close(x_gradient, upstream * sigmoid_exact(points), require_tensor=True, what=gradient_what,
                 rtol=rtol, atol=atol, hint=softplus_gradient_hint(x_gradient, points, upstream, precise=rtol < 1e-4))
    judge_rules(seen, what, "grad_output * sigmoid(x)")


check_softplus = Check("check_softplus", observe_softplus, judge_softplus)
check_softplus_gradcheck = gradcheck_check("check_softplus_gradcheck", "StableSoftplus",
                                           "backward returns grad_output * sigmoid(x), elementwise, for any shape")

__all__ = ["check_scaled_tanh", "check_scaled_tanh_chain", "check_scaled_tanh_gradcheck", "check_softplus",
           "check_softplus_gradcheck"]
