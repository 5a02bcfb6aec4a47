"""The checks of 02_perceptron_backprop: ``binary_cross_entropy`` (exercise 1) and ``neuron_gradients`` (exercise 2).

Exercise 1's reference is torch's own loss, its value and its gradient with respect to the predictions; exercise
2's is a float64 central difference of torch's loss, independent of autograd and of any formula. A wrong value
that matches a known mistake gets the hint that names it.
"""

import torch
import torch.nn.functional as F

from ..cases import Check, expect_returned, returned, snapshot
from ..checks import expect_close, expect_rule, expect_true, hint_for
from ..numeric import central_difference
from ..rules import AutogradCalls
from ..values import Raised

MINUS_SIGN = "the minus sign must cover the whole bracket, both terms: -(y·log p + (1 - y)·log(1 - p))"


def loss_slips(labels, predictions):
    """Losses students write by mistake, at these labels and predictions, each with the hint that names it."""
    y, p = torch.tensor(labels, dtype=torch.float64), torch.tensor(predictions, dtype=torch.float64)
    per_element = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    return (
        ((-(y * torch.log(p)) + (1 - y) * torch.log(1 - p)).mean(), MINUS_SIGN),
        ((y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(), MINUS_SIGN),
        ((-(y * torch.log(p))).mean(), "the (1 - y)·log(1 - p) term is missing: for label 0 it is the whole loss"),
        (per_element.sum(), "a batch gives the mean of the per-element losses, not their sum"),
        (per_element, "return one number, the mean over all elements, as a 0-d tensor (not one loss per element)"),
        (-(y * torch.log10(p) + (1 - y) * torch.log10(1 - p)).mean(), "use the natural logarithm torch.log, not log10"),
        (-(y * torch.log2(p) + (1 - y) * torch.log2(1 - p)).mean(), "use the natural logarithm torch.log, not log2"),
        (F.binary_cross_entropy(y, p),
         "F.binary_cross_entropy takes the prediction first: F.binary_cross_entropy(y_pred, y_true)"),
        (torch.where(y == 1, -torch.log(p), -torch.log(1 - p)).mean(),
         "labels may be any number in [0, 1], not only 0 and 1: weigh both terms by y and 1 - y instead of choosing one "
         "by label"),
    )


LOSS_RAISED = ("'a leaf Variable that requires grad is being used in an in-place operation' means you changed y_pred in "
               "place (clamp_, +=): use torch.clamp(y_pred, ...), which returns a new tensor")


def observe_loss(answer, labels, predictions):
    """The loss of a fresh leaf of predictions, and that leaf's gradient after a backward pass through it."""
    predicted = torch.tensor(predictions, requires_grad=True)
    loss = returned(answer, torch.tensor(labels), predicted)
    tracked = type(loss) is torch.Tensor and loss.requires_grad
    backward = returned(torch.Tensor.backward, loss) if tracked else None
    return {"loss": snapshot(loss), "requires_grad": tracked,
            "grad": backward if type(backward) is Raised else predicted.grad}


def judge_loss(seen, labels, predictions):
    case, loss = f"binary_cross_entropy({labels}, {predictions})", seen["loss"]
    theirs = torch.tensor(predictions, requires_grad=True)
    reference = F.binary_cross_entropy(theirs, torch.tensor(labels))
    expect_returned(loss, what=case, hint=LOSS_RAISED)
    expect_true(type(loss) is torch.Tensor, what=case, expected="a 0-d torch.Tensor",
                got=f"{type(loss).__name__} {loss!r}",
                hint="build the loss from torch operations on y_pred: math.log and .item() give Python floats, "
                     "through which no gradient flows")
    if not bool(torch.isfinite(loss).all()):
        otherwise = "the log is taken of the predictions y_pred, in (0, 1), never of the labels, which can be 0 or 1"
    elif bool((loss < 0).any()):
        otherwise = MINUS_SIGN
    elif loss.shape != ():
        otherwise = f"return the mean as a 0-d tensor: .mean() with no dim or keepdim, not shape {tuple(loss.shape)}"
    else:
        otherwise = "compute -[y log p + (1 - y) log(1 - p)] elementwise from y_true and y_pred, then take the mean"
    expect_close(loss, reference.detach(), what=case, require_tensor=True,
                 hint=hint_for(loss, loss_slips(labels, predictions), otherwise))
    expect_true(seen["requires_grad"], what=f"{case}.requires_grad", expected="True", got="False",
                hint="build the loss from torch operations on y_pred (no .item(), no math.log, no detach)")
    expect_returned(seen["grad"], what=f"the backward pass of {case}")
    reference.backward()
    expect_close(seen["grad"], theirs.grad, what=f"the gradient of {case} with respect to y_pred",
                 hint="the value is right but its gradient is not: build every term from y_pred itself, not from a "
                      "detached copy")


check_against_torch = Check("check_against_torch", observe_loss, judge_loss)


def reference_gradients(x, y, w, b):
    """binary_cross_entropy_with_logits is the same loss of σ(z), computed without rounding σ(z) first."""
    label = torch.tensor(y, dtype=torch.float64)

    def loss_of_w(weight):
        return F.binary_cross_entropy_with_logits(weight * x + b, label)

    def loss_of_b(bias):
        return F.binary_cross_entropy_with_logits(w * x + bias, label)

    return central_difference(loss_of_w, w), central_difference(loss_of_b, b)


def gradient_slips(x, y, w, b):
    """Gradients students compute by mistake, each with the hint that names it: ((dL_dw, dL_db), hint)."""
    z = torch.tensor(w * x + b, dtype=torch.float64)
    p = torch.sigmoid(z)
    return (
        (((y - p) * x, y - p), "the sign is flipped: dL/dz = p - y, so for p > y and x > 0 both gradients are positive"),
        (((p - y), (p - y)), "dz/dw = x: dL_dw is dL/dz times x"),
        (((p - y) * x, (p - y) * x), "dz/db = 1: dL_db is dL/dz itself, without the factor x"),
        (((p - y), (p - y) * x), "the tuple is (dL_dw, dL_db), in that order"),
        (((p - y) * p * (1 - p) * x, (p - y) * p * (1 - p)),
         "dL/dp is (p - y)/(p(1 - p)), not p - y: times dp/dz = p(1 - p) it leaves dL/dz = p - y"),
        (((z - y) * x, z - y), "p = σ(wx + b): apply the sigmoid to z before comparing with the label"),
    )


SATURATED = ("p rounds to exactly 1 (or 0) in float32 here, so dL/dp · dp/dz is ∞ · 0 = nan: "
             "use the simplified dL/dz = p - y of section 2")


def observe_gradients(answer, x, y, w, b):
    with AutogradCalls() as calls:
        result = returned(answer, x, y, w, b)
    return {"result": result, "backward_passes": calls.backward_passes, "calls": calls.summary()}


def judge_gradients(seen, x, y, w, b):
    case, result = f"neuron_gradients({x}, {y}, {w}, {b})", seen["result"]
    expect_returned(result, what=case)
    expect_rule(seen["backward_passes"] == 0, what=case, rule="the chain rule by hand, with no backward pass",
                got=seen["calls"],
                hint="multiply the local derivatives dL/dp, dp/dz and dz/dw (or dz/db) yourself, as in section 3.5")
    expect_true(type(result) is tuple and len(result) == 2, what=case, expected="a tuple (dL_dw, dL_db)",
                got=f"{type(result).__name__} {result!r}", hint="return dL_dw, dL_db")
    for got, name in zip(result, ("dL_dw", "dL_db")):
        expect_true(type(got) is torch.Tensor, what=f"{name} of {case}", expected="a torch.Tensor",
                    got=f"{type(got).__name__} {got!r}",
                    hint="wrap a number from math in torch.tensor(...), or use torch functions")
    got_pair = torch.stack([result[0].double(), result[1].double()]) if all(got.shape == () for got in result) else None
    hint = "dL/dz = dL/dp · dp/dz; then dz/dw = x and dz/db = 1. For p > y and x > 0 both are positive"
    if got_pair is not None and not bool(torch.isfinite(got_pair).all()):
        hint = SATURATED
    elif got_pair is not None:
        hint = hint_for(got_pair, [(torch.stack(pair), slip) for pair, slip in gradient_slips(x, y, w, b)], hint)
    dL_dw, dL_db = reference_gradients(x, y, w, b)
    expect_close(result[0], dL_dw, what=f"dL_dw of {case}", require_tensor=True, hint=hint)
    expect_close(result[1], dL_db, what=f"dL_db of {case}", require_tensor=True, hint=hint)


check_gradients = Check("check_gradients", observe_gradients, judge_gradients)

__all__ = ["check_against_torch", "check_gradients"]
