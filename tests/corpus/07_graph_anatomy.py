"""Misconceptions and correct answers for 07_graph_anatomy."""

from misconceptions import Correct, Mistake


def count_paths(body: str) -> dict[str, str]:
    return {"ex1_answer": "def count_paths(tensor, leaf):\n" + body}


def recursive(at_leaf="1 if node.variable is leaf else 0", skip_none="        if node is None:\n            return 0\n",
              children="sum(paths_from(child) for child, _ in node.next_functions)"):
    """The reference recursion with one part replaced."""
    return count_paths(
        "    def paths_from(node):\n"
        f"{skip_none}"
        "        if node_name(node) == 'AccumulateGrad':\n"
        f"            return {at_leaf}\n"
        f"        return {children}\n\n"
        "    return paths_from(tensor.grad_fn)\n")


def train(reset="        w.grad, b.grad = None, None\n", loss_line="        loss = ((w * x + b - y) ** 2).mean()\n",
          backward="        loss.backward()\n",
          update="        with torch.no_grad():\n            w -= lr * w.grad\n            b -= lr * b.grad\n",
          record="        losses.append(loss.item())\n", start=("torch.zeros((), requires_grad=True)",) * 2,
          before_loop=""):
    return {"ex2_answer": (
        "def train(x, y, lr, steps):\n"
        f"    w = {start[0]}\n"
        f"    b = {start[1]}\n"
        f"{before_loop}"
        "    losses = []\n"
        "    for _ in range(steps):\n"
        f"{reset}{loss_line}{backward}{update}{record}"
        "    return w, b, losses\n")}


def hidden_gradient(body: str) -> dict[str, str]:
    return {"ex3_answer": "def loss_and_hidden_gradient(x, W1, W2):\n" + body}


CASES = [
    # Exercise 1: count_paths.
    Correct("ex1-memoised", count_paths(
        "    memory = {}\n"
        "    def paths_from(node):\n"
        "        if node is None:\n"
        "            return 0\n"
        "        if node not in memory:\n"
        "            if node_name(node) == 'AccumulateGrad':\n"
        "                memory[node] = int(node.variable is leaf)\n"
        "            else:\n"
        "                memory[node] = sum(paths_from(child) for child, _ in node.next_functions)\n"
        "        return memory[node]\n"
        "    return paths_from(tensor.grad_fn)\n")),
    Correct("ex1-stack", count_paths(
        "    count, stack = 0, [tensor.grad_fn]\n"
        "    while stack:\n"
        "        node = stack.pop()\n"
        "        if node_name(node) == 'AccumulateGrad':\n"
        "            count += node.variable is leaf\n"
        "        stack.extend(child for child, _ in node.next_functions if child is not None)\n"
        "    return int(count)\n")),
    Correct("ex1-topological", count_paths(
        "    nodes, edge_list = graph_of(tensor)\n"
        "    paths = {tensor.grad_fn: 1}\n"
        "    pending = {node: 0 for node in nodes}\n"
        "    for parent, child in edge_list:\n"
        "        if child is not None:\n"
        "            pending[child] += 1\n"
        "    ready, total = [tensor.grad_fn], 0\n"
        "    while ready:\n"
        "        node = ready.pop()\n"
        "        if node_name(node) == 'AccumulateGrad' and node.variable is leaf:\n"
        "            total += paths[node]\n"
        "        for child, _ in node.next_functions:\n"
        "            if child is not None:\n"
        "                paths[child] = paths.get(child, 0) + paths[node]\n"
        "                pending[child] -= 1\n"
        "                if pending[child] == 0:\n"
        "                    ready.append(child)\n"
        "    return total\n")),
    Mistake("ex1-distinct-nodes", count_paths(
        "    seen, queue, count = {tensor.grad_fn}, [tensor.grad_fn], 0\n"
        "    while queue:\n"
        "        node = queue.pop(0)\n"
        "        if node_name(node) == 'AccumulateGrad' and node.variable is leaf:\n"
        "            count += 1\n"
        "        for child, _ in node.next_functions:\n"
        "            if child is not None and child not in seen:\n"
        "                seen.add(child)\n"
        "                queue.append(child)\n"
        "    return count\n"), fails="ex1_tests", hint="count a node again each time",
            why="a visited set counts each node once: paths are not nodes"),
    Mistake("ex1-first-edge", count_paths(
        "    node = tensor.grad_fn\n"
        "    while node_name(node) != 'AccumulateGrad':\n"
        "        node = node.next_functions[0][0]\n"
        "        if node is None:\n"
        "            return 0\n"
        "    return 1 if node.variable is leaf else 0\n"), fails="ex1_tests", hint="not only the first",
            why="walks the chain of section 3.1 only"),
    Mistake("ex1-any-leaf", recursive(at_leaf="1"), fails="ex1_tests",
            hint="whose .variable is the leaf you were given", why="counts paths to every leaf"),
    Mistake("ex1-equal-values", recursive(at_leaf="1 if node.variable == leaf else 0"), fails="ex1_tests",
            hint="with `is`: `==` compares values", why="== compares values, not identity"),
    Mistake("ex1-no-none-check", recursive(skip_none=""), fails="ex1_tests", hint="an edge to None",
            why="crashes on a constant input's None edge"),
    Mistake("ex1-edges-into-leaf", count_paths(
        "    nodes, edge_list = graph_of(tensor)\n"
        "    return sum(1 for parent, child in edge_list\n"
        "               if child is not None and node_name(child) == 'AccumulateGrad' and child.variable is leaf)\n"),
            fails="ex1_tests", hint="do not count only the edges that enter the leaf's node",
            why="counts the last edge of each path, not whole paths"),
    Mistake("ex1-returns-bool", recursive(children="any(paths_from(child) for child, _ in node.next_functions)"),
            fails="ex1_tests", hint="count with Python ints", why="asks whether a path exists, not how many"),
    # Exercise 2: train.
    Correct("ex2-zero-after-update", train(
        reset="", update=("        with torch.no_grad():\n            w -= lr * w.grad\n            b -= lr * b.grad\n"
                          "        w.grad.zero_()\n        b.grad.zero_()\n"))),
    Correct("ex2-sgd", train(reset="        optimizer.zero_grad()\n", update="        optimizer.step()\n",
                             before_loop="    optimizer = torch.optim.SGD([w, b], lr=lr)\n")),
    Correct("ex2-autograd-grad", train(
        reset="", backward="        grad_w, grad_b = torch.autograd.grad(loss, (w, b))\n",
        update="        with torch.no_grad():\n            w -= lr * grad_w\n            b -= lr * grad_b\n",
        record="        losses.append(float(loss))\n")),
    Mistake("ex2-never-reset", train(reset=""), fails="ex2_tests", hint="neither w.grad nor b.grad is reset",
            why="the notebook's bug: gradients accumulate across steps"),
    Mistake("ex2-only-w-reset", train(reset="        w.grad = None\n"), fails="ex2_tests",
            hint="b.grad is never reset", why="resets one of the two gradients"),
    Mistake("ex2-only-b-reset", train(reset="        b.grad = None\n"), fails="ex2_tests",
            hint="w.grad is never reset", why="resets one of the two gradients"),
    Mistake("ex2-zero-before-first", train(reset="        w.grad.zero_()\n        b.grad.zero_()\n"), fails="ex2_tests",
            hint="it is None before the first backward()", why="zero_() on a .grad that does not exist yet"),
    Mistake("ex2-rebinding-update", train(update="        with torch.no_grad():\n            w = w - lr * w.grad\n"
                                                 "            b = b - lr * b.grad\n"),
            fails="ex2_tests", hint="update w and b in place", why="w = w - ... makes a new tensor that needs no grad"),
    Mistake("ex2-loss-after-update", train(record="        losses.append(((w * x + b - y) ** 2).mean().item())\n"),
            fails="ex2_tests", hint="append it before updating", why="records the loss after the step"),
    Mistake("ex2-hand-formula", train(
        reset="", backward=("        residual = (w * x + b - y).detach()\n"
                            "        grad_w, grad_b = 2 * (residual * x).mean(), 2 * residual.mean()\n"),
        update="        with torch.no_grad():\n            w -= lr * grad_w\n            b -= lr * grad_b\n"),
            fails="ex2_tests", hint="every step's gradient from autograd", why="breaks the rule: a formula"),
    Mistake("ex2-finite-differences", train(
        reset="", backward=(
            "        with torch.no_grad():\n"
            "            def loss_at(w_value, b_value):\n"
            "                return ((w_value * x + b_value - y) ** 2).mean()\n"
            "            grad_w = (loss_at(w + 1e-3, b) - loss_at(w - 1e-3, b)) / 2e-3\n"
            "            grad_b = (loss_at(w, b + 1e-3) - loss_at(w, b - 1e-3)) / 2e-3\n"),
        update="        with torch.no_grad():\n            w -= lr * grad_w\n            b -= lr * grad_b\n"),
            fails="ex2_tests", hint="every step's gradient from autograd",
            why="breaks the rule: finite differences"),
    Mistake("ex2-shared-state", {"ex2_answer": (
        "w_shared = torch.zeros((), requires_grad=True)\n"
        "b_shared = torch.zeros((), requires_grad=True)\n\n"
        "def train(x, y, lr, steps):\n"
        "    w, b, losses = w_shared, b_shared, []\n"
        "    for _ in range(steps):\n"
        "        w.grad, b.grad = None, None\n"
        "        loss = ((w * x + b - y) ** 2).mean()\n"
        "        loss.backward()\n"
        "        with torch.no_grad():\n"
        "            w -= lr * w.grad\n"
        "            b -= lr * b.grad\n"
        "        losses.append(loss.item())\n"
        "    return w, b, losses\n")}, fails="ex2_tests", hint="make new w and b inside train on every call",
            why="parameters made once, outside: the next call continues from the last"),
    # Exercise 3: loss_and_hidden_gradient.
    Correct("ex3-hook", hidden_gradient(
        "    captured = {}\n"
        "    hidden = torch.tanh(x @ W1)\n"
        "    hidden.register_hook(lambda grad: captured.update(grad=grad))\n"
        "    loss = ((hidden @ W2) ** 2).mean()\n"
        "    loss.backward()\n"
        "    return loss, captured['grad']\n")),
    Correct("ex3-autograd-grad-all", hidden_gradient(
        "    hidden = torch.tanh(x @ W1)\n"
        "    loss = (hidden @ W2).pow(2).mean()\n"
        "    hidden_grad, W1.grad, W2.grad = torch.autograd.grad(loss, (hidden, W1, W2))\n"
        "    return loss, hidden_grad\n")),
    Correct("ex3-square-sum-over-numel", hidden_gradient(
        "    hidden = (x @ W1).tanh()\n"
        "    hidden.retain_grad()\n"
        "    output = torch.matmul(hidden, W2)\n"
        "    loss = (output * output).sum() / output.numel()\n"
        "    loss.backward()\n"
        "    return loss, hidden.grad\n")),
    Mistake("ex3-retain-after-backward", hidden_gradient(
        "    hidden = torch.tanh(x @ W1)\n"
        "    loss = ((hidden @ W2) ** 2).mean()\n"
        "    loss.backward()\n"
        "    hidden.retain_grad()\n"
        "    return loss, hidden.grad\n"), fails="ex3_tests", hint="call h.retain_grad() before backward()",
            why="retain_grad() after backward() is too late"),
    Mistake("ex3-other-forward", hidden_gradient(
        "    hidden = torch.tanh(x @ W1)\n"
        "    hidden.retain_grad()\n"
        "    loss = ((torch.tanh(x @ W1) @ W2) ** 2).mean()\n"
        "    loss.backward()\n"
        "    return loss, hidden.grad\n"), fails="ex3_tests", hint="on the very h the loss is computed from",
            why="retains the gradient of a second h the loss does not use"),
    Mistake("ex3-two-backwards", hidden_gradient(
        "    hidden = torch.tanh(x @ W1)\n"
        "    loss = ((hidden @ W2) ** 2).mean()\n"
        "    hidden_grad, = torch.autograd.grad(loss, hidden, retain_graph=True)\n"
        "    loss.backward()\n"
        "    return loss, hidden_grad\n"), fails="ex3_tests", hint="the exercise's rule is one backward pass",
            why="breaks the rule: a second pass for h's gradient"),
    Mistake("ex3-detached-hidden", hidden_gradient(
        "    hidden = torch.tanh(x @ W1).detach().requires_grad_()\n"
        "    loss = ((hidden @ W2) ** 2).mean()\n"
        "    loss.backward()\n"
        "    return loss, hidden.grad\n"), fails="ex3_tests", hint="W1.grad is None",
            why="a fresh leaf h cuts the graph to W1"),
    Mistake("ex3-sum-loss", hidden_gradient(
        "    hidden = torch.tanh(x @ W1)\n"
        "    hidden.retain_grad()\n"
        "    loss = ((hidden @ W2) ** 2).sum()\n"
        "    loss.backward()\n"
        "    return loss, hidden.grad\n"), fails="ex3_tests", hint="the mean of the squares, not their sum",
            why="sum instead of mean"),
    Mistake("ex3-formula-batch-mean", hidden_gradient(
        "    hidden = torch.tanh(x @ W1)\n"
        "    output = hidden @ W2\n"
        "    loss = (output**2).mean()\n"
        "    loss.backward()\n"
        "    return loss, (2 * output @ W2.T / x.shape[0]).detach()\n"), fails="ex3_tests",
            hint="not by the batch size", why="a hand formula that divides by the batch only"),
    Mistake("ex3-loss-item", hidden_gradient(
        "    hidden = torch.tanh(x @ W1)\n"
        "    hidden.retain_grad()\n"
        "    loss = ((hidden @ W2) ** 2).mean()\n"
        "    loss.backward()\n"
        "    return loss.item(), hidden.grad\n"), fails="ex3_tests", hint="not loss.item()",
            why="returns a float, not the loss tensor"),
]
