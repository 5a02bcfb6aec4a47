"""The checks of 08_nonscalar_backward: ``jacobian_by_rows`` (exercise 1) and ``per_sample_gradients`` (exercise 2).

Every reference is a float64 central difference (``numeric``), row by row of the Jacobian and example by example
of the batch, independent of autograd and of any formula; a wrong value that matches a known mistake (Jᵀ, the
gradient of the batch mean ...) gets the hint that names it.
"""

import torch
import torch.nn.functional as F

from ..cases import Check, expect_returned, returned
from ..checks import expect_close, expect_equal, expect_rule, expect_true
from ..numeric import central_difference
from ..rules import TORCH_FUNC_PACKAGE, AutogradCalls, ready_made_callers

DTYPES = {"float32": torch.float32, "float64": torch.float64}

# Exercise 1. A call of f or a backward pass made from inside these modules belongs to a ready-made Jacobian, not to
# the answer's own VJPs.
READY_MADE = {"torch.autograd.functional": "torch.autograd.functional (jacobian, vjp ...)",
              TORCH_FUNC_PACKAGE: "torch.func (jacrev, vjp, vmap ...)"}


class JacobianProbe(AutogradCalls):
    """Counts the answer's backward passes and calls of f, and notes who made them."""

    def __init__(self, f):
        super().__init__()
        self.f, self.f_calls, self.helpers, self.batched = f, 0, set(), False

    def watched_f(self, v):  # handed to the answer in place of f
        self.f_calls += 1
        self.helpers |= ready_made_callers(READY_MADE)
        return self.f(v)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in (torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward):
            self.helpers |= ready_made_callers(READY_MADE)
            self.batched |= bool((kwargs or {}).get("is_grads_batched"))
        return super().__torch_function__(func, types, args, kwargs)


# The functions exercise 1's cases differentiate, by the name a message shows.
FUNCTIONS = {
    "cumsum(x)²/2": lambda v: torch.cumsum(v, dim=0) ** 2 / 2,
    "two outputs of three inputs": lambda v: torch.stack([v[0] * v[1], torch.sin(v[1]) + v[2] ** 2]),
    "three outputs of one input": lambda v: torch.stack([3 * v[0], v[0] ** 2, torch.exp(v[0])]),
    "one output, sum of squares": lambda v: (v**2).sum().reshape(1),
    "sin of one number": torch.sin,
    "tanh(x)·sum(x)": lambda v: torch.tanh(v) * v.sum(),  # m = n = 4, every entry non-zero
    "softmax": lambda v: torch.softmax(v, dim=0),
}
# Errors an answer may raise, by a fragment of torch's message, with the mistake each one means.
RAISED_HINTS = (
    ("a second time", "the first VJP freed the graph: pass retain_graph=True to keep it for the next rows"),
    ("Mismatch in shape", "grad_outputs weighs the outputs: e_i has the shape of f(x) (m entries), not of x"),
    ("out of bounds", "J has one row per output: loop over the m entries of f(x), not over the n entries of x"),
    ("does not require grad", "differentiate with respect to a leaf made from x with requires_grad_(), and call f on it"),
)


def matches(got: torch.Tensor, candidate: torch.Tensor) -> bool:
    return got.shape == candidate.shape and torch.allclose(got, candidate, rtol=1e-4, atol=1e-6)


def jacobian_hint(got, exact, otherwise):
    """The hint that names the mistake a wrong Jacobian shows, else ``otherwise``."""
    if type(got) is not torch.Tensor:
        return "return one tensor: torch.stack(rows) makes the (m, n) Jacobian from the list of rows"
    got, (m, n) = got.double(), exact.shape
    if got.shape != exact.shape and got.numel() == exact.numel() and matches(got, exact.reshape(got.shape)):
        return f"J keeps the shape (m, n) = {(m, n)} even when m or n is 1: do not squeeze or flatten it"
    if matches(got, exact.T):
        return "that is Jᵀ: row i must be the gradient of output i (one row per output), stacked along dim 0"
    if matches(got, exact.cumsum(0)):
        return "each row holds the rows before it too: backward() adds into .grad, so reset the leaf's .grad " \
               "between rows (or use torch.autograd.grad, which returns instead of adding)"
    if matches(got, exact.sum(0).expand(m, n)):
        return "every row is the sum of all rows: you stacked the same .grad tensor m times, and backward() " \
               "kept adding into it; store a clone of each row (or use torch.autograd.grad)"
    if matches(got, exact.sum(0)):
        return "that is 1ᵀJ, the gradient of f(x).sum(), one VJP; J needs one VJP per output, with the one-hot e_i"
    return otherwise


def rows_by_differences(f, x):
    """The float64 reference: row i is the central difference of output i."""
    return torch.stack([central_difference(lambda v, i=i: f(v)[i], x.double()) for i in range(len(f(x)))])


def observe_jacobian(answer, name, values, dtype="float32"):
    x = torch.tensor(values, dtype=DTYPES[dtype])
    probe = JacobianProbe(FUNCTIONS[name])
    with probe:
        got = returned(answer, probe.watched_f, x)
    return {"got": got, "x requires_grad": x.requires_grad, "x grad": x.grad, "helpers": sorted(probe.helpers),
            "backward_passes": probe.backward_passes, "batched": probe.batched, "calls": probe.summary(),
            "f_calls": probe.f_calls}


def judge_jacobian(seen, name, values, dtype="float32", otherwise="one row per output (m rows), one column per input"):
    f, x, got = FUNCTIONS[name], torch.tensor(values, dtype=DTYPES[dtype]), seen["got"]
    case = f"jacobian_by_rows({name}, {values}{', float64' if x.dtype == torch.float64 else ''})"
    expect_returned(got, what=case, hints=RAISED_HINTS)
    exact, m = rows_by_differences(f, x), len(f(x))
    expect_close(got, exact, what=case, require_tensor=True, hint=jacobian_hint(got, exact, otherwise))
    expect_equal(got.dtype, x.dtype, what=f"the dtype of {case}",
                 hint="make your leaf from x itself (x.detach().clone()), so that it keeps x's dtype")
    expect_true(seen["x grad"] is None and not seen["x requires_grad"], what=f"the x passed to {case}, after the call",
                expected="x as it was: requires_grad False, .grad None",
                got=f"requires_grad {seen['x requires_grad']}, .grad {seen['x grad']}",
                hint="leave the caller's x alone: differentiate with respect to a new leaf, "
                     "x.detach().clone().requires_grad_()")
    # Right numbers are not enough: the exercise is to get them from one forward pass and one VJP per row.
    expect_rule(not seen["helpers"], what=case, rule="your own VJPs, not a ready-made Jacobian",
                got=f"used {' and '.join(seen['helpers'])}",
                hint="row i is torch.autograd.grad(y, leaf, grad_outputs=e_i, retain_graph=True)[0]; stack the m rows")
    passes = seen["backward_passes"]
    expect_rule(passes == m or (seen["batched"] and passes == 1), what=case,
                rule=f"one VJP per row: {m} backward passes for {m} outputs (or one with is_grads_batched=True)",
                got=seen["calls"], hint="take row i as the VJP of y = f(leaf) with the one-hot e_i, from autograd "
                                        "(not from finite differences)")
    expect_rule(seen["f_calls"] == 1, what=case, rule="one forward pass: f runs once",
                got=f"ran f {seen['f_calls']} times",
                hint="compute y = f(leaf) once before the loop; retain_graph=True lets every row reuse its graph")


check_jacobian = Check("check_jacobian", observe_jacobian, judge_jacobian)


# Exercise 2: each loss is written for one example.
def squared_error(w, features, target):
    return (features @ w - target) ** 2


def logistic_loss(w, x, label):
    # Labels are ±1; softplus(−label·xᵀw) = log(1 + exp(−label·xᵀw)), the perceptron's cross-entropy.
    return F.softplus(-label * (x @ w))


def quadratic_form_loss(w, x, target):
    # Each input is a 2 × 3 matrix: the loss needs the whole example, not a row of it.
    return ((x @ w) ** 2).sum() - target * w.sum()


LOSSES = {"squared_error": squared_error, "logistic loss": logistic_loss, "quadratic form": quadratic_form_loss}
STEPS = [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
# The batches, by the name a message shows: (w, inputs, targets).
BATCHES = {
    # Section 3.5's: the line 1 + 2t, features (1, t), example 5 with the wrong sign of its label.
    "section 3.5's batch": ([1.0, 2.0], [[1.0, t] for t in STEPS], [-1.9, -1.2, 0.05, 1.15, 1.9, -3.2, 3.95, 5.1]),
    "one example": ([0.5, -1.0], [[1.0, -0.5]], [0.05]),
    "five examples, labels ±1": ([0.4, -0.6, 0.9],
                                 [[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [-0.7, 0.8, 0.1], [0.0, -2.0, 1.0], [2.2, 1.1, -1.4]],
                                 [1.0, -1.0, 1.0, 1.0, -1.0]),
    "matrix inputs": ([0.27, -1.27, 0.5],
                      [[[0.44, -0.01, -2.19], [0.74, 0.32, -0.49]], [[0.05, -1.78, 0.05], [0.25, -0.64, 0.92]],
                       [[-0.13, 1.67, -0.16], [0.14, -0.07, -1.02]], [[-0.57, 2.29, -1.08], [-0.45, 0.03, -1.02]]],
                      [0.42, -0.23, 0.86, 0.44]),
}
VMAP_RAISED_HINTS = (
    ("same size in the mapped dimension", "in_dims=(None, 0, 0): w is shared by all examples (None), "
                                          "only inputs and targets are sliced along dim 0"),
    ("to return a scalar", "torch.func.grad needs a scalar: differentiate ONE example's loss, torch.func.grad(loss), "
                           "and vmap that gradient, not the other way round"),
)


def batch(name, dtype):
    return tuple(torch.tensor(values, dtype=DTYPES[dtype]) for values in BATCHES[name])


def gradients_by_differences(loss, w, inputs, targets, argument=0):
    """The float64 reference: row b is the central difference of example b's loss in w (or in its input)."""
    w, inputs, targets = w.double(), inputs.double(), targets.double()

    def of_one(b):
        if argument == 0:
            return central_difference(lambda v: loss(v, inputs[b], targets[b]), w)
        return central_difference(lambda x: loss(w, x, targets[b]), inputs[b])

    return torch.stack([of_one(b) for b in range(len(targets))])


def per_sample_hint(got, exact, loss, w, inputs, targets, otherwise):
    """The hint that names the mistake a wrong result shows, else ``otherwise``."""
    if type(got) is not torch.Tensor:
        return "return one (B, P) tensor: vmap stacks the B gradients for you"
    got, (size, _) = got.double(), exact.shape

    def matches_any(candidate):  # a candidate of shape (P,) stands for that row repeated B times, too
        shapes = (candidate, candidate.expand_as(exact)) if candidate.ndim == 1 else (candidate,)
        return any(matches(got, shaped) for shaped in shapes)

    if matches_any(exact):  # right: the hint is not shown, and the costlier candidates below need not be computed
        return otherwise
    if matches_any(exact.T):
        return "that is the transpose: row b (dim 0) is example b, so the shape is (B, P)"
    if matches_any(exact / size):
        return "each row is B times too small: row b is the gradient of example b's own loss, not of its share of the mean"
    if matches_any(exact.mean(0)):
        return "that is the gradient of the batch MEAN loss (what backward() gives); row b is example b's loss alone"
    if matches_any(exact.sum(0)):
        return "that is the gradient of the SUMMED loss; row b is the gradient of example b's loss alone"
    if inputs.shape == exact.shape and matches_any(gradients_by_differences(loss, w, inputs, targets, argument=1)):
        return "that is the gradient with respect to the inputs: torch.func.grad(loss) differentiates in its first " \
               "argument, w (argnums=0)"
    return otherwise


def observe_per_sample(answer, loss, batch_name, dtype="float32"):
    w, inputs, targets = batch(batch_name, dtype)
    calls = []

    def counted_loss(*args):
        calls.append(1)
        return LOSSES[loss](*args)

    got = returned(answer, counted_loss, w, inputs, targets)
    return {"got": got, "loss calls": len(calls), "w requires_grad": w.requires_grad, "w grad": w.grad}


def judge_per_sample(seen, loss, batch_name, dtype="float32", otherwise="row b is the gradient of example b's loss alone"):
    (w, inputs, targets), got = batch(batch_name, dtype), seen["got"]
    shown = f"{loss}, {batch_name}{', float64' if dtype == 'float64' else ''}"
    case = f"per_sample_gradients({shown}, P = {len(w)}, B = {len(targets)})"
    expect_returned(got, what=case, hints=VMAP_RAISED_HINTS)
    expect_rule(seen["loss calls"] == 1, what=case,
                rule="no Python loop over the batch (vmap calls loss once for all examples)",
                got=f"called loss {seen['loss calls']} times for {len(targets)} examples",
                hint="replace the loop by torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))")
    exact = gradients_by_differences(LOSSES[loss], w, inputs, targets)
    expect_close(got, exact, what=case, require_tensor=True,
                 hint=per_sample_hint(got, exact, LOSSES[loss], w, inputs, targets, otherwise))
    expect_true(seen["w grad"] is None and not seen["w requires_grad"], what=f"w after {case}",
                expected="w as it was: requires_grad False, .grad None",
                got=f"requires_grad {seen['w requires_grad']}, .grad {seen['w grad']}",
                hint="torch.func.grad needs no requires_grad on w, and leaves w alone")


check_per_sample = Check("check_per_sample", observe_per_sample, judge_per_sample)

__all__ = ["check_jacobian", "check_per_sample"]
