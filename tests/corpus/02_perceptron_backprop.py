"""Misconceptions and correct answers for 02_perceptron_backprop."""

from misconceptions import Correct, Flagged, Mistake


def loss(body: str) -> dict[str, str]:
    return {"ex1_answer": "def binary_cross_entropy(y_true, y_pred):\n" + body}


def gradients(body: str) -> dict[str, str]:
    return {"ex2_answer": "def neuron_gradients(x, y, w, b):\n" + body}


P = "    p = torch.sigmoid(torch.tensor(w * x + b))\n"

CASES = [
    # Exercise 1: the mean binary cross-entropy, differentiable in y_pred.
    Correct("ex1-torch-loss", loss("    return F.binary_cross_entropy(y_pred, y_true)\n")),
    Correct("ex1-bce-module", loss("    return torch.nn.BCELoss()(y_pred, y_true)\n")),
    Correct("ex1-no-clamp-float64", loss(
        "    y, p = y_true.double(), y_pred.double()\n"
        "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n")),
    Correct("ex1-xlogy", loss(
        "    return -(torch.xlogy(y_true, y_pred) + torch.special.xlog1py(1 - y_true, -y_pred)).mean()\n")),
    Correct("ex1-from-logits", loss(
        "    return F.binary_cross_entropy_with_logits(torch.logit(y_pred), y_true)\n")),
    Mistake("ex1-lecture-minus-sign", loss(
        "    return (-(y_true * torch.log(y_pred)) + (1 - y_true) * torch.log(1 - y_pred)).mean()\n"),
        fails="ex1_tests", hint="the minus sign must cover the whole bracket", why="the lecture's bug"),
    Mistake("ex1-no-minus-sign", loss(
        "    return (y_true * torch.log(y_pred) + (1 - y_true) * torch.log(1 - y_pred)).mean()\n"),
        fails="ex1_tests", hint="the minus sign must cover the whole bracket", why="a log-likelihood, not a loss"),
    Mistake("ex1-only-the-label-term", loss(
        "    return (-y_true * torch.log(y_pred)).mean()\n"),
        fails="ex1_tests", hint="the (1 - y)·log(1 - p) term is missing", why="categorical cross-entropy's one term"),
    Mistake("ex1-sum", loss(
        "    return -(y_true * torch.log(y_pred) + (1 - y_true) * torch.log(1 - y_pred)).sum()\n"),
        fails="ex1_tests", hint="the mean of the per-element losses, not their sum", why="sum reduction"),
    Mistake("ex1-per-element", loss(
        "    return -(y_true * torch.log(y_pred) + (1 - y_true) * torch.log(1 - y_pred))\n"),
        fails="ex1_tests", hint="not one loss per element", why="no reduction"),
    Mistake("ex1-mean-keepdim", loss(
        "    return -(y_true * torch.log(y_pred) + (1 - y_true) * torch.log(1 - y_pred)).mean(dim=0, keepdim=True)\n"),
        fails="ex1_tests", hint="return the mean as a 0-d tensor: .mean() with no dim or keepdim, not shape (1,)",
        why="the right mean of a batch, of shape (1,)"),
    Mistake("ex1-log10", loss(
        "    return -(y_true * torch.log10(y_pred) + (1 - y_true) * torch.log10(1 - y_pred)).mean()\n"),
        fails="ex1_tests", hint="not log10", why="log means log10 on a calculator"),
    Mistake("ex1-torch-argument-order", loss("    return F.binary_cross_entropy(y_true, y_pred)\n"),
            fails="ex1_tests", hint="F.binary_cross_entropy takes the prediction first", why="(target, input)"),
    Mistake("ex1-swapped-roles", loss(
        "    return -(y_pred * torch.log(y_true) + (1 - y_pred) * torch.log(1 - y_true)).mean()\n"),
        fails="ex1_tests", hint="never of the labels", why="takes the log of the labels"),
    Mistake("ex1-hard-labels-only", loss(
        "    return torch.where(y_true == 1, -torch.log(y_pred), -torch.log(1 - y_pred)).mean()\n"),
        fails="ex1_tests", hint="labels may be any number in [0, 1]", why="assumes labels are exactly 0 or 1"),
    Mistake("ex1-python-float", loss(
        "    y, p = y_true.item(), y_pred.item()\n"
        "    return -(y * math.log(p) + (1 - y) * math.log(1 - p))\n"),
        fails="ex1_tests", hint="math.log and .item() give Python floats", why="leaves torch"),
    Mistake("ex1-detached", loss(
        "    p = y_pred.detach().clamp(1e-8, 1 - 1e-8)\n"
        "    return -(y_true * torch.log(p) + (1 - y_true) * torch.log(1 - p)).mean()\n"),
        fails="ex1_tests", hint="(no .item(), no math.log, no detach)", why="detaches before the clamp"),
    Mistake("ex1-clamp-in-place", loss(
        "    y_pred.clamp_(1e-8, 1 - 1e-8)\n"
        "    return -(y_true * torch.log(y_pred) + (1 - y_true) * torch.log(1 - y_pred)).mean()\n"),
        fails="ex1_tests", hint="you changed y_pred in place", why="in-place op on a leaf that requires grad"),
    Mistake("ex1-half-detached", loss(
        "    return -(y_true * torch.log(y_pred) + (1 - y_true) * torch.log(1 - y_pred.detach())).mean()\n"),
        fails="ex1_tests", hint="the value is right but its gradient is not", why="one term cut from the graph"),

    # Exercise 2: dL/dw and dL/db by the chain rule, no autograd.
    Correct("ex2-math-floats", gradients(
        "    p = 1 / (1 + math.exp(-(w * x + b)))\n"
        "    return torch.tensor((p - y) * x), torch.tensor(p - y)\n")),
    Correct("ex2-unsimplified-float64", gradients(
        "    p = torch.sigmoid(torch.tensor(w * x + b, dtype=torch.float64))\n"
        "    dL_dp = -y / p + (1 - y) / (1 - p)\n"
        "    dp_dz = p * (1 - p)\n"
        "    return dL_dp * dp_dz * x, dL_dp * dp_dz * 1.0\n")),
    Correct("ex2-numpy", gradients(
        "    p = 1 / (1 + np.exp(-(w * x + b)))\n"
        "    dL_dz = torch.as_tensor(p - y)\n"
        "    return dL_dz * x, dL_dz\n")),
    Correct("ex2-vector-then-unpack", gradients(
        "    dz = torch.tensor([x, 1.0])\n"
        "    grads = (torch.sigmoid(torch.tensor(w * x + b)) - y) * dz\n"
        "    return grads[0], grads[1]\n")),
    Mistake("ex2-sign-flipped", gradients(P + "    return (y - p) * x, y - p\n"),
            fails="ex2_tests", hint="the sign is flipped", why="y - p, or the lecture's loss"),
    Mistake("ex2-no-x-in-dw", gradients(P + "    return p - y, p - y\n"),
            fails="ex2_tests", hint="dz/dw = x", why="forgets dz/dw"),
    Mistake("ex2-x-in-db", gradients(P + "    return (p - y) * x, (p - y) * x\n"),
            fails="ex2_tests", hint="dz/db = 1", why="thinks dz/db = x"),
    Mistake("ex2-swapped-tuple", gradients(P + "    return p - y, (p - y) * x\n"),
            fails="ex2_tests", hint="the tuple is (dL_dw, dL_db), in that order", why="order of the outputs"),
    Mistake("ex2-dl-dp-is-p-minus-y", gradients(P + "    return (p - y) * p * (1 - p) * x, (p - y) * p * (1 - p)\n"),
            fails="ex2_tests", hint="dL/dp is (p - y)/(p(1 - p)), not p - y", why="squared-error derivative"),
    Mistake("ex2-no-sigmoid", gradients("    z = torch.tensor(w * x + b)\n    return (z - y) * x, z - y\n"),
            fails="ex2_tests", hint="apply the sigmoid to z", why="compares z with the label"),
    Mistake("ex2-unsimplified-float32", gradients(
        P + "    dL_dp = -y / p + (1 - y) / (1 - p)\n"
        "    dp_dz = p * (1 - p)\n"
        "    return dL_dp * dp_dz * x, dL_dp * dp_dz\n"),
        fails="ex2_tests", hint="∞ · 0 = nan", why="p rounds to 1 or 0 in float32 at a saturated neuron"),
    Mistake("ex2-python-floats", gradients(
        "    p = 1 / (1 + math.exp(-(w * x + b)))\n"
        "    return (p - y) * x, p - y\n"),
        fails="ex2_tests", hint="wrap a number from math in torch.tensor", why="returns floats"),
    Mistake("ex2-uses-backward", gradients(
        "    with torch.enable_grad():\n"
        "        weight = torch.tensor(w, requires_grad=True)\n"
        "        bias = torch.tensor(b, requires_grad=True)\n"
        "        p = torch.sigmoid(weight * x + bias)\n"
        "        F.binary_cross_entropy(p, torch.tensor(y)).backward()\n"
        "    return weight.grad, bias.grad\n"),
        fails="ex2_tests", hint="rule is the chain rule by hand, with no backward pass",
        why="breaks the rule: autograd instead of the chain rule"),
    Mistake("ex2-uses-autograd-grad", gradients(
        "    weight = torch.tensor(w, requires_grad=True)\n"
        "    bias = torch.tensor(b, requires_grad=True)\n"
        "    p = torch.sigmoid(weight * x + bias)\n"
        "    return torch.autograd.grad(F.binary_cross_entropy(p, torch.tensor(y)), (weight, bias))\n"),
        fails="ex2_tests", hint="called torch.autograd.grad 1 time", why="breaks the rule with another autograd API"),
    # The tests' checks are not the answer's to use (README, point 6).
    Flagged("ex2-tests-itself", gradients(P + "    return (p - y) * x, p - y\n\n\n"
                                          "check_gradients(neuron_gradients, 6.7, 0.0, 1.0, 0.0)\n"),
            finding="uses check_gradients, a check of the tests", why="copies the test cell's check into the answer"),
]
