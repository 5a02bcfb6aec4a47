"""Misconceptions and correct answers for 08_nonscalar_backward."""

from misconceptions import Correct, Mistake


def jacobian(body: str) -> dict[str, str]:
    return {"ex1_answer": "def jacobian_by_rows(f, x):\n" + body}


def per_sample(body: str) -> dict[str, str]:
    return {"ex2_answer": "def per_sample_gradients(loss, w, inputs, targets):\n" + body}


CASES = [
    # Exercise 1: the Jacobian from one forward pass and one VJP per row.
    Correct("ex1-grad-of-each-output", jacobian(
        "    leaf = x.detach().clone().requires_grad_(True)\n"
        "    y = f(leaf)\n"
        "    return torch.stack([torch.autograd.grad(y[i], leaf, retain_graph=True)[0] for i in range(y.shape[0])])\n")),
    Correct("ex1-backward-reset-grad", jacobian(
        "    leaf = x.clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    identity = torch.eye(len(y), dtype=y.dtype)\n"
        "    rows = []\n"
        "    for i in range(len(y)):\n"
        "        leaf.grad = None\n"
        "        y.backward(identity[i], retain_graph=i < len(y) - 1)\n"
        "        rows.append(leaf.grad)\n"
        "    return torch.stack(rows)\n")),
    Correct("ex1-grads-batched", jacobian(
        "    leaf = x.detach().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    (rows,) = torch.autograd.grad(y, leaf, grad_outputs=torch.eye(y.numel(), dtype=y.dtype),\n"
        "                                  is_grads_batched=True)\n"
        "    return rows\n")),
    Correct("ex1-preallocated-float64-safe", jacobian(
        "    leaf = torch.tensor(x.tolist(), dtype=x.dtype, requires_grad=True)\n"
        "    y = f(leaf)\n"
        "    J = torch.zeros(y.numel(), x.numel(), dtype=x.dtype)\n"
        "    for i in range(y.numel()):\n"
        "        v = torch.zeros_like(y)\n"
        "        v[i] = 1\n"
        "        J[i] = torch.autograd.grad(y, leaf, v, retain_graph=True)[0]\n"
        "    return J\n")),
    Mistake("ex1-no-retain-graph", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    rows = []\n"
        "    for i in range(len(y)):\n"
        "        v = torch.zeros_like(y)\n"
        "        v[i] = 1\n"
        "        rows.append(torch.autograd.grad(y, leaf, v)[0])\n"
        "    return torch.stack(rows)\n"),
        fails="ex1_tests", hint="pass retain_graph=True", why="the first VJP frees the graph"),
    Mistake("ex1-columns-not-rows", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    rows = [torch.autograd.grad(y, leaf, torch.eye(len(y))[i], retain_graph=True)[0] for i in range(len(y))]\n"
        "    return torch.stack(rows, dim=1)\n"),
        fails="ex1_tests", hint="that is Jᵀ", why="stacks the VJPs as columns"),
    Mistake("ex1-loop-over-inputs", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    rows = []\n"
        "    for i in range(len(x)):\n"
        "        v = torch.zeros_like(y)\n"
        "        v[i] = 1\n"
        "        rows.append(torch.autograd.grad(y, leaf, v, retain_graph=True)[0])\n"
        "    return torch.stack(rows)\n"),
        fails="ex1_tests", hint="not over the n entries of x", why="one row per input instead of per output"),
    Mistake("ex1-one-hot-shaped-like-x", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    rows = []\n"
        "    for i in range(len(y)):\n"
        "        v = torch.zeros_like(leaf)\n"
        "        v[i] = 1\n"
        "        rows.append(torch.autograd.grad(y, leaf, v, retain_graph=True)[0])\n"
        "    return torch.stack(rows)\n"),
        fails="ex1_tests", hint="e_i has the shape of f(x)", why="grad_outputs shaped like the input"),
    Mistake("ex1-grad-accumulates", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    rows = []\n"
        "    for i in range(len(y)):\n"
        "        y.backward(torch.eye(len(y), dtype=y.dtype)[i], retain_graph=True)\n"
        "        rows.append(leaf.grad.clone())\n"
        "    return torch.stack(rows)\n"),
        fails="ex1_tests", hint="each row holds the rows before it", why=".grad adds up over backward() calls"),
    Mistake("ex1-same-grad-tensor", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    rows = []\n"
        "    for i in range(len(y)):\n"
        "        y.backward(torch.eye(len(y), dtype=y.dtype)[i], retain_graph=True)\n"
        "        rows.append(leaf.grad)\n"
        "    return torch.stack(rows)\n"),
        fails="ex1_tests", hint="you stacked the same .grad tensor", why="aliasing: every row is one tensor"),
    Mistake("ex1-sum-backward", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    f(leaf).sum().backward()\n"
        "    return leaf.grad\n"),
        fails="ex1_tests", hint="that is 1ᵀJ", why="the gradient of the sum is one VJP, not J"),
    Mistake("ex1-squeezed", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    rows = [torch.autograd.grad(y[i], leaf, retain_graph=True)[0] for i in range(len(y))]\n"
        "    return torch.stack(rows).squeeze()\n"),
        fails="ex1_tests", hint="do not squeeze", why="a (1, n) Jacobian is not a vector"),
    Mistake("ex1-float32-leaf", jacobian(
        "    leaf = torch.tensor(x.tolist(), requires_grad=True)\n"
        "    y = f(leaf)\n"
        "    return torch.stack([torch.autograd.grad(y[i], leaf, retain_graph=True)[0] for i in range(len(y))])\n"),
        fails="ex1_tests", hint="keeps x's dtype", why="torch.tensor(list) is float32 whatever x was"),
    Mistake("ex1-marks-callers-x", jacobian(
        "    x.requires_grad_()\n"
        "    y = f(x)\n"
        "    return torch.stack([torch.autograd.grad(y[i], x, retain_graph=True)[0] for i in range(len(y))])\n"),
        fails="ex1_tests", hint="leave the caller's x alone", why="turns the caller's tensor into a leaf"),
    Mistake("ex1-rule-functional-jacobian", jacobian(
        "    return torch.autograd.functional.jacobian(f, x)\n"),
        fails="ex1_tests", hint="torch.autograd.functional (jacobian", why="the reference, not the exercise"),
    Mistake("ex1-rule-jacrev-renamed", {"ex1_answer": (
        "from torch.func import jacrev as rows_of\n\n\n"
        "def jacobian_by_rows(f, x):\n"
        "    return rows_of(f)(x)\n")},
        fails="ex1_tests", hint="torch.func (jacrev", why="jacrev under another name"),
    Mistake("ex1-rule-vmap-over-vjp", jacobian(
        "    y, vjp_of = torch.func.vjp(f, x)\n"
        "    return torch.func.vmap(vjp_of)(torch.eye(len(y), dtype=y.dtype))[0]\n"),
        fails="ex1_tests", hint="torch.func (jacrev", why="torch.func's VJPs, batched by vmap"),
    Mistake("ex1-rule-forward-per-row", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    m = len(f(x))\n"
        "    return torch.stack([torch.autograd.grad(f(leaf)[i], leaf)[0] for i in range(m)])\n"),
        fails="ex1_tests", hint="one forward pass: f runs once", why="a new forward pass per row"),
    Mistake("ex1-rule-finite-differences", jacobian(
        "    x64, h = x.double(), 1e-6\n"
        "    columns = [(f(x64 + h * e) - f(x64 - h * e)) / (2 * h) for e in torch.eye(len(x), dtype=torch.float64)]\n"
        "    return torch.stack(columns, dim=1).to(x.dtype)\n"),
        fails="ex1_tests", hint="called no backward pass", why="finite differences, no VJP at all"),

    # Exercise 2: per-sample gradients with torch.func.grad and vmap.
    Correct("ex2-torch-vmap-alias", per_sample(
        "    return torch.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(w, inputs, targets)\n")),
    Correct("ex2-jacrev-of-losses", per_sample(
        "    losses = torch.func.vmap(loss, in_dims=(None, 0, 0))\n"
        "    return torch.func.jacrev(lambda v: losses(v, inputs, targets))(w)\n")),
    Correct("ex2-expanded-w", per_sample(
        "    return torch.func.vmap(torch.func.grad(loss))(w.expand(len(targets), -1), inputs, targets)\n")),
    Correct("ex2-closure-over-w", per_sample(
        "    gradient = torch.func.grad(loss)\n"
        "    return torch.func.vmap(lambda x, y: gradient(w, x, y))(inputs, targets)\n")),
    Correct("ex2-grads-batched", per_sample(
        "    leaf = w.detach().clone().requires_grad_()\n"
        "    losses = torch.func.vmap(loss, in_dims=(None, 0, 0))(leaf, inputs, targets)\n"
        "    identity = torch.eye(len(targets), dtype=losses.dtype)\n"
        "    return torch.autograd.grad(losses, leaf, grad_outputs=identity, is_grads_batched=True)[0]\n")),
    Mistake("ex2-rule-loop-func-grad", per_sample(
        "    gradient = torch.func.grad(loss)\n"
        "    return torch.stack([gradient(w, x, y) for x, y in zip(inputs, targets)])\n"),
        fails="ex2_tests", hint="no Python loop over the batch", why="a loop, not vmap"),
    Mistake("ex2-rule-loop-autograd", per_sample(
        "    rows = []\n"
        "    for b in range(len(targets)):\n"
        "        leaf = w.clone().requires_grad_()\n"
        "        rows.append(torch.autograd.grad(loss(leaf, inputs[b], targets[b]), leaf)[0])\n"
        "    return torch.stack(rows)\n"),
        fails="ex2_tests", hint="no Python loop over the batch", why="section 3.5's loop"),
    Mistake("ex2-no-in-dims", per_sample(
        "    return torch.func.vmap(torch.func.grad(loss))(w, inputs, targets)\n"),
        fails="ex2_tests", hint="w is shared by all examples (None)", why="vmap slices w too"),
    Mistake("ex2-grad-of-vmap", per_sample(
        "    return torch.func.grad(torch.func.vmap(loss, in_dims=(None, 0, 0)))(w, inputs, targets)\n"),
        fails="ex2_tests", hint="differentiate ONE example's loss", why="grad and vmap nested the wrong way"),
    Mistake("ex2-mean-loss-gradient", per_sample(
        "    losses = torch.func.vmap(loss, in_dims=(None, 0, 0))\n"
        "    return torch.func.grad(lambda v: losses(v, inputs, targets).mean())(w)\n"),
        fails="ex2_tests", hint="batch MEAN loss", why="the batch gradient, not per-sample ones"),
    Mistake("ex2-summed-loss-gradient", per_sample(
        "    losses = torch.func.vmap(loss, in_dims=(None, 0, 0))\n"
        "    gradient = torch.func.grad(lambda v: losses(v, inputs, targets).sum())(w)\n"
        "    return gradient.expand(len(targets), -1)\n"),
        fails="ex2_tests", hint="SUMMED loss", why="one gradient of the sum, repeated"),
    Mistake("ex2-share-of-the-mean", per_sample(
        "    batch = len(targets)\n"
        "    return torch.func.vmap(torch.func.grad(lambda v, x, y: loss(v, x, y) / batch), in_dims=(None, 0, 0))(\n"
        "        w, inputs, targets)\n"),
        fails="ex2_tests", hint="B times too small", why="differentiates loss_b / B"),
    Mistake("ex2-gradient-in-the-input", per_sample(
        "    return torch.func.vmap(torch.func.grad(loss, argnums=1), in_dims=(None, 0, 0))(w, inputs, targets)\n"),
        fails="ex2_tests", hint="gradient with respect to the inputs", why="argnums=1 differentiates in x"),
    Mistake("ex2-transposed", per_sample(
        "    return torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0), out_dims=1)(w, inputs, targets)\n"),
        fails="ex2_tests", hint="that is the transpose", why="one column per example"),
    Mistake("ex2-marks-callers-w", per_sample(
        "    w.requires_grad_()\n"
        "    losses = torch.func.vmap(loss, in_dims=(None, 0, 0))(w, inputs, targets)\n"
        "    identity = torch.eye(len(targets), dtype=losses.dtype)\n"
        "    return torch.autograd.grad(losses, w, grad_outputs=identity, is_grads_batched=True)[0]\n"),
        fails="ex2_tests", hint="leaves w alone", why="turns the caller's w into a leaf"),
]
