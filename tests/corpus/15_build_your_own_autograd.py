"""Misconceptions and correct answers for 15_build_your_own_autograd."""

from misconceptions import Correct, Mistake

DEPTH_FIRST = '''def backward(root):
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for child in node.children:
                visit(child)
            order.append(node)

    visit(root)
    root.grad += 1.0
    for node in reversed(order):
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
    return order[::-1]
'''


def backward_answer(source):
    return {"ex1_answer": source}


def sigmoid_answer(body):
    """An ex2 answer: sigmoid with this body (indented by 4 spaces)."""
    return {"ex2_answer": "def sigmoid(v):\n" + body}


TRAIN = '''def train(network, inputs, targets, learning_rate, steps, backward):
    parameters = parameters_of(network)
    losses = []
    for _ in range(steps):
        loss = mean_squared_error(network, inputs, targets)
        for parameter in parameters:
            parameter.grad = 0.0
        backward(loss)
        for parameter in parameters:
            parameter.data -= learning_rate * parameter.grad
        losses.append(loss.data)
    return losses
'''
TRAIN_IN_TORCH = '''def train_in_torch(network, inputs, targets, learning_rate, steps):
    def copy(values):
        return torch.tensor(values, dtype=torch.float64, requires_grad=True)

    w1 = copy([[w.data for w in row] for row in network["w1"]])
    b1, w2 = copy([b.data for b in network["b1"]]), copy([w.data for w in network["w2"]])
    b2 = copy(network["b2"].data)
    x, y = torch.tensor(inputs, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64)
    losses = []
    for _ in range(steps):
        loss = ((torch.tanh(x @ w1.T + b1) @ w2 + b2 - y) ** 2).mean()
        grads = torch.autograd.grad(loss, (w1, b1, w2, b2))
        with torch.no_grad():
            for weight, grad in zip((w1, b1, w2, b2), grads):
                weight -= learning_rate * grad
        losses.append(loss.item())
    return losses
'''
TRAIN_IN_TORCH_BACKWARD = '''def train_in_torch(network, inputs, targets, learning_rate, steps):
    weights = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in parameters_of(network)]
    n_hidden, n_inputs = len(network["w1"]), len(network["w1"][0])
    losses = []
    for _ in range(steps):
        w1 = torch.stack(weights[: n_hidden * n_inputs]).reshape(n_hidden, n_inputs)
        b1 = torch.stack(weights[n_hidden * n_inputs : n_hidden * (n_inputs + 1)])
        w2 = torch.stack(weights[n_hidden * (n_inputs + 1) : -1])
        errors = [(torch.tanh(w1 @ torch.tensor(x, dtype=torch.float64) + b1) @ w2 + weights[-1] - y) ** 2
                  for x, y in zip(inputs, targets)]
        loss = sum(errors) / len(errors)
        for weight in weights:
            weight.grad = None
        loss.backward()
        with torch.no_grad():
            for weight in weights:
                weight -= learning_rate * weight.grad
        losses.append(loss.item())
    return losses
'''
TRAIN_IN_TORCH_SGD = '''def train_in_torch(network, inputs, targets, learning_rate, steps):
    n_hidden, n_inputs = len(network["w1"]), len(network["w1"][0])
    hidden_layer = torch.nn.Linear(n_inputs, n_hidden).double()
    output_layer = torch.nn.Linear(n_hidden, 1).double()
    with torch.no_grad():
        hidden_layer.weight.copy_(torch.tensor([[w.data for w in row] for row in network["w1"]], dtype=torch.float64))
        hidden_layer.bias.copy_(torch.tensor([b.data for b in network["b1"]], dtype=torch.float64))
        output_layer.weight.copy_(torch.tensor([[w.data for w in network["w2"]]], dtype=torch.float64))
        output_layer.bias.copy_(torch.tensor([network["b2"].data], dtype=torch.float64))
    optimizer = torch.optim.SGD([*hidden_layer.parameters(), *output_layer.parameters()], lr=learning_rate)
    x, y = torch.tensor(inputs, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(output_layer(torch.tanh(hidden_layer(x))).squeeze(1), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
'''


def training_answer(train=TRAIN, train_in_torch=TRAIN_IN_TORCH):
    return {"ex3_answer": train + "\n\n" + train_in_torch}


CASES = [
    # Exercise 1: backward in reverse topological order.
    Correct("ex1-recursive-depth-first", backward_answer(DEPTH_FIRST.replace("root.grad += 1.0",
                                                                            "root.grad = root.grad + 1.0"))),
    Correct("ex1-iterative-depth-first", backward_answer('''def backward(root):
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node.children)
    root.grad += 1
    for node in reversed(order):
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
    return order[::-1]
''')),
    Correct("ex1-kahn-counting-uses", backward_answer('''from collections import deque


def backward(root):
    uses, seen, stack = {}, {id(root)}, [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            uses[id(child)] = uses.get(id(child), 0) + 1
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    root.grad += 1.0
    ready, processed = deque([root]), []
    while ready:
        node = ready.popleft()
        processed.append(node)
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
            uses[id(child)] -= 1
            if uses[id(child)] == 0:
                ready.append(child)
    return processed
''')),
    Correct("ex1-indexed-locals", backward_answer('''def topological_order(root):
    order, visited = [], set()

    def visit(node):
        if id(node) in visited:
            return
        visited.add(id(node))
        for child in node.children:
            visit(child)
        order.append(node)

    visit(root)
    return order


def backward(root):
    order = topological_order(root)
    order[-1].grad = order[-1].grad + 1
    for node in order[::-1]:
        for i in range(len(node.children)):
            node.children[i].grad = node.children[i].grad + node.local_grads[i] * node.grad
    return list(reversed(order))
''')),
    Mistake("ex1-assigns-instead-of-adding", backward_answer(DEPTH_FIRST.replace("child.grad += local", "child.grad = local")),
            fails="ex1_tests", hint="(not =)", why="a shared node keeps the share of its last use"),
    Mistake("ex1-root-assigned", backward_answer(DEPTH_FIRST.replace("root.grad += 1.0", "root.grad = 1.0")),
            fails="ex1_tests", hint="the root's grad accumulates too", why="a root that already holds a gradient loses it"),
    Mistake("ex1-missing-parent-factor", backward_answer(DEPTH_FIRST.replace("child.grad += local * node.grad",
                                                                             "child.grad += local")),
            fails="ex1_tests", hint="the chain rule multiplies by the parent's gradient", why="local alone, not the chain"),
    Mistake("ex1-copies-into-torch", backward_answer('''def backward(root):
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for child in node.children:
                visit(child)
            order.append(node)

    visit(root)
    tensors = {}
    for node in order:
        if node.children:
            tensors[node] = sum(local * tensors[child] for child, local in zip(node.children, node.local_grads))
            tensors[node].retain_grad()
        else:
            tensors[node] = torch.zeros((), dtype=torch.float64, requires_grad=True)
    tensors[root].backward()
    for node in order:
        node.grad += tensors[node].grad.item()
    return order[::-1]
'''), fails="ex1_tests", hint="the exercise's rule is the algorithm of section 2",
            why="rule: torch's autograd does the exercise"),
    Mistake("ex1-leaves-first", backward_answer(DEPTH_FIRST.replace("reversed(order)", "order")),
            fails="ex1_tests", hint="not leaves first", why="the topological order not reversed: every node passes on 0"),
    Mistake("ex1-no-seed", backward_answer(DEPTH_FIRST.replace("    root.grad += 1.0\n", "")),
            fails="ex1_tests", hint="add the seed 1.0 to root.grad", why="root.grad stays 0: every product is 0"),
    Mistake("ex1-no-visited-set", backward_answer(DEPTH_FIRST.replace(
        "        if node not in visited:\n            visited.add(node)\n            for child in node.children:\n"
        "                visit(child)\n            order.append(node)",
        "        for child in node.children:\n            visit(child)\n        order.append(node)")),
            fails="ex1_tests", hint="a visited set", why="a shared node is listed once per path and passes its share on twice"),
    Mistake("ex1-breadth-first", backward_answer('''def backward(root):
    order, seen, queue = [root], {id(root)}, [root]
    while queue:
        node = queue.pop(0)
        for child in node.children:
            if id(child) not in seen:
                seen.add(id(child))
                order.append(child)
                queue.append(child)
    root.grad = 1.0
    for node in order:
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
    return order
'''), fails="ex1_tests", hint="not breadth-first", why="breadth-first order is not topological"),
    Mistake("ex1-marks-visited-when-pushed", backward_answer('''def backward(root):
    order, visited, stack = [], {id(root)}, [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        for child in node.children:
            if id(child) not in visited:
                visited.add(id(child))
                stack.append((child, False))
    root.grad += 1.0
    for node in reversed(order):
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
    return order[::-1]
'''), fails="ex1_tests", hint="each node after all its users",
            why="an iterative DFS that marks a node when pushed does not give a topological order"),
    Mistake("ex1-recursive-push", backward_answer('''def backward(root):
    root.grad = 1.0
    processed = []

    def push(node):
        processed.append(node)
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
            push(child)

    push(root)
    return processed
'''), fails="ex1_tests", hint="more than once", why="pushes a node's whole gradient again on every path"),
    Mistake("ex1-sum-over-paths", backward_answer('''def backward(root):
    processed = []

    def push(node, share):
        processed.append(node)
        node.grad += share
        for child, local in zip(node.children, node.local_grads):
            push(child, share * local)

    push(root, 1.0)
    return processed
'''), fails="ex1_tests", hint="exponential time", why="rule: each node once (linear time), not once per path"),
    Mistake("ex1-calls-backward-by-paths", backward_answer(DEPTH_FIRST.replace(
        "    root.grad += 1.0\n    for node in reversed(order):\n        for child, local in zip(node.children, node.local_grads):\n"
        "            child.grad += local * node.grad\n", "    backward_by_paths(root)\n")),
            fails="ex1_tests", hint="exponential time", why="sorts the nodes but lets the sum over paths do the work"),
    Mistake("ex1-zeroes-in-backward", backward_answer(DEPTH_FIRST.replace(
        "    root.grad += 1.0\n", "    for node in order:\n        node.grad = 0.0\n    root.grad = 1.0\n")),
            fails="ex1_tests", hint="never resets it", why="rule: gradients accumulate across backward calls, as in torch"),

    # Exercise 2: the sigmoid as one node.
    Correct("ex2-two-branches", sigmoid_answer(
        "    x = v.data\n"
        "    s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))\n"
        "    return Value(s, (v,), (s * (1 - s),))\n")),
    Correct("ex2-exp-of-minus-abs", sigmoid_answer(
        "    small = math.exp(-abs(v.data))  # in (0, 1]\n"
        "    s = 1 / (1 + small) if v.data >= 0 else small / (1 + small)\n"
        "    return Value(s, children=[v], local_grads=[small / (1 + small) ** 2], op='sigmoid')\n")),
    Correct("ex2-torch-sigmoid", sigmoid_answer(
        "    s = torch.sigmoid(torch.tensor(v.data, dtype=torch.float64)).item()\n"
        "    return Value(s, [v], [s - s * s])\n")),
    # The textbook formula is precise wherever math.exp can evaluate it; below -709.78, sigma < 1e-308 and 0.0 is right.
    Correct("ex2-textbook-catching-the-overflow", sigmoid_answer(
        "    try:\n"
        "        s = 1.0 / (1.0 + math.exp(-v.data))\n"
        "    except OverflowError:\n"
        "        s = 0.0\n"
        "    return Value(s, (v,), (s * (1.0 - s),), 'sigmoid')\n")),
    Correct("ex2-textbook-or-the-exponential", sigmoid_answer(
        "    x = v.data\n"
        "    s = 1 / (1 + math.exp(-x)) if x > -700 else math.exp(x)  # 1 + e^x is 1 there\n"
        "    return Value(s, (v,), (s * (1 - s),))\n")),
    Mistake("ex2-overflow-caught-as-one", sigmoid_answer(
        "    try:\n"
        "        s = 1.0 / (1.0 + math.exp(-v.data))\n"
        "    except OverflowError:\n"
        "        s = 1.0\n"
        "    return Value(s, (v,), (s * (1.0 - s),))\n"),
            fails="ex2_tests", hint="σ(x) is nearly 0 there", why="e^(-x) overflows where σ is tiny, not where it is 1"),
    Mistake("ex2-overflow-caught-as-nan", sigmoid_answer(
        "    try:\n"
        "        s = 1.0 / (1.0 + math.exp(-v.data))\n"
        "    except OverflowError:\n"
        "        s = math.nan\n"
        "    return Value(s, (v,), (s * (1.0 - s),))\n"),
            fails="ex2_tests", hint="σ(x) is nearly 0 there", why="no value where e^(-x) overflows"),
    Mistake("ex2-derivative-sigma", sigmoid_answer(
        "    x = v.data\n"
        "    s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))\n"
        "    return Value(s, (v,), (s,))\n"),
            fails="ex2_tests", hint="the factor (1 − σ) is missing", why="σ' = σ"),
    Mistake("ex2-derivative-of-tanh", sigmoid_answer(
        "    x = v.data\n"
        "    s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))\n"
        "    return Value(s, (v,), (1 - s**2,))\n"),
            fails="ex2_tests", hint="tanh's derivative", why="1 - s², tanh's formula"),
    Mistake("ex2-derivative-of-the-input", sigmoid_answer(
        "    x = v.data\n"
        "    s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))\n"
        "    return Value(s, (v,), (x * (1 - x),))\n"),
            fails="ex2_tests", hint="not to the input x", why="σ(1 - σ) applied to x"),
    Mistake("ex2-overflows", sigmoid_answer(
        "    s = 1 / (1 + math.exp(-v.data))\n    return Value(s, (v,), (s * (1 - s),))\n"),
            fails="ex2_tests", hint="math.exp overflows above 709.78", why="e^(-x) for x = -1000"),
    Mistake("ex2-exp-ratio-everywhere", sigmoid_answer(
        "    e = math.exp(v.data)\n"
        "    s = e / (1 + e)\n"
        "    return Value(s, (v,), (s * (1 - s),))\n"),
            fails="ex2_tests", hint="at x > 0 that is e^x", why="e^x / (1 + e^x) for every x: e^1000 overflows"),
    Mistake("ex2-one-minus-loses-digits", sigmoid_answer(
        "    x = v.data\n"
        "    s = 1 / (1 + math.exp(-x)) if x >= 0 else 1 - 1 / (1 + math.exp(x))\n"
        "    return Value(s, (v,), (s * (1 - s),))\n"),
            fails="ex2_tests", hint="cancels its digits away", why="1 - 1/(1 + e^x): no relative precision for x << 0"),
    Mistake("ex2-tanh-identity", sigmoid_answer(
        "    s = (1 + math.tanh(v.data / 2)) / 2\n    return Value(s, (v,), (s * (1 - s),))\n"),
            fails="ex2_tests", hint="keeps every digit", why="1 + tanh(x/2) cancels for x << 0"),
    Mistake("ex2-composed-of-nodes", sigmoid_answer("    return 1 / (1 + (-v).exp())\n"),
            fails="ex2_tests", hint="one new node whose only child is v", why="rule: one node with its local derivative"),
    Mistake("ex2-returns-a-float", sigmoid_answer("    return 1 / (1 + math.exp(-v.data))\n"),
            fails="ex2_tests", hint="return Value(s, (v,)", why="the value, not a node"),
    Mistake("ex2-no-local-derivative", sigmoid_answer(
        "    s = 1 / (1 + math.exp(-v.data))\n    return Value(s, (v,))\n"),
            fails="ex2_tests", hint="local_grads holds one float per child", why="the child without its derivative"),

    # Exercise 3: training with the engine and with torch.
    Correct("ex3-grad-and-autograd-grad", training_answer()),
    Correct("ex3-per-weight-tensors", training_answer(TRAIN.replace(
        "        loss = mean_squared_error(network, inputs, targets)\n        for parameter in parameters:\n"
        "            parameter.grad = 0.0\n",
        "        for parameter in parameters:\n            parameter.grad = 0.0\n"
        "        loss = mean_squared_error(network, inputs, targets)\n").replace(
        "parameter.data -= learning_rate * parameter.grad", "parameter.data = parameter.data - learning_rate * parameter.grad"),
        TRAIN_IN_TORCH_BACKWARD)),
    Correct("ex3-nn-linear-and-sgd", training_answer(train_in_torch=TRAIN_IN_TORCH_SGD)),
    Mistake("ex3-no-zero-grad", training_answer(TRAIN.replace(
        "        for parameter in parameters:\n            parameter.grad = 0.0\n", "")),
            fails="ex3_tests", hint="zero every parameter's grad", why="gradients accumulate across steps"),
    Mistake("ex3-torch-no-zero-grad", training_answer(train_in_torch=TRAIN_IN_TORCH_BACKWARD.replace(
        "        for weight in weights:\n            weight.grad = None\n", "")),
            fails="ex3_tests", hint="zero every parameter's grad", why="torch's .grad accumulates too"),
    Mistake("ex3-ignores-given-backward", training_answer(TRAIN.replace("        backward(loss)\n",
                                                                        "        backward_by_paths(loss)\n")),
            fails="ex3_tests", hint="call backward(loss), the function train receives",
            why="rule: the tests pass the same function, so only a count shows it"),
    Mistake("ex3-steps-uphill", training_answer(TRAIN.replace("parameter.data -= ", "parameter.data += ")),
            fails="ex3_tests", hint="against the gradient", why="+ instead of -"),
    Mistake("ex3-torch-in-float32", training_answer(train_in_torch=TRAIN_IN_TORCH.replace("torch.float64", "torch.float32")),
            fails="ex3_tests", hint="about 7 digits only", why="comparing with torch in float32"),
    Mistake("ex3-sum-not-mean", training_answer(train_in_torch=TRAIN_IN_TORCH.replace(".mean()", ".sum()")),
            fails="ex3_tests", hint="not their sum", why="the loss summed over the examples"),
    Mistake("ex3-loss-built-once", training_answer(TRAIN.replace(
        "    for _ in range(steps):\n        loss = mean_squared_error(network, inputs, targets)\n",
        "    loss = mean_squared_error(network, inputs, targets)\n    for _ in range(steps):\n")),
            fails="ex3_tests", hint="the loss never changed", why="one graph for every step"),
    Mistake("ex3-loss-after-update", training_answer(TRAIN.replace(
        "        losses.append(loss.data)\n", "        losses.append(mean_squared_error(network, inputs, targets).data)\n")),
            fails="ex3_tests", hint="losses after each update", why="records the loss of the next step"),
    Mistake("ex3-tensors-not-floats", training_answer(train_in_torch=TRAIN_IN_TORCH.replace(
        "losses.append(loss.item())", "losses.append(loss)")),
            fails="ex3_tests", hint="a number, not the graph's node", why="returns 0-d tensors with their graphs"),
]
