"""The checks of 05_disabling_grad_tracking: ``evaluate_without_graph`` (exercise 1),
``backprop_with_first_layer_frozen`` (exercise 2) and ``snapshot`` (exercise 3).

The values are references computed here in float64 (closed forms, and a central difference in W2 with W1 held
fixed); whether a tensor is tracked, which leaves a graph leads to and what grad mode was left are facts the
kernel observes about the answer's tensors.
"""

import math
from dataclasses import dataclass
from typing import Callable

import torch

from ..cases import Check, expect_returned, returned, snapshot as copy_of
from ..checks import expect_close, expect_equal, expect_rule, expect_true
from ..numeric import central_difference, seeded_two_layer_network


def tracking_state(tensor) -> str:
    # The grad_fn's class name, not the object: its repr contains a memory address that changes from run to run.
    grad_fn = type(tensor.grad_fn).__name__ if tensor.grad_fn is not None else None
    return f"requires_grad={tensor.requires_grad}, is_leaf={tensor.is_leaf}, grad_fn={grad_fn}"


WEIGHT, POINT = [0.5, -2.0, 1.5], [1.0, 2.0, 3.0]


@dataclass(frozen=True)
class Evaluation:
    """One case of exercise 1: builds (f, x, the tensors whose flags must not change, what f recorded) in the
    kernel; its value in float64 and its hints outside."""

    build: Callable[[], tuple]
    value: Callable[[], object]
    untracked_hint: str | None  # None: the case does not look at the result's tracking state
    flags_hint: str | None = None
    grad_mode: bool = True  # grad mode when the answer is called
    watches_f: bool = False  # f reports whether it recorded its own intermediate


def square_at_a_leaf():
    x = torch.tensor(3.0, requires_grad=True)
    return (lambda t: t**2), x, [x], []


def weighted_sum():
    """f closes over a weight that requires grad: detaching x alone would still record w * t."""
    weight, point = torch.tensor(WEIGHT, requires_grad=True), torch.tensor(POINT)
    return (lambda t: (weight * t).sum()), point, [weight, point], []


def sine_of_a_non_leaf():
    """A non-leaf x: requires_grad_(False) is not even allowed on it."""
    non_leaf = torch.tensor([0.2, -1.1], requires_grad=True) * 2
    return torch.sin, non_leaf, [non_leaf], []


def spying_weighted_square():
    """f looks at its own intermediate: a graph built inside f and detached afterwards still cost its memory."""
    weight, recorded = torch.tensor(WEIGHT, requires_grad=True), []

    def spying_f(t):
        square = weight * t * t
        recorded.append(square.grad_fn is not None)
        return square.sum()

    return spying_f, torch.tensor(POINT), [], recorded


def doubling_at_a_leaf():
    x = torch.tensor(3.0, requires_grad=True)
    return (lambda t: t * 2), x, [], []


UNTRACKED_WEIGHTS = "every tensor f touches must be untracked, not only x: turn grad mode off"


def weighted(powers: int) -> float:
    return float(torch.tensor(WEIGHT, dtype=torch.float64) @ torch.tensor(POINT, dtype=torch.float64) ** powers)


EVALUATIONS = {
    "t**2, x = 3": Evaluation(square_at_a_leaf, lambda: 9.0, "run f where grad mode is off (section 3.2)",
                              "switch grad mode off for a block instead of changing x's flag"),
    "f(t) = (weight * t).sum()": Evaluation(
        weighted_sum, lambda: weighted(1), UNTRACKED_WEIGHTS, "do not change flags; turn grad mode off for a block"),
    "torch.sin, a non-leaf x": Evaluation(sine_of_a_non_leaf, lambda: [math.sin(0.4), math.sin(-2.2)],
                                          "turn grad mode off for the call of f", "turn grad mode off for the call of f"),
    "f(t) = (weight * t * t).sum()": Evaluation(spying_weighted_square, lambda: weighted(2), None, watches_f=True),
    "t * 2, x = 3, called under no_grad": Evaluation(doubling_at_a_leaf, lambda: 6.0, None, grad_mode=False),
}


def observe_evaluation(answer, case):
    """The answer's result, the grad mode it left (read right after the call, then the caller's mode is back, so that
    an answer that leaves it off cannot break the cells below), and the flags of the tensors f was given."""
    evaluation = EVALUATIONS[case]
    f, x, watched, recorded = evaluation.build()
    flags_before = [tracking_state(tensor) for tensor in watched]
    with torch.set_grad_enabled(evaluation.grad_mode):
        result = returned(answer, f, x)
        grad_mode_after = torch.is_grad_enabled()
    tensor = type(result) is torch.Tensor
    return {"result": copy_of(result), "untracked": tensor and result.grad_fn is None and not result.requires_grad,
            "state": tracking_state(result) if tensor else type(result).__name__, "grad mode after": grad_mode_after,
            "flags before": flags_before, "flags after": [tracking_state(tensor) for tensor in watched],
            "recorded": recorded}


def judge_evaluation(seen, case):
    evaluation, what = EVALUATIONS[case], f"evaluate_without_graph({case})"
    expect_returned(seen["result"], what=what)
    expect_true(seen["grad mode after"] is evaluation.grad_mode, what=f"grad mode after {what}",
                expected="on, as before the call" if evaluation.grad_mode else "still off",
                got="on" if seen["grad mode after"] else "off",
                hint="use a with-block, so that grad mode is restored when it ends" if evaluation.grad_mode else
                     "restore the mode the caller had, which may be off: a with-block does, set_grad_enabled(True) "
                     "does not")
    expect_close(seen["result"], evaluation.value(), what=what, require_tensor=True, hint="the value must be f(x) itself")
    if evaluation.watches_f:
        # an untracked result was detached after f had recorded; a tracked one was never out of grad mode
        expect_equal(seen["recorded"], [False], what="intermediates recorded inside f, per call",
                     hint="f must run with grad mode off; detaching its result afterwards is too late"
                          if seen["untracked"] else UNTRACKED_WEIGHTS)
    if evaluation.untracked_hint is not None:
        expect_true(seen["untracked"], what=f"the tracking state of the result of {what}",
                    expected="grad_fn None and requires_grad False", got=seen["state"], hint=evaluation.untracked_hint)
    if evaluation.flags_hint is not None:
        expect_true(seen["flags after"] == seen["flags before"], what=f"the flags of the tensors f was given, {what}",
                    expected=f"unchanged ({'; '.join(seen['flags before'])})", got="; ".join(seen["flags after"]),
                    hint=evaluation.flags_hint)


check_evaluation = Check("check_evaluation", observe_evaluation, judge_evaluation)


def two_layer_loss(x, W1, W2):
    hidden = torch.tanh(x @ W1)
    return ((hidden @ W2) ** 2).mean()



def leads_to(loss, leaf) -> bool:
    """Whether the loss's recorded graph leads to ``leaf`` (AccumulateGrad nodes hold the leaf they write .grad into)."""
    nodes = [loss.grad_fn]
    while nodes:
        node = nodes.pop()
        if node is None:
            continue
        if type(node).__name__ == "AccumulateGrad" and node.variable is leaf:
            return True
        nodes.extend(next_node for next_node, _ in node.next_functions)
    return False


def observe_frozen_backprop(answer, batch, n_in, n_hidden, n_out, seed):
    x, W1, W2 = seeded_two_layer_network(batch, n_in, n_hidden, n_out, seed)
    loss = returned(answer, x, W1, W2)
    return {"loss": copy_of(loss), "reaches W1": type(loss) is torch.Tensor and leads_to(loss, W1),
            "W1 requires_grad": W1.requires_grad, "W1 grad": copy_of(W1.grad),
            "W2 requires_grad": W2.requires_grad, "W2 grad": copy_of(W2.grad)}


def judge_frozen_backprop(seen, batch, n_in, n_hidden, n_out, seed):
    x, W1, W2 = (tensor.detach().double() for tensor in seeded_two_layer_network(batch, n_in, n_hidden, n_out, seed))
    shapes = f"W1 {tuple(W1.shape)}, W2 {tuple(W2.shape)}"
    expect_returned(seen["loss"], what=f"backprop_with_first_layer_frozen, {shapes}",
                    hint="if backward() says 'does not require grad', the loss was computed with recording off: "
                         "switch off only W1's flag")
    expect_close(seen["loss"], two_layer_loss(x, W1, W2), require_tensor=True, what=f"the loss for {shapes}",
                 hint="return the loss tensor two_layer_loss(x, W1, W2), not .item()")
    expect_true(not seen["W1 requires_grad"] and seen["W1 grad"] is None, what="W1 after the call",
                expected="requires_grad=False and grad None",
                got=f"requires_grad={seen['W1 requires_grad']}, grad={seen['W1 grad']}",
                hint="you froze W2 instead: W1 is the one to freeze, W2 keeps learning" if not seen["W2 requires_grad"]
                else "freeze the leaf W1 itself, in place, before the forward pass (section 3.3)")
    expect_rule(not seen["reaches W1"], what=f"the loss's graph, {shapes}", rule="to freeze W1 before the forward pass",
                got="recorded a graph that still leads to W1",
                hint="freezing after the forward pass is too late (section 5.3): call W1.requires_grad_(False) first")
    grad = seen["W2 grad"]
    expect_true(seen["W2 requires_grad"] and grad is not None, what="W2 after the call",
                expected="requires_grad=True and a gradient",
                got=f"requires_grad={seen['W2 requires_grad']}, grad={grad}",
                hint="leave W2 alone and call backward() on the loss")
    # The reference: float64 finite differences in W2, with W1 held fixed.
    expected = central_difference(lambda W: two_layer_loss(x, W1, W), W2)
    twice = type(grad) is torch.Tensor and grad.shape == expected.shape and bool(expected.abs().max() > 0) \
        and torch.allclose(grad.double(), 2 * expected, rtol=1e-4)
    expect_close(grad, expected, what="W2.grad",
                 hint="backward() ran twice, and gradients accumulate: call it once" if twice else
                      "the loss must be two_layer_loss(x, W1, W2), differentiated once")


check_frozen_backprop = Check("check_frozen_backprop", observe_frozen_backprop, judge_frozen_backprop)


# The tensors exercise 3 snapshots, by the words a message shows.
SNAPSHOTTED = {
    "t = x**2 at x = 3": lambda: torch.tensor(3.0, requires_grad=True) ** 2,
    "a 2x2 leaf": lambda: torch.tensor([[1.5, -0.5], [2.0, 4.0]], requires_grad=True),
    "t = exp(x), 3 elements": lambda: torch.exp(torch.tensor([0.1, 0.2, 0.3], requires_grad=True)),
    "a float64 non-leaf": lambda: torch.tensor([0.25, 1.0 / 3.0], dtype=torch.float64, requires_grad=True) * 2,
    "a transposed view of a leaf": lambda: torch.arange(6.0).reshape(2, 3).requires_grad_().t(),
}


def observe_snapshot(answer, case):
    """The snapshot and its tracking state, t's own state after the call; then t is changed in place, and the
    snapshot is sent as it is after that change."""
    t = SNAPSHOTTED[case]()
    had_graph = t.grad_fn is not None
    saved = returned(answer, t)
    tensor = type(saved) is torch.Tensor
    seen = {"untracked": tensor and saved.grad_fn is None and not saved.requires_grad,
            "state": tracking_state(saved) if tensor else type(saved).__name__,
            "t unchanged": (t.grad_fn is not None) == had_graph and t.requires_grad, "t state": tracking_state(t)}
    with torch.no_grad():
        t.mul_(-3.0).add_(1.0)
    return {**seen, "saved": saved}


def judge_snapshot(seen, case):
    what, saved, t = f"snapshot of {case}", seen["saved"], SNAPSHOTTED[case]().detach()
    expect_returned(saved, what=what)
    expect_true(type(saved) is torch.Tensor, what=f"type of the {what}", expected="a torch.Tensor",
                got=type(saved).__name__, hint="return a tensor: .numpy() and .tolist() leave torch")
    expect_true(seen["untracked"], what=f"the snapshot's tracking state, {case}",
                expected="grad_fn None and requires_grad False", got=seen["state"],
                hint="take the values out of the graph (section 3.4): a copy made from t by clone() or copy_() is recorded")
    expect_true(seen["t unchanged"], what=f"{case} after the call", expected="its graph unchanged", got=seen["t state"],
                hint="do not modify t; make a new tensor")
    expect_true(saved.dtype == t.dtype and saved.shape == t.shape, what=f"the {what}",
                expected=f"dtype {t.dtype}, shape {tuple(t.shape)}", got=f"dtype {saved.dtype}, shape {tuple(saved.shape)}",
                hint=f"keep t's {'dtype' if saved.dtype != t.dtype else 'shape'}: copy the tensor itself, with no "
                     "conversion or reshaping on the way")
    expect_close(saved, t, what=f"the {what} after it was changed in place",
                 hint="detach() and numpy() share t's memory (section 3.4): the snapshot needs memory of its own")


check_snapshot = Check("check_snapshot", observe_snapshot, judge_snapshot)

__all__ = ["check_evaluation", "check_frozen_backprop", "check_snapshot"]
