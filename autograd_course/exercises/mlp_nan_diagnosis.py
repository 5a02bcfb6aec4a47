"""The checks of 04_mlp_nan_diagnosis: ``nonfinite_grad_names`` (exercise 1), ``safe_eps`` (exercise 2) and
``stable_bce_with_logits`` (exercise 3).

Exercise 1's expected names are written down with the gradients each case builds; exercise 2's verdict is IEEE 754
rounding, computed here in the dtype the case names; exercise 3's references are torch's own loss in float64, the
closed form dℓ/dz = (σ(z) - y) / n and, for moderate logits, a float64 central difference of the lecture's formula.
A wrong answer that shows a known mistake gets the hint that names it.
"""

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ..cases import Check, expect_returned, returned, snapshot
from ..checks import RAISED_HINT, TENSOR_TYPES, expect_close, expect_equal, expect_finite, expect_rule, expect_true, \
    same_value
from ..numeric import central_difference

NAN, INF = math.nan, math.inf


def with_grad(grad, values=None) -> torch.Tensor:
    """A leaf whose .grad is set by hand, as a backward pass would leave it."""
    grad = torch.tensor(grad)
    leaf = (torch.zeros_like(grad) if values is None else torch.tensor(values)).requires_grad_()
    leaf.grad = grad
    return leaf


def untouched() -> torch.Tensor:
    return torch.tensor([1.0, 2.0], requires_grad=True)


def sqrt_at_its_kinks() -> dict:
    """sqrt has slope 1/(2 sqrt(x)) = inf at 0; 0 * sqrt(x - 1) has slope 0 * inf = nan at x = 1 (one element)."""
    weight = torch.tensor(2.0, requires_grad=True)
    bias = torch.tensor(0.0, requires_grad=True)
    scale = torch.tensor([1.0, 3.0], requires_grad=True)
    (weight**2 + torch.sqrt(bias) + (0 * torch.sqrt(scale - 1)).sum()).backward()
    return {"weight": weight, "bias": bias, "scale": scale, "unused": untouched()}


def section_3_1_mlp() -> dict:
    """The MLP of section 3.1 after its backward pass: its seed-0 weights, drawn without touching torch's own RNG."""
    draws = torch.Generator().manual_seed(0)
    params = {name: torch.rand(*shape, generator=draws).requires_grad_()
              for name, shape in (("W1", (2, 2)), ("b1", (2,)), ("W2", (2, 1)), ("b2", (1,)))}
    z2 = torch.relu(torch.tensor([3.9, 90]) @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    p = torch.clamp(torch.sigmoid(z2), 1e-8, 1 - 1e-8)
    (-torch.log(1 - p)).backward()  # the lecture's loss for the target y = 0
    return params


@dataclass(frozen=True)
class Gradients:
    """A dict of parameters exercise 1's answer gets, the names it must return, and the hint if it raises."""

    build: Callable[[], dict]
    broken: list
    raised_hint: str = "call it on this dict in a new cell to see where it fails"


# The dicts exercise 1's cases pass, by the words a message shows.
GRADIENTS = {
    "unused.grad = None": Gradients(
        lambda: {"unused": untouched()}, [],
        "no gradient reached this leaf, so its .grad is None: skip it (test `tensor.grad is not None` first)"),
    "weight.grad = 4, bias.grad = inf, scale.grad = [nan, 0], unused.grad = None": Gradients(
        sqrt_at_its_kinks, ["bias", "scale"]),
    "-inf, nan, finite (some huge) and missing gradients, keys not in order": Gradients(
        lambda: {"z_last": with_grad([[1.0, -INF], [0.0, 2.0]]), "a_fine": with_grad([0.5, -3.0]),
                 "m_untouched": untouched(), "k_nan": with_grad([NAN]),
                 "b_huge_but_finite": with_grad([3e38, 3e38, -1e38]), "c_one_huge": with_grad(3e38)},
        ["k_nan", "z_last"]),
    "every gradient finite": Gradients(lambda: {"u": with_grad([1.0] * 4), "v": untouched()}, []),
    "the MLP of section 3.1": Gradients(section_3_1_mlp, ["W1", "W2", "b1", "b2"]),
}

# One gradient at a time, each at the edge where one misconception shows: (grad, values, broken?, the hint).
PROBES = (
    ([1.0], [NAN], False, "look at tensor.grad, not at the tensor's own values"),
    ([NAN], None, True,
     "NaN compares unequal to everything, itself included: find it with torch.isnan or torch.isfinite, never =="),
    ([INF], None, True, "torch.isnan alone misses ±inf: torch.isfinite is False for NaN and ±inf"),
    ([-INF], None, True, "-inf is broken too, not only +inf: torch.isfinite catches both signs"),
    ([NAN, 0.0], None, True, "one non-finite element is enough: the gradient is broken if ANY element is NaN or ±inf"),
    ([3e38, 3e38], None, False,
     "every element of [3e38, 3e38] is finite, but their sum (or mean, or norm) overflows to inf: test the elements"),
)


def observe_names(answer, case):
    """The names for the case's dict, and for each probe's gradient alone (asked every time, judged if needed)."""
    return {"names": returned(answer, GRADIENTS[case].build()),
            "alone": [returned(answer, {"p": with_grad(grad, values)}) for grad, values, _, _ in PROBES]}


def names_hint(names, expected, alone) -> str:
    """The hint for a wrong list, found from what the answer said about one probe's gradient at a time."""
    if type(names) is not list:
        return "return a list: sorted(...) makes one from any iterable of names"
    if all(type(name) is str for name in names) and sorted(names) == expected:
        return "sort the names: return sorted(...)"
    for (grad, _, broken, hint), said in zip(PROBES, alone):
        expect_returned(said, what=f"nonfinite_grad_names on one gradient {torch.tensor(grad)}")
        if not same_value(said, ["p"] if broken else []):
            return hint
    return "a gradient is broken if any element is NaN or ±inf; skip .grad None; sort the names"


def judge_names(seen, case):
    what, gradients, names = f"nonfinite_grad_names({case})", GRADIENTS[case], seen["names"]
    expect_returned(names, what=what, hint=gradients.raised_hint)
    if not same_value(names, gradients.broken):
        expect_equal(names, gradients.broken, what=what, hint=names_hint(names, gradients.broken, seen["alone"]))


check_names = Check("check_names", observe_names, judge_names)


FLOAT_DTYPES = {str(dtype).removeprefix("torch."): dtype
                for dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16)}


def significand_bits(dtype) -> int:
    return 1 - round(math.log2(torch.finfo(dtype).eps))


def smallest_safe(dtype) -> float:
    """Closed form for a p-bit significand: the midpoint below 1 is at distance 2**-(p+1), and the next number
    above 2**-(p+1) is 2**-(p+1) * (1 + 2**(1-p)). Used only to name a mistake, not to judge the answer."""
    bits = significand_bits(dtype)
    return 2.0 ** -(bits + 1) * (1 + 2.0 ** (1 - bits))


def observe_safe_eps(answer, dtype_name):
    return {"eps": returned(answer, FLOAT_DTYPES[dtype_name])}


def judge_safe_eps(seen, dtype_name):
    dtype, eps = FLOAT_DTYPES[dtype_name], seen["eps"]
    what = f"safe_eps({dtype})"
    expect_returned(eps, what=what)
    expect_true(type(eps) is float, what=f"type of {what}", expected="a Python float", got=type(eps).__name__,
                hint="return tensor.item(), which is a Python float, not the tensor itself")
    machine_eps = torch.finfo(dtype).eps
    for other in FLOAT_DTYPES.values():
        expect_true(other == dtype or eps != smallest_safe(other), what=f"{what} = {eps!r}",
                    expected=f"a number derived from torch.finfo({dtype})", got=f"the answer for {other}",
                    hint="derive it from torch.finfo(dtype): a number fixed for one dtype is wrong for the others")
    stored = torch.tensor(eps, dtype=dtype)
    hair_off = abs(eps - smallest_safe(dtype)) <= smallest_safe(dtype) * machine_eps  # within one step of it
    expect_true(stored.item() == eps, what=f"{what} = {eps!r}", expected=f"a number that {dtype} stores exactly",
                got=f"{eps!r}, which {dtype} rounds to {stored.item()!r}",
                hint=("a hair off: take the step with torch.nextafter on a tensor of that dtype, "
                      "not with math.nextafter or float arithmetic, which step in float64") if hair_off else
                     "the clamp rounds ε to the dtype before it is used, so pick a number the dtype can store, "
                     "derived from torch.finfo(dtype)")
    one = torch.tensor(1.0, dtype=dtype)
    expect_true(bool(one - stored < one), what=f"1 - {what} computed in {dtype}", expected="a number below 1",
                got=repr((one - stored).item()),
                hint=("1 - finfo.eps/4 lies exactly halfway between 1 and the largest number below 1, and a tie rounds "
                      "to the neighbour with an even last bit, 1.0: step just past finfo.eps/4")
                if eps == machine_eps / 4 else
                "ε is too small: 1 - ε rounds back to 1 (compare ε with half the spacing below 1, finfo.eps / 4)")
    next_smaller = torch.nextafter(stored, torch.zeros_like(stored))
    named = {machine_eps: "finfo(dtype).eps is safe, but not the smallest: the spacing below 1 is only half of it",
             machine_eps / 2: "finfo(dtype).eps / 2, the spacing below 1, is safe, but not the smallest: "
                              "anything past the midpoint finfo.eps / 4 already rounds down"}
    expect_true(bool(one - next_smaller == one), what=f"1 - (the {dtype} number just below {what})",
                expected="exactly 1.0, so that safe_eps is the smallest", got=repr((one - next_smaller).item()),
                hint=named.get(eps, "ε is not the smallest: the spacing below 1 is finfo(dtype).eps / 2, "
                                    "and a tie at its midpoint rounds to 1.0"))


check_safe_eps = Check("check_safe_eps", observe_safe_eps, judge_safe_eps)


class TorchCalls(TorchFunctionMode):
    """Records the name of every torch function the answer calls while the ``with`` block runs."""

    def __init__(self):
        super().__init__()
        self.names = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.add(getattr(func, "__name__", repr(func)))
        return func(*args, **(kwargs or {}))


SATURATING_LOGIT = 20.0  # float32 sigmoid is exactly 1 from z = 16.64 on (section 3.2), and exp(20) does not overflow


def observe_loss(answer, logits, targets):
    """The loss of a fresh leaf of logits, the torch losses it called, and that leaf's gradient after backward();
    then the loss at one saturating logit alone, which tells a formed p from an overflowing exp(z)."""
    leaf = torch.tensor(logits).requires_grad_()
    with TorchCalls() as calls:
        loss = returned(answer, leaf, torch.tensor(targets))
    tracked = type(loss) in TENSOR_TYPES and loss.requires_grad
    backward = returned(torch.Tensor.backward, loss) if tracked else None
    seen = {"loss": snapshot(loss), "called": sorted(name for name in calls.names if "binary_cross_entropy" in name),
            "requires_grad": tracked, "backward": backward, "grad": snapshot(leaf.grad)}
    return {**seen, "saturated": returned(answer, torch.tensor([SATURATING_LOGIT]), torch.tensor([0.0]))}


def bce64(logits, targets, sign=-1.0, reduce=torch.mean):
    """The loss in float64 from the stable formula; sign and reduce give the two common slips, to name them."""
    z, y = logits.double(), targets.double()
    return reduce(torch.clamp(z, min=0) + sign * z * y + torch.log1p(torch.exp(-z.abs())))


def value_hint(loss, logits, targets, saturated) -> str:
    if type(loss) not in TENSOR_TYPES or loss.ndim != 0:
        return "return the mean over all elements as a 0-d tensor: .mean() with no dim, no .item()"
    value = loss.double()
    if not bool(torch.isfinite(value)):
        expect_returned(saturated, what=f"stable_bce_with_logits at z = {SATURATING_LOGIT:g}, y = 0")
        if not (type(saturated) in TENSOR_TYPES and bool(torch.isfinite(saturated).all())):
            return ("sigmoid(z) rounds to exactly 1 for z >= 16.64 (section 3.2), so log(1 - p) = -inf: "
                    "never form p, use max(z, 0) - z*y + log(1 + exp(-|z|))")
        return "exp(z) overflows to inf for z > 88.7 in float32: exponentiate only -|z|, which is never positive"
    if torch.allclose(value, bce64(logits, targets, reduce=torch.sum)):
        return "average over all elements (.mean()), do not sum"
    if torch.allclose(value, bce64(logits, targets, sign=1.0)):
        return "mind the sign of the z*y term: the loss is max(z, 0) - z*y + log(1 + exp(-|z|))"
    if torch.allclose(value, bce64(logits, (targets == 1).to(targets.dtype))):
        return "targets may be fractional (y = 0.3): use the term - z*y, not a choice between the cases y = 0 and y = 1"
    if bool(logits.abs().max() > 17) and value < bce64(logits, targets):
        return "clamping p caps the loss of a confidently wrong logit (fix (a), section 3.4): compute it from z"
    return "the mean over all elements of max(z, 0) - z*y + log(1 + exp(-|z|))"


def expect_loss(seen, logits, targets) -> str:
    """The value, the rule and the graph of the answer's loss, against torch's own loss in float64; the case's name."""
    what, loss = f"z = {logits}, y = {targets}", seen["loss"]
    z, y = torch.tensor(logits), torch.tensor(targets)
    expect_returned(loss, what=f"stable_bce_with_logits, {what}")
    expect_rule(not seen["called"], what=f"stable_bce_with_logits, {what}", rule="to write the loss yourself",
                got=f"called {', '.join(seen['called'])}",
                hint="write max(z, 0) - z*y + log(1 + exp(-|z|)) with torch operations")
    reference = F.binary_cross_entropy_with_logits(z.double(), y.double())
    if not (type(loss) in TENSOR_TYPES and loss.ndim == 0
            and torch.allclose(loss.double(), reference, rtol=1e-4, atol=1e-6)):
        expect_close(loss, reference, what=f"stable_bce_with_logits value, {what}", require_tensor=True,
                     hint=value_hint(loss, z, y, seen["saturated"]))
    expect_true(seen["requires_grad"], what=f"the loss's graph, {what}", expected="a loss that depends on z",
                got="a tensor autograd cannot differentiate (requires_grad=False)",
                hint="compute the loss from z with torch operations (no .detach(), .item() or torch.tensor(...) copies)")
    expect_returned(seen["backward"], what=f"backward() through your loss, {what}", hint=RAISED_HINT)
    return what


def judge_gradient(seen, logits, targets):
    what = expect_loss(seen, logits, targets)
    expect_finite(seen["grad"], what=f"gradient of stable_bce_with_logits, {what}",
                  hint="the value is right but the gradient is not finite: a branch torch.where does not pick still "
                       "runs its backward (0 * inf = NaN); use exp(-|z|), which never overflows, in every branch")
    z, y = torch.tensor(logits, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64)
    expect_close(seen["grad"], (torch.sigmoid(z) - y) / z.numel(), what=f"gradient of stable_bce_with_logits, {what}",
                 hint="build the loss from torch operations on z so autograd differentiates it; average, do not sum")


check_gradient = Check("check_gradient", observe_loss, judge_gradient)


def judge_gradient_by_differences(seen, logits, targets):
    """For moderate logits the lecture's formula is accurate in float64: its central differences need no autograd."""
    what = expect_loss(seen, logits, targets)
    y = torch.tensor(targets, dtype=torch.float64)

    def lectures_loss(z):
        p = torch.sigmoid(z)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()

    expect_close(seen["grad"], central_difference(lectures_loss, torch.tensor(logits)), hint=(
        "differentiate through torch operations on z"), what=f"gradient of stable_bce_with_logits, {what}")


check_gradient_by_differences = Check("check_gradient_by_differences", observe_loss, judge_gradient_by_differences)

__all__ = ["check_gradient", "check_gradient_by_differences", "check_names", "check_safe_eps"]
