"""The checks of 11_debugging_gradients: ``safe_xlogx`` (exercise 1), ``first_nonfinite_layer`` (exercise 2) and
``residual_block`` (exercise 3).

Exercise 1's references are the closed forms of x log x and its derivatives, element by element in float64 with
``math``; exercise 2's is the layer found by one ``torch.autograd.grad`` over every layer's input, read from the last
layer back; exercise 3's are the out-of-place block in float64 and its float64 central differences (``numeric``).
"""

import math

import torch

from ..cases import Check, expect_returned, returned, snapshot
from ..checks import TENSOR_TYPES, expect_close, expect_equal, expect_finite, expect_true
from ..numeric import central_difference
from ..values import DTYPES

# Exercise 1: safe_xlogx.
TOLERANCES = {"float32": {"rtol": 1e-4, "atol": 1e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}
TINY = 1e-6  # a positive x below this is where an epsilon added or clamped to changes log x
NOT_FINITE = ("the unpicked branch still runs backward: both factors of x * log(x) are differentiated, so neither may "
              "see x <= 0; feed log an input where log and 1/x are finite (1, not 0: clamp(x, min=0) keeps 0)")
SLOPE = "0 where x <= 0; where x > 0 the derivative of x log x, log x + 1"
TINY_SLOPE = ("the slope at x = 1e-30 is log(1e-30) + 1 ≈ -68: a clamp to a small epsilon or an added epsilon changes "
              "log x where x is tiny but positive; replace x only where x <= 0")


def xlogx_closed_form(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f and f' of every element of ``x``, flattened, in float64: x log x and log x + 1 for x > 0, else 0 and 0."""
    values = x.double().flatten().tolist()
    f = [v * math.log(v) if v > 0 else 0.0 for v in values]
    df = [math.log(v) + 1 if v > 0 else 0.0 for v in values]
    return torch.tensor(f, dtype=torch.float64), torch.tensor(df, dtype=torch.float64)


def xlogx_value_hint(got, x: torch.Tensor) -> str:
    if type(got) in TENSOR_TYPES and got.shape == x.shape and bool(torch.isnan(got[x == 0]).any()):
        return "at x = 0 the value is 0: pick the zero branch there with the mask x > 0, not x >= 0"
    return "x log x where x > 0, and 0 where x <= 0"


def observe_xlogx(answer, values, dtype="float32"):
    """The answer on a fresh leaf, and the leaf's gradient after a backward pass of the sum."""
    leaf = torch.tensor(values, dtype=DTYPES[dtype], requires_grad=True)
    out = returned(answer, leaf)
    tracked = type(out) in TENSOR_TYPES and out.requires_grad
    backward = returned(lambda: out.sum().backward()) if tracked else None
    return {"out": snapshot(out), "requires_grad": tracked, "backward": backward, "grad": leaf.grad}


def judge_xlogx(seen, values, dtype="float32"):
    x, out = torch.tensor(values, dtype=DTYPES[dtype]), seen["out"]
    case, tolerance = f"safe_xlogx(torch.tensor({values}, dtype=torch.{dtype}))", TOLERANCES[dtype]
    expect_returned(out, what=case)
    expect_true(type(out) in TENSOR_TYPES and out.shape == x.shape and out.dtype == x.dtype,
                what=f"shape and dtype of {case}", expected=f"{tuple(x.shape)}, {x.dtype}",
                got=f"{tuple(out.shape)}, {out.dtype}" if type(out) in TENSOR_TYPES else type(out).__name__,
                hint="return a tensor shaped like x, in x's dtype (use torch.ones_like / torch.zeros_like)")
    f, df = xlogx_closed_form(x)
    expect_close(out.flatten(), f, what=f"the value of {case}", hint=xlogx_value_hint(out, x), **tolerance)
    expect_true(seen["requires_grad"], what=f"{case}.requires_grad for an x that requires grad", expected="True",
                got="False", hint="compute with torch operations on x, without .detach(), .item() or torch.tensor(...) "
                                  "copies")
    expect_returned(seen["backward"], what=f"backward through {case}.sum()")
    expect_finite(seen["grad"], what=f"the gradient of {case}.sum()", hint=NOT_FINITE)
    tiny = any(0 < value < TINY for value in x.double().flatten().tolist())
    expect_close(seen["grad"].flatten(), df, what=f"the gradient of {case}.sum()", hint=TINY_SLOPE if tiny else SLOPE,
                 **tolerance)


check_xlogx = Check("check_xlogx", observe_xlogx, judge_xlogx)


def observe_second_derivative(answer, values):
    """The first derivative with create_graph=True, then a backward pass through it: the leaf's second derivative."""
    leaf = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    first = returned(lambda: torch.autograd.grad(answer(leaf).sum(), leaf, create_graph=True)[0])
    second = None if type(first) not in TENSOR_TYPES else returned(lambda: first.sum().backward())
    return {"first": snapshot(first), "second": second, "grad": leaf.grad}


def judge_second_derivative(seen, values):
    case = f"safe_xlogx at {values} (float64)"
    expect_returned(seen["first"], what=f"the first derivative of {case} with create_graph=True")
    expect_returned(seen["second"], what=f"the second derivative of {case}",
                    hint="the first derivative must itself be differentiable: build safe_xlogx from torch operations "
                         "on x")
    expect_close(seen["grad"], [1 / value if value > 0 else 0.0 for value in values],
                 what=f"the second derivative of {case}",
                 hint="with a safe input in the discarded elements, every derivative of the unpicked branch stays finite")


check_second_derivative = Check("check_second_derivative", observe_second_derivative, judge_second_derivative)


# Exercise 2: first_nonfinite_layer, on chains of (name, function) layers named by what a message shows.
def sqrt_relu_naive(t):
    return torch.where(t > 0, torch.sqrt(t), 0.0)


def sqrt_relu_safe(t):
    positive = t > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, t, 1.0)), 0.0)


def nan_born_here(t):
    return sqrt_relu_naive(t - t.max())  # the largest element meets sqrt at 0, the others below it: NaN


BENIGN = (torch.tanh, lambda t: 2 * t + 0.5, torch.sigmoid, lambda t: t * t, torch.tanh)


def six_layers(position: int) -> tuple:
    """Six layers with the NaN born in layer ``position``; the layers after it have finite gradients."""
    functions = (*BENIGN[:position], nan_born_here, *BENIGN[position:])
    return tuple((f"layer{index}", function) for index, function in enumerate(functions))


CHAINS = {
    # 2x - 1 is [-0.5, 0, 1] at x = [0.25, 0.5, 1]: sqrt_relu_naive's backward makes NaN, shift and scale pass it on.
    "scale -> shift -> sqrt_relu -> tanh": (("scale", lambda t: 2 * t), ("shift", lambda t: t - 1),
                                            ("sqrt_relu", sqrt_relu_naive), ("tanh", torch.tanh)),
    # The safe version of the same chain: every gradient is finite.
    "shift -> sqrt_relu (safe) -> tanh": (("shift", lambda t: t - 1), ("sqrt_relu", sqrt_relu_safe),
                                          ("tanh", torch.tanh)),
    # +inf, not NaN: the cube root's slope (1/3) t^(-2/3) at t = 0. torch.isnan alone misses it.
    "shift -> cube_root -> exp": (("shift", lambda t: t - 1), ("cube_root", lambda t: t ** (1 / 3)),
                                  ("exp", torch.exp)),
    # Two sources: sqrt_relu (NaN in element 0) and sqrt at 0 (-inf in element 1); backward meets sqrt_relu first.
    "sqrt -> one_minus -> sqrt_relu": (("sqrt", torch.sqrt), ("one_minus", lambda t: 1 - t),
                                       ("sqrt_relu", sqrt_relu_naive)),
    # relu's backward selects 0 for inactive units, so the NaN from the last layer does not reach the input.
    "square -> relu -> sqrt_relu": (("square", lambda t: t**2), ("relu", torch.relu), ("sqrt_relu", sqrt_relu_naive)),
    # An identity layer: its output is its input, so it and the next layer hook one tensor, in registration order.
    "tanh -> identity -> sqrt_relu -> double": (("tanh", torch.tanh), ("identity", lambda t: t),
                                                ("sqrt_relu", sqrt_relu_naive), ("double", lambda t: 2 * t)),
    **{f"six layers with the NaN born in layer{position}": six_layers(position) for position in range(6)},
}


def culprit_of(chain: tuple, x: list) -> tuple[str | None, set[str]]:
    """The last layer, in forward order, whose input gradient is not finite (None if there is none), and the layers
    that return their input itself (whose hooks share a tensor with the next layer's)."""
    hidden, inputs, pass_through = torch.tensor(x, requires_grad=True), [], set()
    for name, function in chain:
        inputs.append(hidden)
        hidden = function(hidden)
        if hidden is inputs[-1]:
            pass_through.add(name)
    grads = torch.autograd.grad(hidden.sum(), inputs, allow_unused=True)
    culprit = next((name for (name, _), grad in reversed(list(zip(chain, grads)))
                    if grad is not None and not bool(torch.isfinite(grad).all())), None)
    return culprit, pass_through


def culprit_hint(names: list[str], got, expected: str | None, pass_through: set[str]) -> str:
    """What the answer's name says about the way it searched."""
    if got is not None and not (type(got) is str and got in names):
        return "return the name of a layer (the first item of its pair), or None"
    if expected is None:
        return "every gradient here is finite: return None when no recorded gradient has a NaN or ±inf"
    if got is None:
        return ("a gradient here is not finite: hook the input of every layer, the first one included, and test each "
                "with torch.isfinite, which catches ±inf as well as NaN")
    gap = names.index(expected) - names.index(got)
    if gap == 1 and got in pass_through:
        return (f"'{got}' returns its input unchanged, so '{got}' and '{expected}' hook one tensor and their hooks run "
                "together, in the order they were registered: do not rely on the order hooks are called in; walk the "
                "layers from the last back")
    if gap == 1:
        return (f"'{got}' is the layer just before: its output gradient is not finite. Hook each layer's input: the "
                "culprit's input gradient is not finite while its output gradient still is")
    if gap > 1:
        return (f"'{got}' gets a non-finite gradient only because a later layer's backward made one, and every layer "
                "before passes it on: read the recorded gradients from the last layer back")
    return f"'{got}''s input gradient is finite: return the last layer, in forward order, whose input gradient is not finite"


def observe_culprit(answer, chain, x):
    caller_x = torch.tensor(x, requires_grad=True)
    got = returned(answer, list(CHAINS[chain]), caller_x)
    return {"got": got, "caller_grad": caller_x.grad}


def judge_culprit(seen, chain, x):
    case, got, layers = f"first_nonfinite_layer({chain}, x = {x})", seen["got"], CHAINS[chain]
    expected, pass_through = culprit_of(layers, x)
    expect_returned(got, what=case)
    expect_equal(got, expected, what=case,
                 hint=culprit_hint([name for name, _ in layers], got, expected, pass_through))
    expect_true(seen["caller_grad"] is None, what=f"the caller's x.grad after {case}", expected="None",
                got=repr(seen["caller_grad"]), hint="run the chain on x.detach().clone().requires_grad_(), not on x itself")


check_culprit = Check("check_culprit", observe_culprit, judge_culprit)


# Exercise 3: residual_block.
WRITE_ONLY_YOURS = "write in place only into tensors your function created, never into x or weight"


def block(x, weight):
    """The reference, out of place."""
    return torch.relu(torch.tanh(x @ weight) + x)


def probe_of(shape) -> torch.Tensor:
    """A different nonzero weight per output: the loss sum(out * probe) tests every entry of every gradient."""
    return torch.linspace(-1, 2, math.prod(shape), dtype=torch.float64).reshape(shape)


def random_inputs(batch: int, size: int, seed: int, dtype: str = "float64") -> tuple[torch.Tensor, torch.Tensor]:
    """x of shape (batch, size) and weight of shape (size, size), drawn in float64 from ``seed``, in ``dtype``."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, size, generator=generator, dtype=torch.float64)
    weight = torch.randn(size, size, generator=generator, dtype=torch.float64) / size**0.5
    return x.to(DTYPES[dtype]), weight.to(DTYPES[dtype])


def observed_block(answer, x, weight):
    """The answer on leaves of ``x`` and ``weight``, and their gradients after a backward pass of sum(out * probe)."""
    x_leaf, weight_leaf = x.clone().requires_grad_(), weight.clone().requires_grad_()
    out = returned(answer, x_leaf, weight_leaf)
    tracked = type(out) in TENSOR_TYPES and out.requires_grad
    backward = returned(lambda: (out * probe_of(out.shape)).sum().backward()) if tracked else None
    return {"out": snapshot(out), "requires_grad": tracked, "backward": backward, "x_grad": x_leaf.grad,
            "weight_grad": weight_leaf.grad}


def expect_block(seen, x, weight, case):
    """``x`` and ``weight`` in the case's dtype; every reference is computed from them in float64."""
    out, x, weight = seen["out"], x.double(), weight.double()
    expect_returned(out, what=case, hint=WRITE_ONLY_YOURS)
    expect_close(out, block(x, weight), what=f"the values of {case}", require_tensor=True,
                 hint="relu(tanh(x @ weight) + x): add x before the relu, after the tanh")
    expect_true(seen["requires_grad"], what=f"{case}.requires_grad", expected="True", got="False",
                hint="compute from x and weight with torch operations, not under torch.no_grad()")
    expect_returned(seen["backward"], what=f"backward through {case}",
                    hint="a node saved a tensor that you then wrote in place: tanh saves its output, so h += x into it "
                         "breaks backward; relu_ into a tensor no node saved is fine")
    for name in ("x", "weight"):
        expect_true(seen[f"{name}_grad"] is not None, what=f"the gradient for {name}, {case}", expected="a gradient",
                    got="None", hint="the output must depend on x and weight through recorded operations: no .detach() "
                                     "or .data")
    probe = probe_of(out.shape)
    expect_close(seen["x_grad"], central_difference(lambda t: (block(t, weight) * probe).sum(), x),
                 what=f"the gradient for x, {case}",
                 hint="x reaches the output twice, through x @ weight and through the residual connection; "
                      "a write through .data or under torch.no_grad() is invisible to autograd")
    expect_close(seen["weight_grad"], central_difference(lambda t: (block(x, t) * probe).sum(), weight),
                 what=f"the gradient for weight, {case}",
                 hint="the weight's gradient goes through tanh: keep tanh's saved output intact and its write visible")


def observe_block(answer, x, weight, dtype="float64"):
    return observed_block(answer, torch.tensor(x, dtype=DTYPES[dtype]), torch.tensor(weight, dtype=DTYPES[dtype]))


def judge_block(seen, x, weight, dtype="float64"):
    x, weight = torch.tensor(x, dtype=DTYPES[dtype]), torch.tensor(weight, dtype=DTYPES[dtype])
    expect_block(seen, x, weight, f"residual_block(x, weight) for the {tuple(x.shape)} x of the test, in {dtype}")


check_block = Check("check_block", observe_block, judge_block)


def observe_random_block(answer, batch, size, seed, dtype="float64"):
    return observed_block(answer, *random_inputs(batch, size, seed, dtype))


def judge_random_block(seen, batch, size, seed, dtype="float64"):
    expect_block(seen, *random_inputs(batch, size, seed, dtype),
                 f"residual_block on random {batch}x{size} inputs in {dtype} (seed {seed})")


check_random_block = Check("check_random_block", observe_random_block, judge_random_block)


def unchanged_case(x_needs_grad: bool) -> str:
    return f"residual_block and backward with an x that {'requires' if x_needs_grad else 'does not require'} grad"


def observe_inputs_unchanged(answer, batch, size, seed, x_needs_grad):
    """The caller's x and weight, and their version counters, after the answer and a backward pass through it."""
    x, weight = random_inputs(batch, size, seed)
    caller_x, caller_weight = x.requires_grad_(x_needs_grad), weight.requires_grad_()
    ran = returned(lambda: answer(caller_x, caller_weight).sum().backward())
    return {"ran": ran, "x": snapshot(caller_x), "weight": snapshot(caller_weight),
            "versions": [caller_x._version, caller_weight._version]}


def judge_inputs_unchanged(seen, batch, size, seed, x_needs_grad):
    x, weight = random_inputs(batch, size, seed)
    expect_returned(seen["ran"], what=unchanged_case(x_needs_grad), hint=WRITE_ONLY_YOURS)
    expect_true(torch.equal(seen["x"], x) and torch.equal(seen["weight"], weight) and seen["versions"] == [0, 0],
                what=f"the caller's x and weight after {unchanged_case(x_needs_grad)}", expected="unchanged",
                got="modified in place", hint=WRITE_ONLY_YOURS)


check_inputs_unchanged = Check("check_inputs_unchanged", observe_inputs_unchanged, judge_inputs_unchanged)


def difference_jacobian(f, point: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """d f(point)[i] / d point[j] for every output i and input j, as float64 central differences."""
    rows = [central_difference(lambda t, i=i: f(t).flatten()[i], point) for i in range(math.prod(shape))]
    return torch.stack(rows).reshape(*shape, *point.shape)


def observe_jacobians(answer, batch, size, seed):
    return {"jacobians": returned(torch.autograd.functional.jacobian, answer, random_inputs(batch, size, seed))}


def judge_jacobians(seen, batch, size, seed):
    case, got = f"the Jacobians of residual_block at a random {batch}x{size} input (seed {seed})", seen["jacobians"]
    x, weight = random_inputs(batch, size, seed)
    expect_returned(got, what=case)
    expect_true(type(got) is tuple and len(got) == 2, what=case, expected="one Jacobian for x and one for weight",
                got=repr(got), hint="residual_block(x, weight) must return one tensor computed from both")
    hint = "autograd's gradients must match finite differences for x and for weight"
    expect_close(got[0], difference_jacobian(lambda t: block(t, weight), x, (batch, size)), what=f"{case}, for x",
                 hint=hint)
    expect_close(got[1], difference_jacobian(lambda t: block(x, t), weight, (batch, size)), what=f"{case}, for weight",
                 hint=hint)


check_jacobians = Check("check_jacobians", observe_jacobians, judge_jacobians)

__all__ = ["check_block", "check_culprit", "check_inputs_unchanged", "check_jacobians", "check_random_block",
           "check_second_derivative", "check_xlogx"]
