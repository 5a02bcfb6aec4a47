"""The checks of 07_graph_anatomy: ``count_paths`` (exercise 1), ``train`` (exercise 2) and
``loss_and_hidden_gradient`` (exercise 3).

Exercise 1's expected counts come from the formulas, read path by path, not from walking the graph; exercise 2's
reference is the training loop in float64 with the gradient derived by hand; exercise 3's are float64 central
differences (``numeric``). A wrong value that matches a known mistake gets the hint that names it.
"""

from dataclasses import dataclass

import torch

from ..cases import Check, expect_returned, returned
from ..checks import expect_close, expect_equal, expect_rule, expect_true, hint_for
from ..numeric import central_difference, seeded_two_layer_network
from ..rules import AutogradCalls

# Exercise 1: count_paths(tensor, leaf).

SKIP_NONE = "an edge to None (a constant input) leads nowhere: skip it before reading its next_functions"
EVERY_EDGE = ("follow every entry of next_functions, not only the first, even two entries to the same node, and count "
              "a node again each time a path reaches it")
WHOLE_PATHS = ("count whole paths from tensor.grad_fn: a node reached along two paths passes both on, so do not "
               "count only the edges that enter the leaf's node")
NOT_SEEN = "do not skip a node you have already seen: reached along k paths, it counts k times"
ONLY_THE_LEAF = "count only the AccumulateGrad whose .variable is the leaf"


def perceptron(leaf: str):
    """The lecture's perceptron loss (x = 6.7, target 0, w = 1, b = 0), and its leaf w, b or one it does not use."""
    w, b = torch.tensor(1.0, requires_grad=True), torch.tensor(0.0, requires_grad=True)
    unused = torch.tensor(4.0, requires_grad=True)
    x, y = torch.tensor(6.7), torch.tensor(0.0)
    p = torch.sigmoid(x * w + b)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)), {"w": w, "b": b, "unused": unused}[leaf]


def chain():
    x = torch.tensor(5.47, requires_grad=True)
    return torch.exp(torch.sin(x**2)), x


def square():
    x = torch.tensor(5.47, requires_grad=True)
    return x * x, x


def two_leaves():
    x, v = torch.tensor(5.47, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    return x * 3.0 + v, v


def equal_values():
    """Two leaves with the same value are still two tensors: a*b + b has one path to a, two to b."""
    a, b = torch.tensor(2.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    return a * b + b, a


def squarings():
    """Every MulBackward0 has two edges to the previous node, so paths double at each of the 10 squarings."""
    t = torch.tensor(1.01, requires_grad=True)
    power = t
    for _ in range(10):
        power = power * power
    return power, t


def diamond():
    """u = s + s*s + sin(s), s = v*c: paths to v 1 + 2 + 1."""
    v = torch.tensor(0.3, requires_grad=True)
    s = v * torch.tensor(2.0)
    return s + s * s + torch.sin(s), v


def matrices():
    """(A @ B).sum() computed twice: two separate subgraphs, one path to A through each; B's paths do not count."""
    A = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    B = torch.tensor([[0.5], [-1.0]], requires_grad=True)
    return (A @ B).sum() * (A @ B).sum(), A


@dataclass(frozen=True)
class Graph:
    build: object  # () -> (tensor, leaf)
    paths: int  # counted by hand, path by path
    mistakes: tuple = ()  # (what a mistake returns, its hint)
    otherwise: str = ""
    raised: str = SKIP_NONE


GRAPHS = {
    "count_paths(exp(sin(x**2)), x)": Graph(
        chain, 1, otherwise="a chain has exactly one path from tensor.grad_fn to the leaf's AccumulateGrad"),
    "count_paths(x * x, x)": Graph(square, 2, ((1, EVERY_EDGE),), otherwise=EVERY_EDGE),
    "count_paths(3x + v, v)": Graph(two_leaves, 1, (
        (2, "count only the AccumulateGrad whose .variable is the leaf you were given"),
        (0, "follow every entry of next_functions, not only the first")),
        otherwise="count only the AccumulateGrad whose .variable is the leaf you were given"),
    # With one edge into each leaf's node, counting those edges gives 1; counting every leaf's paths gives 2 + 2.
    "perceptron loss, paths to w": Graph(lambda: perceptron("w"), 2, ((1, f"{WHOLE_PATHS}; {NOT_SEEN}"),
                                                                      (4, ONLY_THE_LEAF)),
                                         otherwise="add the paths of every edge; skip None edges"),
    "perceptron loss, paths to b": Graph(lambda: perceptron("b"), 2, ((1, f"{WHOLE_PATHS}; {NOT_SEEN}"),
                                                                      (4, ONLY_THE_LEAF)),
                                         otherwise="add the paths of every edge; skip None edges"),
    "perceptron loss, paths to a leaf the loss does not use": Graph(
        lambda: perceptron("unused"), 0, ((4, ONLY_THE_LEAF),),
        otherwise="a leaf the tensor does not depend on has 0 paths"),
    "count_paths(a*b + b, a) with a = b = 2": Graph(
        equal_values, 1, ((3, "compare the AccumulateGrad's .variable with `is`: `==` compares values, and here a == b"),),
        otherwise="count only the AccumulateGrad whose .variable is a"),
    "count_paths(t**1024 by 10 squarings, t)": Graph(
        squarings, 2**10, ((1, f"paths double at a node with two edges to the same child: {NOT_SEEN}"), (2, WHOLE_PATHS)),
        otherwise="paths double at a node with two edges to the same child: count edges, not distinct nodes"),
    "count_paths(s + s*s + sin(s), v)": Graph(diamond, 4, ((1, NOT_SEEN), (3, EVERY_EDGE)),
                                              otherwise="add the paths of every edge leaving a node"),
    "count_paths(sum(A @ B) * sum(A @ B), A)": Graph(
        matrices, 2, ((4, "count only the AccumulateGrad of A, not B's"),),
        otherwise="one path per edge sequence, whatever the tensors' shapes",
        raised="compare the AccumulateGrad's .variable with `is`: `==` compares a matrix element by element"),
}


def observe_count(answer, graph):
    tensor, leaf = GRAPHS[graph].build()
    return {"count": returned(answer, tensor, leaf)}


def judge_count(seen, graph):
    case, count = GRAPHS[graph], seen["count"]
    expect_returned(count, what=graph, hint=case.raised)
    expect_true(type(count) is int, what=f"the type {graph} returns", expected="int", got=type(count).__name__,
                hint="count with Python ints (0, 1, sums of them)")
    expect_equal(count, case.paths, what=graph, hint=dict(case.mistakes).get(count, case.otherwise))


check_count = Check("check_count", observe_count, judge_count)


# Exercise 2: train(x, y, lr, steps).

def line():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    return x, 2 * x + 1


def noisy():
    # A private generator: the values do not depend on how many random numbers earlier cells drew.
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(12, generator=generator)
    return x, -1.5 * x + 0.25 + 0.1 * torch.randn(12, generator=generator)


DATA = {"the line y = 2x + 1": line, "12 noisy points": noisy,
        "3 points": lambda: (torch.tensor([0.5, -2.0, 3.0]), torch.tensor([1.0, 0.0, -2.0]))}


def gradient_descent_float64(x, y, lr, steps, reset_w=True, reset_b=True, loss_after_update=False):
    """The loop in float64 with the gradient derived by hand: dL/dw = 2 mean((w x + b - y) x), dL/db = 2 mean(w x + b - y).

    reset_w=False / reset_b=False replay a loop that never resets that gradient (it sums all gradients so far);
    loss_after_update=True records each step's loss after its update instead of before.
    """
    x, y = x.double(), y.double()
    w, b, losses, used_w, used_b = 0.0, 0.0, [], 0.0, 0.0
    for _ in range(steps):
        residual = w * x + b - y
        grad_w, grad_b = float(2 * (residual * x).mean()), float(2 * residual.mean())
        used_w = grad_w + (0.0 if reset_w else used_w)
        used_b = grad_b + (0.0 if reset_b else used_b)
        w, b = w - lr * used_w, b - lr * used_b
        losses.append(float(((w * x + b - y) ** 2).mean() if loss_after_update else (residual**2).mean()))
    return w, b, losses


TRAINING_MISTAKES = [
    (dict(reset_w=False, reset_b=False), "neither w.grad nor b.grad is reset, so each update uses the sum of all "
                                         "gradients so far (section 3.4): reset both every step"),
    (dict(reset_b=False), "b.grad is never reset, so b's update uses the sum of all its gradients so far: reset b.grad "
                          "every step too"),
    (dict(reset_w=False), "w.grad is never reset, so w's update uses the sum of all its gradients so far: reset w.grad "
                          "every step too"),
    (dict(loss_after_update=True), "losses[k] is the loss computed at step k before its update: append it before "
                                   "updating w and b"),
]
RAISED_IN_TRAIN = ("update w and b in place (w -= lr * w.grad) under torch.no_grad() (section 5.4), and reset a "
                   "gradient only once backward() has made it (it is None before the first backward())")


def observe_training(answer, data, lr, steps):
    with AutogradCalls() as calls:
        result = returned(answer, *DATA[data](), lr, steps)
    return {"result": result, "backward_passes": calls.backward_passes, "calls": calls.summary()}


def judge_training(seen, data, lr, steps):
    x, y = DATA[data]()
    case, result = f"train on {len(x)} points, lr={lr}, steps={steps}", seen["result"]
    expect_returned(result, what=case, hint=RAISED_IN_TRAIN)
    expect_rule(seen["backward_passes"] >= steps, what=case, rule="to get every step's gradient from autograd (backward())",
                got=f"{seen['calls']} in {steps} steps", hint="call loss.backward() every step and read w.grad, b.grad")
    expect_true(type(result) is tuple and len(result) == 3, what=f"what {case} returns", expected="w, b, losses",
                got=type(result).__name__, hint="return w, b, losses")
    w_got, b_got, losses_got = result
    expect_true(type(losses_got) in (list, tuple, torch.Tensor), what=f"losses for {case}", expected="a list of floats",
                got=type(losses_got).__name__, hint="append one loss per step")
    expect_equal(len(losses_got), steps, what=f"len(losses) for {case}", hint="append one loss per step")
    losses_got = torch.tensor([float(loss) for loss in losses_got], dtype=torch.float64)
    w_ref, b_ref, losses_ref = gradient_descent_float64(x, y, lr, steps)
    otherwise = ("each update must use the gradient of that step's loss alone (section 3.4)"
                 if abs(float(losses_got[0]) - losses_ref[0]) <= 1e-5 else
                 "the first loss is the one at w = b = 0: make new w and b inside train on every call")
    hint = next((hint for variant, hint in TRAINING_MISTAKES
                 if torch.allclose(losses_got, torch.tensor(gradient_descent_float64(x, y, lr, steps, **variant)[2],
                                                            dtype=torch.float64), rtol=1e-4, atol=1e-5)), otherwise)
    expect_close(losses_got, losses_ref, rtol=1e-4, atol=1e-5, what=f"losses ({case})", hint=hint)
    expect_close(w_got, w_ref, rtol=1e-4, atol=1e-5, what=f"w ({case})", require_tensor=True, hint=hint)
    expect_close(b_got, b_ref, rtol=1e-4, atol=1e-5, what=f"b ({case})", require_tensor=True, hint=hint)


check_training = Check("check_training", observe_training, judge_training)


# Exercise 3: loss_and_hidden_gradient(x, W1, W2).

RETAIN_BEFORE = ("h.grad is None: call h.retain_grad() before backward(), on the very h the loss is computed from "
                 "(section 3.3)")



def observe_hidden_gradient(answer, batch, n_in, n_hidden, n_out, seed):
    x, W1, W2 = seeded_two_layer_network(batch, n_in, n_hidden, n_out, seed)
    with AutogradCalls() as calls:
        result = returned(answer, x, W1, W2)
    return {"result": result, "W1.grad": W1.grad, "W2.grad": W2.grad, "backward_passes": calls.backward_passes,
            "calls": calls.summary()}


def judge_hidden_gradient(seen, batch, n_in, n_hidden, n_out, seed):
    x, W1, W2 = seeded_two_layer_network(batch, n_in, n_hidden, n_out, seed)
    x64, W1_64, W2_64 = x.double(), W1.detach().double(), W2.detach().double()
    case, result = f"x {tuple(x.shape)}, W1 {tuple(W1.shape)}, W2 {tuple(W2.shape)}", seen["result"]
    expect_returned(result, what=f"loss_and_hidden_gradient({case})",
                    hint="h.retain_grad() before one loss.backward(); a second backward() through the graph fails")
    expect_rule(seen["backward_passes"] == 1, what=f"loss_and_hidden_gradient({case})", rule="one backward pass",
                got=seen["calls"], hint="h.retain_grad() before loss.backward() gives h.grad, W1.grad and W2.grad "
                                        "from that one pass")
    expect_true(type(result) is tuple and len(result) == 2, what=f"what loss_and_hidden_gradient({case}) returns",
                expected="loss, hidden_grad", got=type(result).__name__, hint="return loss, hidden_grad")
    loss, hidden_grad = result
    # References: float64 central differences of the loss in h, W1 and W2, each with the others held fixed.
    hidden_64 = torch.tanh(x64 @ W1_64)
    output_64 = hidden_64 @ W2_64
    expect_close(loss, (output_64**2).mean(), what=f"the loss ({case})", require_tensor=True,
                 hint="return the loss tensor itself, not loss.item()" if type(loss) is float else hint_for(loss, [
                     ((output_64**2).sum(), "the loss is the mean of the squares, not their sum")],
                     otherwise="loss = ((tanh(x @ W1) @ W2) ** 2).mean()", atol=1e-8))
    expected = central_difference(lambda h: ((h @ W2_64) ** 2).mean(), hidden_64)
    expect_close(hidden_grad, expected, what=f"dL/dh ({case})", require_tensor=True,
                 hint=RETAIN_BEFORE if hidden_grad is None else hint_for(hidden_grad, [
                     (expected * n_out, "the mean divides by all batch × n_out elements of h @ W2, not by the batch size"),
                 ], otherwise="return h.grad, the gradient that flowed through h in that backward()", atol=1e-8))
    for name, leaf, loss_of in (("W1", W1_64, lambda W: ((torch.tanh(x64 @ W) @ W2_64) ** 2).mean()),
                                ("W2", W2_64, lambda W: ((hidden_64 @ W) ** 2).mean())):
        got = seen[f"{name}.grad"]
        expect_close(got, central_difference(loss_of, leaf), what=f"{name}.grad ({case})", require_tensor=True,
                     hint=(f"{name}.grad is None: compute h from {name} without detach() so the loss reaches it, "
                           "and call backward() on the loss") if got is None else
                          "call backward() on the loss, once, so that the leaves get their gradients")


check_hidden_gradient = Check("check_hidden_gradient", observe_hidden_gradient, judge_hidden_gradient)

__all__ = ["check_count", "check_hidden_gradient", "check_training"]
