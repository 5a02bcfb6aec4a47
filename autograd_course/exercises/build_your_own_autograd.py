"""The checks of 15_build_your_own_autograd: ``backward`` (exercise 1), ``sigmoid`` (exercise 2), ``train`` and
``train_in_torch`` (exercise 3).

The answers work on the notebook's own engine (its ``Value``, ``backward_by_paths``, ``make_network`` ...), so
``observe`` builds each case's graph from the names of the notebook the answer was written in, and sends out only
plain numbers: the gradients the answer left in the nodes, the order it returned as node indices, losses and
weights. ``judge`` builds the same graphs from float64 tensors and asks torch's autograd for the reference; the
training reference is the network trained in NumPy with its gradient derived by hand.
"""

import math

import numpy as np
import torch

from ..cases import Check, expect_returned, returned
from ..checks import expect_close, expect_rule, expect_true, hint_for
from ..torch_calls import NamedTorchCalls
from ..values import Raised

PLAIN_NUMBERS = (float, int, np.float64)


def notebook_names(answer) -> dict:
    """The names of the notebook the answer was defined in: its engine and helpers."""
    names = getattr(answer, "__globals__", None)
    if names is None:  # a callable object or a partial: the kernel's namespace
        from IPython import get_ipython

        names = get_ipython().user_ns
    return names


def plain(number):
    """A number the answer stored, as a float when it is one (np.float64 too), else as itself (judged by its type)."""
    return float(number) if type(number) in PLAIN_NUMBERS else number


def same_number(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


# ---- Exercise 1: the graphs, each built by one function from Values (in the kernel) or float64 tensors (the judge).

def shared_nodes(x, y):
    a = x * y
    b = a + x
    c = a * b
    d = c * a
    t = b.tanh()
    f = d + t
    return {"x": x, "y": y, "a": a, "b": b, "c": c, "d": d, "t": t, "f": f}


def breadth_first_trap(x, y):
    c = x * y
    d = c * 2.0
    f = c * d  # f's children are (c, d): breadth-first order reaches c before d, which also uses c
    return {"x": x, "y": y, "c": c, "d": d, "f": f}


OPERATIONS = ("+", "*", "-", "/", "exp", "log", "tanh", "relu", "**2", "**-1", "**0.5", "**b", "2**a", "1-a", "3*a")


def apply(operation, a, b):
    # The same line for a Value and a tensor: both have these operators and methods.
    return {"+": lambda: a + b, "*": lambda: a * b, "-": lambda: a - b, "/": lambda: a / b, "exp": a.exp,
            "log": a.log, "tanh": a.tanh, "relu": a.relu, "**2": lambda: a**2, "**-1": lambda: a**-1.0,
            "**0.5": lambda: a**0.5, "**b": lambda: a**b, "2**a": lambda: 2.0**a, "1-a": lambda: 1.0 - a,
            "3*a": lambda: 3.0 * a}[operation]()


def random_program(seed, leaves=3, steps=14):
    """A random expression: each step applies an operation to earlier nodes (drawn with repetition, so nodes are
    shared), kept where the operation is defined and the values stay moderate. Drawn with float64 tensors, so that
    the kernel and the judge draw the same program."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.3, 2.0, leaves) * rng.choice([-1.0, 1.0], leaves)
    values = [torch.tensor(v, dtype=torch.float64) for v in start]
    program = []
    while len(program) < steps:
        operation = OPERATIONS[int(rng.integers(len(OPERATIONS)))]
        operands = [int(rng.integers(len(values))) for _ in range(2)]
        a, b = (values[i].item() for i in operands)
        if operation in ("log", "**0.5", "**b") and a <= 0.1 or operation in ("/", "**-1") and abs(b) < 0.3 \
                or operation == "**-1" and abs(a) < 0.3 or operation in ("exp", "2**a") and abs(a) > 3 \
                or operation == "**b" and abs(b) > 2:
            continue
        result = apply(operation, *(values[i] for i in operands))
        if abs(result.item()) < 20:
            values.append(result)
            program.append((operation, *operands))
    return start.tolist(), program


def run(program):
    def build(*leaves):
        nodes = {f"x{i}": leaf for i, leaf in enumerate(leaves)}
        for operation, i, j in program:
            values = list(nodes.values())
            nodes[f"n{len(nodes)}"] = apply(operation, values[i], values[j])
        nodes["root"] = sum(list(nodes.values())[len(leaves):])  # every node is on a path from the root
        return nodes
    return build


def graph(name, leaves):
    """The builder and leaf values of a case: a named graph, or 'random' with a seed as its one leaf input."""
    if name == "random":
        start, program = random_program(leaves)
        return run(program), start, f"random graph {leaves} ({', '.join(op for op, *_ in program)}; root = sum of all nodes)"
    build, description = GRAPHS[name]
    return build, list(leaves), description.format(*leaves)


GRAPHS = {
    "shared nodes": (shared_nodes, "f = (a·b)·a + tanh(b), b = a + x, a = x·y at x = {}, y = {}"),
    "x·x": (lambda x: {"x": x, "f": x * x}, "f = x·x at x = {}"),
    "breadth-first trap": (breadth_first_trap, "f = c·d, d = 2c, c = x·y at x = {}, y = {}"),
}


def structure(names, root, processed):
    """The order backward returned as plain data: node indices (-1 for what is not a Value), edges and ops."""
    value_class = names["Value"]
    items = list(processed) if isinstance(processed, (list, tuple)) else []
    values = [item for item in items if isinstance(item, value_class)]
    index, edges, ops, stack = {}, [], [], [root, *values]
    order_of_visit = []
    while stack:
        node = stack.pop()
        if id(node) in index:
            continue
        index[id(node)] = len(order_of_visit)
        order_of_visit.append(node)
        ops.append(str(node.op or "leaf")[:12].replace(" ", "_"))  # one word each: sent joined by spaces
        stack.extend(node.children)
    for node in order_of_visit:
        edges.extend((index[id(node)], index[id(child)]) for child in node.children)
    strangers = [(position, type(item).__name__) for position, item in enumerate(items)
                 if not isinstance(item, value_class)]
    return {"returned_type": type(processed).__name__, "is_sequence": isinstance(processed, (list, tuple)),
            "order": torch.tensor([index[id(item)] if isinstance(item, value_class) else -1 for item in items],
                                  dtype=torch.int64),
            "edges": torch.tensor(edges, dtype=torch.int64).reshape(-1, 2), "ops": " ".join(ops),
            "stranger": strangers[0] if strangers else None}, index


def torch_backward_calls():
    """Counts the backward passes torch's own autograd runs (``backward``, ``autograd.grad`` and what calls them)."""
    return NamedTorchCalls(lambda name: name in ("backward", "grad"))


def observe_backward(answer, name, leaves):
    names = notebook_names(answer)
    build, values, _ = graph(name, leaves)
    nodes = build(*(names["Value"](value) for value in values))
    root = list(nodes.values())[-1]
    with torch_backward_calls() as torch_passes:
        processed = returned(answer, root)
    seen, index = structure(names, root, processed)
    return {**seen, "processed": processed if type(processed) is Raised else None, "torch passes": torch_passes.count,
            "grads": tuple(plain(node.grad) for node in nodes.values()),
            "named": torch.tensor([index[id(node)] for node in nodes.values()], dtype=torch.int64)}


def torch_gradients(build, values):
    nodes = build(*(torch.tensor(value, dtype=torch.float64, requires_grad=True) for value in values))
    for node in nodes.values():
        if not node.is_leaf:
            node.retain_grad()
    list(nodes.values())[-1].backward()
    return {name: 0.0 if node.grad is None else node.grad.item() for name, node in nodes.items()}


def uses_of(nodes, parent):
    """The named nodes ``parent``'s operation takes as inputs, one entry per use, each with its local derivative
    ∂parent/∂input: the operation's own backward (its grad_fn) applied to 1."""
    function = nodes[parent].grad_fn
    if function is None:
        return []
    local_derivatives = function(torch.ones((), dtype=torch.float64))
    if not isinstance(local_derivatives, tuple):
        local_derivatives = (local_derivatives,)
    found = []
    for (input_function, _), local in zip(function.next_functions, local_derivatives):
        for name, node in nodes.items():
            if input_function is not None and (input_function is node.grad_fn
                                               or getattr(input_function, "variable", None) is node):
                found.append((name, local.item()))
    return found


def symptom_hint(got, want, uses, positive, without_parent=None):
    """The mistake the wrong gradients point to. ``uses``: for each node, the gradient share of each of its uses.
    ``positive``: every value and local derivative of the graph is > 0, so a gradient above the true one can only
    come from a share passed down twice. ``without_parent``: the gradients when each node passes down its local
    derivatives alone, without its own gradient."""
    root = list(want)[-1]
    if not same_number(got[root], 1.0):
        return (f"∂{root}/∂{root} = 1: add the seed 1.0 to root.grad (root.grad += 1.0) before passing gradients "
                f"down (it got {got[root]!r})")
    if without_parent is not None and all(same_number(got[name], without_parent[name]) for name in want):
        return ("the chain rule multiplies by the parent's gradient: child.grad += local * node.grad, not local "
                "alone (every node here holds the sum of its local derivatives)")
    for name, parts in uses.items():
        if len(parts) > 1 and not same_number(got[name], want[name]) and any(same_number(got[name], p) for p in parts):
            return (f"{name} is used {len(parts)} times and its grad holds the share of one use only: add every use's "
                    "share with child.grad += local * node.grad (not =)")
    if positive and any(got[name] > want[name] * (1 + 1e-9) for name in want):
        return ("a share was passed down more than once: visit each node once (a visited set in the topological sort), "
                "and pass each node's gradient to its children once")
    return ("a node passed its gradient down before every node that uses it had added its share: go from the root "
            "down in reverse topological order (each node after all its users), not leaves first, not breadth-first")


def shares_of_uses(build, values, want):
    """For each named node, the share of the root's gradient each of its uses passes down: want[user] · ∂user/∂node."""
    nodes = build(*(torch.tensor(value, dtype=torch.float64, requires_grad=True) for value in values))
    uses = {name: [] for name in nodes}
    for parent in nodes:
        for child, local in uses_of(nodes, parent):
            uses[child].append(want[parent] * local)
    return uses


def gradients_without_parent(build, values, want):
    """What each node's grad holds when every node passes down its local derivatives without its own gradient:
    the sum of the local derivatives of its uses (the shares of the uses with every parent's gradient 1)."""
    locals_of_uses = shares_of_uses(build, values, {name: 1.0 for name in want})
    root = list(want)[-1]
    return {name: 1.0 if name == root else sum(shares) for name, shares in locals_of_uses.items()}


def expect_grads(seen, names, what):
    for name, grad in zip(names, seen["grads"]):
        expect_true(type(grad) in (float, int), what=f"{what}: {name}.grad", expected="a float",
                    got=f"a {type(grad).__name__}", hint="node.grad holds a number: add local * node.grad to it")
    return {name: float(grad) for name, grad in zip(names, seen["grads"])}


def expect_order(seen, named_names, what):
    """The list backward returned: each node reachable from root once, every node before its children."""
    where = f"{what}: the list backward returned"
    ops = seen["ops"].split(" ")
    label = {int(index): name for index, name in zip(seen["named"].tolist(), named_names)}

    def name(index):
        return label.get(index, f"a {ops[index] if 0 <= index < len(ops) else 'leaf'} node")

    expect_true(seen["is_sequence"], what=f"{what}: what backward returned",
                expected="the list of nodes in the order backward processed them", got=f"a {seen['returned_type']}",
                hint="return the nodes in the order you processed them (reverse topological order)")
    if seen["stranger"] is not None:
        position, kind = seen["stranger"]
        expect_true(False, what=where, expected="Values only", got=f"a {kind} at index {position}",
                    hint="return the nodes themselves")
    order = seen["order"].tolist()
    twice = next((index for index in order if order.count(index) > 1), None)
    expect_true(twice is None, what=where, expected="each node once",
                got=f"{name(twice)} {order.count(twice)} times" if twice is not None else "",
                hint="process each node once, with a visited set: a sum over paths handles a node once per path, "
                     "which takes exponential time")
    root = int(seen["named"][-1])
    expect_true(root in order, what=where, expected=f"the root {name(root)}", got="a list without it",
                hint="the root is processed first: it passes its seed 1.0 to its children")
    position = {index: at for at, index in enumerate(order)}
    for parent, child in sorted(seen["edges"].tolist(), key=lambda edge: position.get(edge[0], len(order))):
        if parent in position:
            expect_true(position.get(child, -1) > position[parent], what=where,
                        expected=f"{name(child)} after {name(parent)}, which uses it",
                        got="it missing" if child not in position else "it before",
                        hint="every node reachable from the root once, each before its children (reverse topological order)")


def judge_backward(seen, name, leaves, positive=False):
    build, values, what = graph(name, leaves)
    expect_returned(seen["processed"], what=f"backward({what})")
    expect_rule(seen["torch passes"] == 0, what=f"backward({what})", rule="the algorithm of section 2, on the Values",
                got=f"ran torch's own backward {seen['torch passes']} time(s)",
                hint="sort the Values topologically and pass local * node.grad down yourself: copying the graph into "
                     "torch lets torch's autograd do the exercise")
    want = torch_gradients(build, values)
    got = expect_grads(seen, list(want), what)
    root = list(want)[-1]
    for node in reversed(list(want)):  # from the root down: the first wrong gradient is where it went wrong
        if not same_number(got[node], want[node]):
            expect_close(got[node], want[node], rtol=1e-9, atol=1e-12, what=f"{what}: {node}.grad = ∂{root}/∂{node}",
                         hint=symptom_hint(got, want, shares_of_uses(build, values, want), positive,
                                           without_parent=gradients_without_parent(build, values, want)))
    expect_order(seen, list(want), what)


check_backward = Check("check_backward", observe_backward, judge_backward)


def observe_leaf_root(answer, x):
    names = notebook_names(answer)
    alone = names["Value"](x)
    processed = returned(answer, alone)
    seen, index = structure(names, alone, processed)
    return {**seen, "processed": processed if type(processed) is Raised else None,
            "grads": (plain(alone.grad),), "named": torch.tensor([index[id(alone)]], dtype=torch.int64)}


def judge_leaf_root(seen, x):
    what = f"backward(x) for a leaf x = {x}"
    expect_returned(seen["processed"], what=what)
    got = expect_grads(seen, ["x"], "backward(x) for a leaf x")
    expect_close(got["x"], 1.0, what=f"{what}: x.grad",
                 hint="the root is a node too: ∂x/∂x = 1, even when the root has no children")
    expect_order(seen, ["x"], what)


check_leaf_root = Check("check_leaf_root", observe_leaf_root, judge_leaf_root)


def two_graphs(x, y):
    return (x * y, (x + y * y).tanh())


def observe_accumulates(answer, x, y):
    """Two graphs that share the leaves x and y, then x alone as a root: a root that already holds a gradient."""
    names = notebook_names(answer)
    x_engine, y_engine = names["Value"](x), names["Value"](y)
    raised = tuple(returned(answer, root) for root in two_graphs(x_engine, y_engine))
    grads = (plain(x_engine.grad), plain(y_engine.grad))
    as_root = returned(answer, x_engine)
    return {"raised": tuple(got if type(got) is Raised else None for got in (*raised, as_root)),
            "grads": grads, "root grad": plain(x_engine.grad)}


def judge_accumulates(seen, x, y):
    for got, what in zip(seen["raised"], ("backward(x·y)", "backward(tanh(x + y·y)) after backward(x·y)",
                                          "backward(x) after both")):
        expect_returned(got, what=what)
    x_torch, y_torch = (torch.tensor(value, dtype=torch.float64, requires_grad=True) for value in (x, y))
    for output in two_graphs(x_torch, y_torch):
        output.backward()
    got = expect_grads(seen, ["x", "y"], "two graphs")
    for name, reference in (("x", x_torch), ("y", y_torch)):
        expect_close(got[name], reference.grad.item(), rtol=1e-9, atol=1e-12,
                     what=f"{name}.grad after backward(x·y) then backward(tanh(x + y·y)), x = {x}, y = {y}",
                     hint="gradients accumulate across backward calls, as in torch: backward adds to .grad and never "
                          "resets it (zeroing is the training loop's job)")
    before = x_torch.grad.item()
    x_torch.backward()
    expect_close(seen["root grad"], x_torch.grad.item(), rtol=1e-9, atol=1e-12,
                 what=f"x.grad after backward(x), when x.grad held {before!r} from the two backward passes before",
                 hint="the root's grad accumulates too: add the seed, root.grad += 1.0 (root.grad = 1.0 throws away "
                      "what it held)")


check_accumulates = Check("check_accumulates", observe_accumulates, judge_accumulates)


def counted(value_class):
    """The notebook's Value, counting how often its local derivatives are read. A backward pass needs them once per
    node (linear time); a sum over paths reads them once per path."""
    class CountedValue(value_class):
        def __init__(self, data, children=(), local_grads=()):
            self.reads = 0
            super().__init__(data, children, local_grads)

        @property
        def local_grads(self):
            self.reads += 1
            return self.counted_local_grads

        @local_grads.setter
        def local_grads(self, value):
            self.counted_local_grads = value

    return CountedValue


def diamonds(value_class, depth):
    # node -> left = node/2, right = 2·node -> left·right = node²: each level a diamond, ∂top/∂x = 2**depth at x = 1.
    x = node = value_class(1.0)
    nodes = [x]
    for _ in range(depth):
        left = value_class(0.5 * node.data, (node,), (0.5,))
        right = value_class(2.0 * node.data, (node,), (2.0,))
        node = value_class(left.data * right.data, (left, right), (right.data, left.data))
        nodes += [left, right, node]
    return x, node, nodes


def observe_linear_time(answer, depth):
    names = notebook_names(answer)
    x, top, nodes = diamonds(counted(names["Value"]), depth)
    processed = returned(answer, top)
    seen, index = structure(names, top, processed)
    return {**seen, "processed": processed if type(processed) is Raised else None,
            "grads": (plain(x.grad), plain(top.grad)),
            "named": torch.tensor([index[id(x)], index[id(top)]], dtype=torch.int64),
            "most_reads": max(node.reads for node in nodes), "nodes": len(nodes)}


def judge_linear_time(seen, depth):
    what = f"a chain of {depth} diamonds"
    expect_returned(seen["processed"], what=f"backward(top) for {what}")
    got = expect_grads(seen, ["x", "top"], "diamonds")
    want = {"x": 2.0**depth, "top": 1.0}
    expect_close(got["x"], want["x"], rtol=1e-12, atol=0.0,
                 what=f"{what} (node -> node/2 and 2·node -> their product): x.grad",
                 hint=symptom_hint(got, want, {"x": [], "top": []}, positive=True))
    expect_order(seen, ["x", "top"], what)
    expect_rule(seen["most_reads"] <= 4, what=f"backward(top) for {what} ({seen['nodes']} nodes, "
                f"{2**depth} paths from top to x)", rule="each node processed once, in reverse topological order",
                got=f"read one node's local_grads {seen['most_reads']} times",
                hint="a sum over paths (like backward_by_paths) takes exponential time: sort the nodes once, then pass "
                     "each node's gradient down once")


check_linear_time = Check("check_linear_time", observe_linear_time, judge_linear_time)


# ---- Exercise 2: the sigmoid as one node.

def sigmoid_by_torch(x):
    # torch's float64 sigmoid and its derivative by torch's autograd: the reference.
    leaf = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    value = torch.sigmoid(leaf)
    value.backward()
    return value.item(), leaf.grad.item()


def derivative_hint(local, x, s):
    return hint_for(local, [
        (s, "σ'(x) = σ(x)·(1 − σ(x)): the factor (1 − σ) is missing"),
        (1 - s * s, "1 − s² is tanh's derivative; sigmoid's is σ(x)·(1 − σ(x))"),
        (x * (1 - x), "apply σ(1 − σ) to the output s = σ(x), not to the input x"),
        (1 - s, "σ'(x) = σ(x)·(1 − σ(x)): the factor σ(x) is missing"),
        (-s * (1 - s), "check the sign: sigmoid increases, σ'(x) > 0")],
        "the local derivative is dσ/dx = σ(x)·(1 − σ(x)), a float computed from s = σ(x)")


FLOAT64 = torch.finfo(torch.float64)
OVERFLOW_EDGE = -math.log(FLOAT64.max)  # -709.78: below it e^(-x) overflows, and σ(x) < FLOAT64.tiny


def overflow_hints(x):
    """The hint for math.exp's OverflowError at ``x``: which exponent was positive depends on the sign of x."""
    if x > 0:
        return (("math range error", "math.exp overflows above 709.78, and at x > 0 that is e^x: σ(x) is nearly 1 "
                                     "here; use e^x / (1 + e^x) only for x < 0 and 1 / (1 + e^(−x)) for x ≥ 0"),)
    return (("math range error", "math.exp overflows above 709.78: catch the OverflowError (σ(x) < 1e-308 there), or "
                                 "for x < 0 write σ(x) = e^x / (1 + e^x), whose exponent is never positive"),)


def data_hint(x):
    if x < OVERFLOW_EDGE:
        return "e^(−x) overflows below x = −709.78 because σ(x) is nearly 0 there (under 1e-308), not 1"
    if x < -30:
        return ("σ(x) is tiny for x ≪ 0, and a form that subtracts from 1 (1 − 1/(1 + e^x), (1 + tanh(x/2))/2) cancels its "
                "digits away: 1 / (1 + e^(−x)) or e^x / (1 + e^x) keeps every digit")
    return "σ(x) = 1 / (1 + e^(−x))"


def observe_sigmoid(answer, x):
    v = notebook_names(answer)["Value"](x)
    out = returned(answer, v)
    node = type(out) is notebook_names(answer)["Value"]
    children = tuple(out.children) if node else ()
    return {"out": out if type(out) is Raised else None, "type": type(out).__name__, "is_value": node,
            "children": len(children), "child_is_v": len(children) == 1 and children[0] is v,
            "data": plain(out.data) if node else None,
            "local_grads": tuple(plain(g) for g in out.local_grads) if node else (), "v_after": (plain(v.data), plain(v.grad))}


def judge_sigmoid(seen, x, note="", slope_atol=0.0):
    what = f"sigmoid(Value({x}))" + (f", {note}" if note else "")
    expect_returned(seen["out"], what=what, hints=overflow_hints(x))
    expect_true(seen["is_value"], what=what, expected="a Value (the new node)", got=f"a {seen['type']}",
                hint="return Value(s, (v,), (local derivative,))")
    children = seen["children"]
    expect_rule(seen["child_is_v"], what=what, rule="one new node whose only child is v",
                got=f"returned a node with {children} child{'ren' if children != 1 else ''}"
                    + ("" if children != 1 else " that is not v"),
                hint="compute σ(x) with math and return Value(s, (v,), (dσ/dx,)): one node, one local derivative")
    value, slope = sigmoid_by_torch(x)
    # Below the overflow edge σ(x) is under the smallest normal float64: 0.0 (torch's value there) or e^x are both right.
    tiny = FLOAT64.tiny if x < OVERFLOW_EDGE else 0.0
    expect_close(seen["data"], value, rtol=1e-9, atol=tiny, what=f"{what}: the node's data", hint=data_hint(x))
    expect_true(len(seen["local_grads"]) == 1, what=f"{what}: the node's local_grads", expected="one local derivative",
                got=f"{len(seen['local_grads'])}", hint="local_grads holds one float per child: (dσ/dx,)")
    (local,) = seen["local_grads"]
    expect_close(local, slope, rtol=1e-9, atol=max(slope_atol, tiny), what=f"{what}: the node's local derivative",
                 hint=derivative_hint(local, x, value))
    v_data, v_grad = seen["v_after"]
    expect_true(v_data == x and v_grad == 0.0, what=f"{what}: the child v afterwards", expected=f"data {x}, grad 0.0",
                got=f"data {v_data!r}, grad {v_grad!r}", hint="sigmoid only creates the new node; backward fills grads later")


check_sigmoid = Check("check_sigmoid", observe_sigmoid, judge_sigmoid)


def sigmoid_graph(sigmoid, x, y):
    return sigmoid(x * y) * x


def observe_sigmoid_in_graph(answer, x, y):
    names = notebook_names(answer)
    x_value, y_value = names["Value"](x), names["Value"](y)
    z = returned(sigmoid_graph, answer, x_value, y_value)
    if type(z) is not Raised:
        z = returned(names["backward_by_paths"], z)
    return {"raised": z if type(z) is Raised else None, "grads": (plain(x_value.grad), plain(y_value.grad))}


def judge_sigmoid_in_graph(seen, x, y):
    what = f"z = sigmoid(x·y)·x at x = {x}, y = {y}"
    expect_returned(seen["raised"], what=what)
    x_torch, y_torch = (torch.tensor(value, dtype=torch.float64, requires_grad=True) for value in (x, y))
    sigmoid_graph(torch.sigmoid, x_torch, y_torch).backward()
    for name, engine, reference in zip("xy", seen["grads"], (x_torch, y_torch)):
        expect_close(engine, reference.grad.item(), rtol=1e-9, atol=1e-12,
                     what=f"{what}: {name}.grad by backward_by_paths",
                     hint="the node's child must be the Value you were given, and its local derivative dσ/dx")


check_sigmoid_in_graph = Check("check_sigmoid_in_graph", observe_sigmoid_in_graph, judge_sigmoid_in_graph)


# ---- Exercise 3: training, against the network trained in NumPy with its gradient derived by hand.

def random_examples():
    examples = np.random.default_rng(15).normal(size=(6, 3))
    return examples.tolist(), np.sin(examples.sum(1)).tolist()


# The data sets of the cases, by the name a message shows.
DATASETS = {
    "4 examples": ([[0.0, 1.0], [1.0, -1.0], [-1.5, 0.5], [2.0, 2.0]], [1.0, -1.0, 0.5, 0.0]),
    "6 examples": random_examples(),
    "3 examples": ([[-1.0], [0.5], [2.0]], [0.3, -0.2, 0.9]),
    "1 example": ([[1.0, 2.0]], [3.0]),
}


def initial_parameters(n_inputs, n_hidden, seed):
    """The weights make_network(n_inputs, n_hidden, seed) draws (section 3.4), in the order of parameters_of."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(size=(n_hidden, n_inputs)) / math.sqrt(n_inputs)
    b1 = 0.1 * rng.normal(size=n_hidden)
    w2 = rng.normal(size=n_hidden) / math.sqrt(n_hidden)
    return np.concatenate([w1.ravel(), b1, w2, [0.0]])


def split(flat, n_inputs, n_hidden):
    # The flat parameter vector (the order of parameters_of) as W1, b1, w2, b2.
    sizes = np.cumsum([n_hidden * n_inputs, n_hidden, n_hidden])
    w1, b1, w2, b2 = np.split(flat, sizes)
    return w1.reshape(n_hidden, n_inputs), b1, w2, b2[0]


def trained_by_hand(flat, inputs, targets, n_hidden, learning_rate, steps, accumulate=False, sign=-1.0):
    # The reference: the network in numpy float64, its gradient derived by hand (backpropagation written out).
    # accumulate and sign simulate two mistakes, so that a hint can name them.
    inputs, targets = np.array(inputs, dtype=np.float64), np.array(targets, dtype=np.float64)
    n_inputs = inputs.shape[1]
    losses, grads = [], np.zeros_like(flat)
    for _ in range(steps):
        w1, b1, w2, b2 = split(flat, n_inputs, n_hidden)
        hidden = np.tanh(inputs @ w1.T + b1)
        residuals = hidden @ w2 + b2 - targets
        losses.append(float(np.mean(residuals**2)))
        d_output = 2 * residuals / len(targets)
        d_pre_activation = np.outer(d_output, w2) * (1 - hidden**2)
        step_grads = np.concatenate([(d_pre_activation.T @ inputs).ravel(), d_pre_activation.sum(0),
                                     hidden.T @ d_output, [d_output.sum()]])
        grads = grads + step_grads if accumulate else step_grads
        flat = flat + sign * learning_rate * grads
    return losses, flat


def losses_sent(got):
    """What a training function returned, as plain data: its kind, its length and the losses if they are numbers."""
    sequence = isinstance(got, (list, tuple))
    kinds = sorted({type(loss).__name__ for loss in got if type(loss) not in PLAIN_NUMBERS}) if sequence else []
    numbers = sequence and not kinds
    return {"raised": got if type(got) is Raised else None, "type": type(got).__name__,
            "length": len(got) if sequence else None, "kinds": ", ".join(kinds),
            "losses": torch.tensor([float(loss) for loss in got], dtype=torch.float64) if numbers else None}


class CountedBackward:
    """The notebook's ``backward_by_paths``, counting its calls: what ``train`` is given, so that the tests see
    whether it calls the backward it was given, once per step."""

    def __init__(self, backward):
        self.backward, self.calls = backward, 0

    def __call__(self, root):
        self.calls += 1
        return self.backward(root)


def observe_training(answer, name, n_hidden, seed, learning_rate, steps, engine=False):
    names = notebook_names(answer)
    inputs, targets = DATASETS[name]
    network = names["make_network"](len(inputs[0]), n_hidden, seed)
    arguments = (network, inputs, targets, learning_rate, steps)
    backward = CountedBackward(names["backward_by_paths"])
    got = returned(answer, *arguments, backward) if engine else returned(answer, *arguments)
    weights = [plain(p.data) for p in names["parameters_of"](network)]
    return {**losses_sent(got), "weights": torch.tensor(weights, dtype=torch.float64)
            if all(type(w) is float for w in weights) else None, "backward calls": backward.calls}


def plain_losses(seen, steps, what):
    expect_returned(seen["raised"], what=what)
    length = seen["length"]
    expect_true(length == steps, what=what, expected=f"a list of {steps} losses",
                got=f"a {seen['type']}" + (f" of length {length}" if length is not None else ""),
                hint="append the loss of every step to a list and return it")
    expect_true(not seen["kinds"], what=what, expected="plain Python floats", got=f"{seen['kinds']} values",
                hint="append loss.data (engine) or loss.item() (torch): a number, not the graph's node")
    return seen["losses"]


def losses_hint(got, start, inputs, targets, n_hidden, learning_rate, steps):
    def losses(**mistake):
        return torch.tensor(trained_by_hand(start, inputs, targets, n_hidden, learning_rate, steps, **mistake)[0],
                            dtype=torch.float64)

    want = losses()
    following = torch.tensor(trained_by_hand(start, inputs, targets, n_hidden, learning_rate, steps + 1)[0],
                             dtype=torch.float64)
    return hint_for(got, [
        (losses(accumulate=True),
         "the gradients of earlier steps were still in .grad: zero every parameter's grad before each backward"),
        (losses(sign=1.0), "the update went uphill: parameter -= learning_rate * grad, against the gradient"),
        (following[1:], "these are the losses after each update: record the loss the step computed, before the update"),
        (lambda got: got.numel() > 1 and bool((got == got[0]).all()),
         "the loss never changed: in every step build the loss again from the parameters, then update parameter.data"),
        (lambda got: bool(torch.allclose(got, want, rtol=1e-5, atol=0.0)),
         "the losses agree to about 7 digits only: float32 rounds to u₃₂ = 2⁻²⁴ ≈ 6e-8; compute in torch.float64, "
         "like the engine's Python floats"),
        (lambda got: got.numel() > 0 and math.isclose(got[0].item(), want[0].item() * len(targets), rel_tol=1e-9),
         "the loss is the mean of the squared errors, not their sum")],
        "each step: loss, zero the grads, backward, parameter -= learning_rate * grad; the loss before the update")


def judge_training(seen, function, name, n_hidden, seed, learning_rate, steps):
    inputs, targets = DATASETS[name]
    start = initial_parameters(len(inputs[0]), n_hidden, seed)
    want, trained = trained_by_hand(start, inputs, targets, n_hidden, learning_rate, steps)
    case = f"{function}: {len(inputs[0])} inputs, {n_hidden} hidden units, {name}, learning rate {learning_rate}, " \
           f"{steps} steps"
    got = plain_losses(seen, steps, case)
    if function == "train":
        expect_rule(seen["backward calls"] == steps, what=case, rule="call the backward you are given once per step",
                    got=f"called it {seen['backward calls']} time(s) in {steps} steps",
                    hint="call backward(loss), the function train receives as its argument, once in every step")
    if function == "train_in_torch":
        expect_true(seen["weights"] is not None and bool(torch.equal(seen["weights"], torch.from_numpy(start))),
                    what=case, expected="the network's Values unchanged", got="changed Values",
                    hint="train copies of the weights: torch.tensor([...], dtype=..., requires_grad=True)")
    expect_close(got, torch.tensor(want, dtype=torch.float64), rtol=1e-10, atol=0.0,
                 what=f"{case}: the loss of each step",
                 hint=losses_hint(got, start, inputs, targets, n_hidden, learning_rate, steps))
    if function == "train":
        expect_close(seen["weights"], torch.from_numpy(trained), rtol=1e-10, atol=1e-12,
                     what=f"{case}: the parameters afterwards (in the order of parameters_of)",
                     hint="update every parameter in place, parameter.data -= learning_rate * parameter.grad, once per step")


def judge_train(seen, name, n_hidden, seed, learning_rate, steps):
    judge_training(seen, "train", name, n_hidden, seed, learning_rate, steps)


def judge_train_in_torch(seen, name, n_hidden, seed, learning_rate, steps):
    judge_training(seen, "train_in_torch", name, n_hidden, seed, learning_rate, steps)


def observe_train(answer, name, n_hidden, seed, learning_rate, steps):
    return observe_training(answer, name, n_hidden, seed, learning_rate, steps, engine=True)


check_train = Check("check_train", observe_train, judge_train)
check_train_in_torch = Check("check_train_in_torch", observe_training, judge_train_in_torch)

__all__ = ["check_accumulates", "check_backward", "check_leaf_root", "check_linear_time", "check_sigmoid",
           "check_sigmoid_in_graph", "check_train", "check_train_in_torch"]
