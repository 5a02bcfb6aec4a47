"""Misconceptions and correct answers for 11_debugging_gradients."""

from misconceptions import Correct, Mistake


def xlogx(body):
    return {"ex1_answer": "def safe_xlogx(x):\n" + body}


def culprit(body):
    return {"ex2_answer": "def first_nonfinite_layer(layers, x):\n" + body}


def block(body):
    return {"ex3_answer": "def residual_block(x, weight):\n" + body}


# ex2: hooks that store each layer's input gradient under its index; the answers differ in how they read them.
HOOKED = (
    "    grads = {}\n"
    "    hidden = x.detach().clone().requires_grad_()\n"
    "    for index, (_name, function) in enumerate(layers):\n"
    "        hidden.register_hook(lambda grad, index=index: grads.__setitem__(index, grad))\n"
    "        hidden = function(hidden)\n"
    "    hidden.sum().backward()\n")

CASES = [
    # Exercise 1: safe_xlogx.
    Correct("ex1-log-input-only", xlogx(
        "    safe = torch.where(x > 0, x, torch.ones_like(x))\n"
        "    return torch.where(x > 0, x * torch.log(safe), torch.zeros_like(x))\n")),
    Correct("ex1-mask-multiply", xlogx(
        "    mask = (x > 0).to(x.dtype)\n"
        "    safe = x * mask + (1 - mask)\n"
        "    return mask * safe * torch.log(safe)\n")),
    Correct("ex1-masked-fill-xlogy", xlogx(
        "    off = x <= 0\n"
        "    safe = x.masked_fill(off, 1.0)\n"
        "    return torch.xlogy(safe, safe).masked_fill(off, 0.0)\n")),
    Mistake("ex1-naive-where", xlogx("    return torch.where(x > 0, x * torch.log(x), torch.zeros_like(x))\n"),
            fails="ex1_tests", hint="the unpicked branch still runs backward", why="log sees x <= 0"),
    Mistake("ex1-clamp-zero", xlogx(
        "    safe = torch.clamp(x, min=0)\n"
        "    return torch.where(x > 0, safe * torch.log(safe), torch.zeros_like(x))\n"),
            fails="ex1_tests", hint="clamp(x, min=0) keeps 0", why="log(0) = -inf in the unpicked branch"),
    Mistake("ex1-clamp-epsilon", xlogx(
        "    safe = torch.clamp(x, min=1e-12)\n"
        "    return torch.where(x > 0, x * torch.log(safe), torch.zeros_like(x))\n"),
            fails="ex1_tests", hint="a clamp to a small epsilon", why="changes log x for tiny positive x"),
    Mistake("ex1-add-epsilon", xlogx(
        "    safe = torch.where(x > 0, x, torch.ones_like(x))\n"
        "    return torch.where(x > 0, safe * torch.log(safe + 1e-12), torch.zeros_like(x))\n"),
            fails="ex1_tests", hint="or an added epsilon", why="log(x + eps) for tiny x"),
    Mistake("ex1-mask-includes-zero", xlogx(
        "    safe = torch.where(x >= 0, x, torch.ones_like(x))\n"
        "    return torch.where(x >= 0, safe * torch.log(safe), torch.zeros_like(x))\n"),
            fails="ex1_tests", hint="not x >= 0", why="0 * log 0 = nan in the picked branch"),
    Mistake("ex1-python-loop", xlogx(
        "    values = [v * math.log(v) if v > 0 else 0.0 for v in x.flatten().tolist()]\n"
        "    return torch.tensor(values, dtype=x.dtype).reshape(x.shape)\n"),
            fails="ex1_tests", hint="without .detach(), .item() or torch.tensor(...) copies", why="leaves the graph"),
    Mistake("ex1-nan-to-num", xlogx(
        "    return torch.nan_to_num(torch.where(x > 0, x * torch.log(x), 0.0))\n"),
            fails="ex1_tests", hint="the unpicked branch still runs backward", why="cleans the value, not the gradient"),
    Mistake("ex1-custom-backward-no-second", xlogx(
        "    class XLogX(torch.autograd.Function):\n"
        "        @staticmethod\n"
        "        def forward(ctx, t):\n"
        "            ctx.save_for_backward(t)\n"
        "            safe = torch.where(t > 0, t, torch.ones_like(t))\n"
        "            return torch.where(t > 0, safe * torch.log(safe), torch.zeros_like(t))\n"
        "\n"
        "        @staticmethod\n"
        "        def backward(ctx, grad_output):\n"
        "            (t,) = ctx.saved_tensors\n"
        "            return grad_output * torch.where(t > 0, torch.log(t) + 1, torch.zeros_like(t))\n"
        "\n"
        "    return XLogX.apply(x)\n"),
            fails="ex1_tests", hint="every derivative of the unpicked branch stays finite", why="log(t) in backward: NaN second derivative"),

    # Exercise 2: first_nonfinite_layer.
    Correct("ex2-setitem-hook", culprit(HOOKED + (
        "    for index in reversed(range(len(layers))):\n"
        "        if index in grads and not torch.isfinite(grads[index]).all():\n"
        "            return layers[index][0]\n"
        "    return None\n"))),
    Correct("ex2-retain-grad", culprit(
        "    inputs = []\n"
        "    hidden = x.detach().clone().requires_grad_()\n"
        "    for _name, function in layers:\n"
        "        hidden.retain_grad()\n"
        "        inputs.append(hidden)\n"
        "        hidden = function(hidden)\n"
        "    hidden.sum().backward()\n"
        "    culprits = [name for (name, _), t in zip(layers, inputs) if t.grad is not None and not torch.isfinite(t.grad).all()]\n"
        "    return culprits[-1] if culprits else None\n")),
    Correct("ex2-autograd-grad", culprit(
        "    inputs = []\n"
        "    hidden = x.detach().clone().requires_grad_()\n"
        "    for _name, function in layers:\n"
        "        inputs.append(hidden)\n"
        "        hidden = function(hidden)\n"
        "    grads = torch.autograd.grad(hidden.sum(), inputs, allow_unused=True)\n"
        "    for (name, _), grad in reversed(list(zip(layers, grads))):\n"
        "        if grad is not None and not bool(torch.isfinite(grad).all()):\n"
        "            return name\n"
        "    return None\n")),
    Correct("ex2-max-index", culprit(HOOKED + (
        "    bad = [index for index, grad in grads.items() if (grad.isnan() | grad.isinf()).any()]\n"
        "    return layers[max(bad)][0] if bad else None\n"))),
    Mistake("ex2-first-in-forward-order", culprit(HOOKED + (
        "    for index in range(len(layers)):\n"
        "        if index in grads and not torch.isfinite(grads[index]).all():\n"
        "            return layers[index][0]\n"
        "    return None\n")),
            fails="ex2_tests", hint="read the recorded gradients from the last layer back", why="NaN spreads to every earlier layer"),
    Mistake("ex2-hooks-on-outputs", culprit(
        "    grads = {}\n"
        "    hidden = x.detach().clone().requires_grad_()\n"
        "    for index, (_name, function) in enumerate(layers):\n"
        "        hidden = function(hidden)\n"
        "        hidden.register_hook(lambda grad, index=index: grads.__setitem__(index, grad))\n"
        "    hidden.sum().backward()\n"
        "    for index in reversed(range(len(layers))):\n"
        "        if index in grads and not torch.isfinite(grads[index]).all():\n"
        "            return layers[index][0]\n"
        "    return None\n"),
            fails="ex2_tests", hint="is the layer just before", why="output gradient instead of input gradient"),
    Mistake("ex2-isnan-only", culprit(HOOKED + (
        "    for index in reversed(range(len(layers))):\n"
        "        if index in grads and grads[index].isnan().any():\n"
        "            return layers[index][0]\n"
        "    return None\n")),
            fails="ex2_tests", hint="catches ±inf as well as NaN", why="misses +inf"),
    Mistake("ex2-hook-call-order", culprit(
        "    fired = []\n"
        "    hidden = x.detach().clone().requires_grad_()\n"
        "    for name, function in layers:\n"
        "        hidden.register_hook(lambda grad, name=name: fired.append((name, grad)))\n"
        "        hidden = function(hidden)\n"
        "    hidden.sum().backward()\n"
        "    for name, grad in fired:  # hooks fire from the last layer back\n"
        "        if not torch.isfinite(grad).all():\n"
        "            return name\n"
        "    return None\n"),
            fails="ex2_tests", hint="do not rely on the order hooks are called in", why="rule: hook order"),
    Mistake("ex2-no-fresh-leaf", culprit(
        "    grads = {}\n"
        "    hidden = x\n"
        "    for index, (_name, function) in enumerate(layers):\n"
        "        hidden.register_hook(lambda grad, index=index: grads.__setitem__(index, grad))\n"
        "        hidden = function(hidden)\n"
        "    hidden.sum().backward()\n"
        "    for index in reversed(range(len(layers))):\n"
        "        if index in grads and not torch.isfinite(grads[index]).all():\n"
        "            return layers[index][0]\n"
        "    return None\n"),
            fails="ex2_tests", hint="not on x itself", why="the caller's x gets a .grad"),
    Mistake("ex2-skips-first-input", culprit(
        "    grads = {}\n"
        "    hidden = x.detach().clone().requires_grad_()\n"
        "    for index, (_name, function) in enumerate(layers):\n"
        "        if index > 0:\n"
        "            hidden.register_hook(lambda grad, index=index: grads.__setitem__(index, grad))\n"
        "        hidden = function(hidden)\n"
        "    hidden.sum().backward()\n"
        "    for index in reversed(range(len(layers))):\n"
        "        if index in grads and not torch.isfinite(grads[index]).all():\n"
        "            return layers[index][0]\n"
        "    return None\n"),
            fails="ex2_tests", hint="the first one included", why="the leaf input is not hooked"),
    Mistake("ex2-returns-index", culprit(HOOKED + (
        "    for index in reversed(range(len(layers))):\n"
        "        if index in grads and not torch.isfinite(grads[index]).all():\n"
        "            return index\n"
        "    return None\n")),
            fails="ex2_tests", hint="return the name of a layer", why="index instead of name"),

    # Exercise 3: residual_block.
    Correct("ex3-clone-then-inplace", block(
        "    h = x.clone()\n"
        "    h += torch.tanh(x @ weight)\n"
        "    return torch.relu_(h)\n")),
    Correct("ex3-tanh-inplace-on-matmul", block(
        "    h = torch.tanh_(x @ weight) + x  # mm saved x and weight, not its output\n"
        "    return h.clamp_(min=0)\n")),
    Correct("ex3-masked-write", block(
        "    h = torch.tanh(x @ weight) + x\n"
        "    h[h < 0] = 0\n"
        "    return h\n")),
    Correct("ex3-out-of-place", block("    return torch.nn.functional.relu(torch.tanh(torch.matmul(x, weight)) + x)\n")),
    Mistake("ex3-kept-both-writes", block(
        "    h = torch.tanh(x @ weight)\n"
        "    h += x\n"
        "    return torch.relu_(h)\n"),
            fails="ex3_tests", hint="is at version 2", why="writes twice into tanh's saved output"),
    Mistake("ex3-removed-wrong-write", block(
        "    h = torch.tanh(x @ weight)\n"
        "    h += x\n"
        "    return torch.relu(h)\n"),
            fails="ex3_tests", hint="is at version 1", why="the residual add is the harmful write"),
    Mistake("ex3-data-write", block(
        "    h = torch.tanh(x @ weight)\n"
        "    h.data += x.data\n"
        "    return torch.relu(h)\n"),
            fails="ex3_tests", hint="a write through .data or under torch.no_grad() is invisible", why=".data hides the add"),
    Mistake("ex3-detached-tanh", block("    return torch.relu(torch.tanh(x @ weight).detach() + x)\n"),
            fails="ex3_tests", hint="no .detach() or .data", why="weight gets no gradient"),
    Mistake("ex3-relu-before-residual", block("    return torch.relu(torch.tanh(x @ weight)) + x\n"),
            fails="ex3_tests", hint="add x before the relu", why="relu(tanh(xW)) + x"),
    Mistake("ex3-writes-into-x", block(
        "    out = torch.tanh(x @ weight)\n"
        "    x += out\n"
        "    return torch.relu_(x)\n"),
            fails="ex3_tests", hint="never into x or weight", why="writes the residual into the caller's x"),
    Mistake("ex3-no-grad-add", block(
        "    h = torch.tanh(x @ weight)\n"
        "    out = h.clone()\n"
        "    with torch.no_grad():\n"
        "        out += x\n"
        "    return torch.relu_(out)\n"),
            fails="ex3_tests", hint="invisible to autograd", why="the residual path under no_grad"),
]
