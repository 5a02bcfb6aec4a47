"""Misconceptions and correct answers for 05_disabling_grad_tracking."""

from misconceptions import Correct, Flagged, Mistake


def evaluate_answer(body):
    return {"ex1_answer": "def evaluate_without_graph(f, x):\n" + body}


def frozen_answer(body):
    return {"ex2_answer": "def backprop_with_first_layer_frozen(x, W1, W2):\n" + body}


def snapshot_answer(expression):
    return {"ex3_answer": f"def snapshot(t):\n    return {expression}\n"}


CASES = [
    # Exercise 1: evaluate without building a graph.
    Correct("ex1-set-grad-enabled", evaluate_answer("    with torch.set_grad_enabled(False):\n        return f(x)\n")),
    Correct("ex1-inference-mode", evaluate_answer("    with torch.inference_mode():\n        return f(x)\n")),
    Correct("ex1-decorator", evaluate_answer("    return torch.no_grad()(f)(x)\n")),
    Correct("ex1-save-and-restore", evaluate_answer(
        "    was_enabled = torch.is_grad_enabled()\n"
        "    torch.set_grad_enabled(False)\n"
        "    try:\n"
        "        return f(x)\n"
        "    finally:\n"
        "        torch.set_grad_enabled(was_enabled)\n")),
    Mistake("ex1-detach-input-only", evaluate_answer("    return f(x.detach())\n"),
            fails="ex1_tests", hint="every tensor f touches must be untracked", why="f's own weights still record"),
    Mistake("ex1-detach-result", evaluate_answer("    return f(x).detach()\n"),
            fails="ex1_tests", hint="detaching its result afterwards is too late", why="the graph was built anyway"),
    Mistake("ex1-flag-off-and-on", evaluate_answer(
        "    x.requires_grad_(False)\n"
        "    result = f(x)\n"
        "    x.requires_grad_(True)\n"
        "    return result\n"),
        fails="ex1_tests", hint="every tensor f touches must be untracked", why="switches only x's flag"),
    Mistake("ex1-flag-off", evaluate_answer("    x.requires_grad_(False)\n    return f(x)\n"),
            fails="ex1_tests", hint="instead of changing x's flag", why="leaves x frozen"),
    Mistake("ex1-never-restored", evaluate_answer("    torch.set_grad_enabled(False)\n    return f(x)\n"),
            fails="ex1_tests", hint="use a with-block, so that grad mode is restored", why="grad mode stays off"),
    Mistake("ex1-switched-back-on", evaluate_answer(
        "    torch.set_grad_enabled(False)\n"
        "    result = f(x)\n"
        "    torch.set_grad_enabled(True)\n"
        "    return result\n"),
        fails="ex1_tests", hint="restore the mode the caller had, which may be off", why="assumes it was on"),
    Mistake("ex1-no-grad-not-entered", evaluate_answer("    torch.no_grad()\n    return f(x)\n"),
            fails="ex1_tests", hint="run f where grad mode is off", why="no_grad() outside a with does nothing"),

    # Exercise 2: freeze the first layer.
    Correct("ex2-flag-attribute", frozen_answer(
        "    W1.requires_grad = False\n"
        "    loss = two_layer_loss(x, W1, W2)\n"
        "    loss.backward()\n"
        "    return loss\n")),
    Correct("ex2-autograd-backward", frozen_answer(
        "    W1.requires_grad_(False)\n"
        "    loss = two_layer_loss(x, W1, W2)\n"
        "    torch.autograd.backward([loss])\n"
        "    return loss\n")),
    Correct("ex2-autograd-grad", frozen_answer(
        "    W1.requires_grad_(False)\n"
        "    loss = two_layer_loss(x, W1, W2)\n"
        "    (W2.grad,) = torch.autograd.grad(loss, [W2])\n"
        "    return loss\n")),
    Mistake("ex2-frozen-after-forward", frozen_answer(
        "    loss = two_layer_loss(x, W1, W2)\n"
        "    W1.requires_grad_(False)\n"
        "    loss.backward()\n"
        "    return loss\n"),
        fails="ex2_tests", hint="freezing after the forward pass is too late", why="the graph still leads to W1"),
    Mistake("ex2-detached-copy", frozen_answer(
        "    loss = two_layer_loss(x, W1.detach(), W2)\n"
        "    loss.backward()\n"
        "    return loss\n"),
        fails="ex2_tests", hint="freeze the leaf W1 itself, in place", why="the caller's W1 still requires grad"),
    Mistake("ex2-froze-w2", frozen_answer(
        "    W2.requires_grad_(False)\n"
        "    loss = two_layer_loss(x, W1, W2)\n"
        "    loss.backward()\n"
        "    return loss\n"),
        fails="ex2_tests", hint="you froze W2 instead", why="the wrong layer"),
    Mistake("ex2-no-backward", frozen_answer(
        "    W1.requires_grad_(False)\n"
        "    return two_layer_loss(x, W1, W2)\n"),
        fails="ex2_tests", hint="call backward() on the loss", why="W2.grad stays None"),
    Mistake("ex2-backward-twice", frozen_answer(
        "    W1.requires_grad_(False)\n"
        "    loss = two_layer_loss(x, W1, W2)\n"
        "    loss.backward(retain_graph=True)\n"
        "    loss.backward()\n"
        "    return loss\n"),
        fails="ex2_tests", hint="backward() ran twice, and gradients accumulate", why="gradients add up"),
    Mistake("ex2-everything-under-no-grad", frozen_answer(
        "    with torch.no_grad():\n"
        "        loss = two_layer_loss(x, W1, W2)\n"
        "    loss.backward()\n"
        "    return loss\n"),
        fails="ex2_tests", hint="raised RuntimeError: element 0 of tensors does not require grad",
        why="no_grad freezes W2 too"),
    Mistake("ex2-grad-erased", frozen_answer(
        "    loss = two_layer_loss(x, W1, W2)\n"
        "    loss.backward()\n"
        "    W1.grad = None\n"
        "    return loss\n"),
        fails="ex2_tests", hint="freeze the leaf W1 itself, in place", why="computes W1's gradient, then hides it"),
    Mistake("ex2-returns-number", frozen_answer(
        "    W1.requires_grad_(False)\n"
        "    loss = two_layer_loss(x, W1, W2)\n"
        "    loss.backward()\n"
        "    return loss.item()\n"),
        fails="ex2_tests", hint="return the loss tensor", why="a float, not the loss"),

    # Exercise 3: a snapshot that stays put.
    Correct("ex3-clone-then-detach", snapshot_answer("t.clone().detach()")),
    Correct("ex3-clone-under-no-grad", {"ex3_answer": (
        "def snapshot(t):\n"
        "    with torch.no_grad():\n"
        "        return t.clone()\n")}),
    Correct("ex3-numpy-copy", snapshot_answer("torch.from_numpy(t.detach().numpy().copy())")),
    Correct("ex3-copy-into-new", snapshot_answer("torch.empty_like(t, requires_grad=False).copy_(t.detach())")),
    Mistake("ex3-detach-only", snapshot_answer("t.detach()"),
            fails="ex3_tests", hint="detach() and numpy() share t's memory", why="a view, not a copy"),
    Mistake("ex3-clone-only", snapshot_answer("t.clone()"),
            fails="ex3_tests", hint="a copy made from t by clone() or copy_() is recorded", why="the copy stays in the graph"),
    Mistake("ex3-python-list", snapshot_answer("torch.tensor(t.tolist())"),
            fails="ex3_tests", hint="keep t's dtype: copy the tensor itself", why="float64 becomes float32"),
    Mistake("ex3-converted", snapshot_answer("t.detach().clone().float()"),
            fails="ex3_tests", hint="keep t's dtype: copy the tensor itself", why="converts the copy to float32"),
    Mistake("ex3-flattened", snapshot_answer("t.detach().flatten().clone()"),
            fails="ex3_tests", hint="keep t's shape: copy the tensor itself", why="a flat copy of a matrix"),
    Mistake("ex3-numpy-array", snapshot_answer("t.detach().numpy().copy()"),
            fails="ex3_tests", hint="return a tensor", why="leaves torch"),
    Mistake("ex3-numpy-view", snapshot_answer("torch.from_numpy(t.detach().numpy())"),
            fails="ex3_tests", hint="detach() and numpy() share t's memory", why="numpy() shares memory too"),
    Mistake("ex3-detach-in-place", snapshot_answer("t.detach_()"),
            fails="ex3_tests", hint="do not modify t", why="cuts t's own graph"),
    Mistake("ex3-one-number", snapshot_answer("torch.tensor(t.item())"),
            fails="ex3_tests", hint="raised RuntimeError", why="works only for one element"),
    Mistake("ex3-copy-from-tracked", snapshot_answer("torch.empty_like(t).copy_(t)"),
            fails="ex3_tests", hint="a copy made from t by clone() or copy_() is recorded", why="copy_ from t is recorded"),
    # The tests' checks are not the answer's to use (README, point 6).
    Flagged("ex3-tests-itself", {"ex3_answer": "def snapshot(t):\n    return t.detach().clone()\n\n\n"
                                               "check_snapshot(snapshot, 't = x**2 at x = 3')\n"},
            finding="uses check_snapshot, a check of the tests", why="copies the test cell's check into the answer"),
]
