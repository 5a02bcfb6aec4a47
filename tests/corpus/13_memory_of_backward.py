"""Misconceptions and correct answers for 13_memory_of_backward."""

from misconceptions import Correct, Mistake


def counter(body: str) -> dict[str, str]:
    return {"ex1_answer": "def saved_bytes(forward):\n" + body}


def stack(body: str) -> dict[str, str]:
    return {"ex2_answer": "def checkpointed_stack(layers, x):\n" + body}


def counted_by(record: str, total: str = "sum(held.values())", around: str = "") -> dict[str, str]:
    """An ex1 answer whose pack hook runs ``record`` (with ``tensor`` and ``held = {}``) and returns ``total``."""
    forward = f"    with {around}saved_tensors_hooks(pack, lambda tensor: tensor):\n        forward()\n"
    return counter("    held = {}\n\n    def pack(tensor):\n" f"        {record}\n        return tensor\n\n"
                   f"{forward}    return {total}\n")


RUN = "\n    def run(segment, h):\n        for layer in segment:\n            h = layer(h)\n        return h\n\n"


def in_groups(size: str, call: str = "checkpoint(run, layers[start:start + size], h, use_reentrant=False)") -> dict:
    """An ex2 answer that runs groups of ``size`` consecutive layers through ``call``."""
    return stack(f"    size = {size}\n" + RUN + "    h = x\n    for start in range(0, len(layers), size):\n"
                 f"        h = {call}\n    return h\n")


CASES = [
    # Exercise 1: the saved-bytes counter.
    Correct("ex1-list-then-dedupe", counter(
        "    saved = []\n"
        "    with saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):\n"
        "        output = forward()\n"
        "    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in saved}\n"
        "    return int(sum(storages.values()))\n")),
    Correct("ex1-set-of-pairs", counter(
        "    seen = set()\n"
        "\n"
        "    def pack(tensor):\n"
        "        storage = tensor.untyped_storage()\n"
        "        seen.add((storage.data_ptr(), storage.size()))  # an untyped storage's size is in bytes\n"
        "        return tensor\n"
        "\n"
        "    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):\n"
        "        forward()\n"
        "    return sum(size for _, size in seen)\n")),
    Correct("ex1-keep-tensors-by-storage", counter(
        "    by_storage = {}\n"
        "\n"
        "    def pack(tensor):\n"
        "        by_storage.setdefault(tensor.untyped_storage().data_ptr(), tensor)\n"
        "        return tensor\n"
        "\n"
        "    def unpack(tensor):\n"
        "        return tensor\n"
        "\n"
        "    with saved_tensors_hooks(pack, unpack):\n"
        "        result = forward()\n"
        "    total = 0\n"
        "    for tensor in by_storage.values():\n"
        "        total += tensor.untyped_storage().nbytes()\n"
        "    return total\n")),
    Mistake("ex1-per-pack", counted_by("held[len(held)] = tensor.numel() * tensor.element_size()"),
            fails="ex1_tests", hint="count each storage once", why="counts a tensor saved by two nodes twice"),
    Mistake("ex1-elements", counted_by("held[tensor.untyped_storage().data_ptr()] = tensor.numel()"),
            fails="ex1_tests", hint="count bytes, not elements", why="numel is elements"),
    Mistake("ex1-four-bytes", counted_by("held[tensor.untyped_storage().data_ptr()] = 4 * tensor.numel()"),
            fails="ex1_tests", hint="a float64 element is 8 bytes", why="assumes float32"),
    Mistake("ex1-only-requires-grad", counted_by(
        "held[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes() if tensor.requires_grad else 0"),
            fails="ex1_tests", hint="x does not require grad", why="thinks only tracked tensors are saved"),
    Mistake("ex1-enable-grad", counted_by("held[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()",
                                          around="torch.enable_grad(), "),
            fails="ex1_tests", hint="under no_grad nothing is saved", why="switches tracking on for the count"),
    Mistake("ex1-tensor-address", counted_by("held[tensor.data_ptr()] = tensor.untyped_storage().nbytes()"),
            fails="ex1_tests", hint="two tensors but one storage", why="a slice's data_ptr is not its storage's"),
    Mistake("ex1-tensor-id", counted_by("held[id(tensor)] = tensor.untyped_storage().nbytes()"),
            fails="ex1_tests", hint="two tensors but one storage", why="views are other Python objects"),
    Mistake("ex1-view-elements", counted_by(
        "held[tensor.untyped_storage().data_ptr()] = tensor.numel() * tensor.element_size()"),
            fails="ex1_tests", hint="untyped_storage().nbytes()", why="a saved slice keeps its whole storage"),
    Mistake("ex1-outside-hooks", counter(
        "    held = {}\n"
        "    with saved_tensors_hooks(lambda t: held.setdefault(t.untyped_storage().data_ptr(), t) is None or t,\n"
        "                             lambda t: t):\n"
        "        pass\n"
        "    forward()\n"
        "    return sum(t.untyped_storage().nbytes() for t in held.values())\n"),
            fails="ex1_tests", hint="call forward() inside the with", why="the hooks are gone when forward runs"),
    Mistake("ex1-warm-up-call", counter(
        "    forward()  # a first run, so that every lazy buffer exists before counting\n"
        "    held = {}\n"
        "\n"
        "    def pack(tensor):\n"
        "        held[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()\n"
        "        return tensor\n"
        "\n"
        "    with saved_tensors_hooks(pack, lambda tensor: tensor):\n"
        "        forward()\n"
        "    return sum(held.values())\n"),
            fails="ex1_tests", hint="call forward() once", why="rule: forward() runs once; the right number from two runs"),
    Mistake("ex1-no-call-without-grad", counter(
        "    if not torch.is_grad_enabled():\n"
        "        return 0  # nothing is saved under no_grad anyway\n"
        "    held = {}\n"
        "\n"
        "    def pack(tensor):\n"
        "        held[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()\n"
        "        return tensor\n"
        "\n"
        "    with saved_tensors_hooks(pack, lambda tensor: tensor):\n"
        "        forward()\n"
        "    return sum(held.values())\n"),
            fails="ex1_tests", hint="whatever the grad mode", why="rule: forward() is called once, under no_grad too"),

    # Exercise 2: checkpointing in about sqrt(n) segments.
    Correct("ex2-floor-segments", in_groups("math.isqrt(len(layers))")),
    Correct("ex2-equal-split", stack(
        "    import functools\n"
        "\n"
        "    n = len(layers)\n"
        "    count = math.ceil(math.sqrt(n))\n"
        "    bounds = sorted({round(i * n / count) for i in range(count + 1)})\n"
        "\n"
        "    def segment(first, last):\n"
        "        return lambda h: functools.reduce(lambda value, layer: layer(value), layers[first:last], h)\n"
        "\n"
        "    h = x\n"
        "    for first, last in zip(bounds, bounds[1:]):\n"
        "        h = checkpoint(segment(first, last), h, use_reentrant=False)\n"
        "    return h\n")),
    Correct("ex2-last-segment-plain", stack(
        "    size = max(1, round(len(layers) ** 0.5))\n"
        + RUN +
        "    starts = list(range(0, len(layers), size))\n"
        "    h = x\n"
        "    for start in starts[:-1]:\n"
        "        h = checkpoint(run, layers[start:start + size], h, use_reentrant=False)\n"
        "    return run(layers[starts[-1]:], h)  # its saves are needed first in backward: no use recomputing them\n")),
    Mistake("ex2-every-layer", in_groups("1"), fails="ex2_tests", hint="checkpointing every layer",
            why="keeps every layer's input"),
    Mistake("ex2-one-segment", in_groups("len(layers)"), fails="ex2_tests", hint="one checkpoint around all",
            why="recomputes the whole stack at once"),
    Mistake("ex2-fixed-size", in_groups("4"), fails="ex2_tests", hint="segments of 4 layers",
            why="n/4 boundaries grow like n"),
    Mistake("ex2-reentrant", in_groups("math.ceil(math.sqrt(len(layers)))",
                                       "checkpoint(run, layers[start:start + size], h, use_reentrant=True)"),
            fails="ex2_tests", hint="reentrant checkpoint", why="rule: use_reentrant=False"),
    Mistake("ex2-default-reentrant", in_groups("math.ceil(math.sqrt(len(layers)))",
                                               "checkpoint(run, layers[start:start + size], h)"),
            fails="ex2_tests", hint="reentrant checkpoint", why="the default is the reentrant checkpoint"),
    Mistake("ex2-detach-between", in_groups(
        "math.ceil(math.sqrt(len(layers)))",
        "checkpoint(run, layers[start:start + size], h, use_reentrant=False).detach().requires_grad_()"),
            fails="ex2_tests", hint="do not detach between segments", why="cuts the graph at every segment"),
    Mistake("ex2-forward-twice", stack(
        "    size = math.ceil(math.sqrt(len(layers)))\n" + RUN +
        "    h = x\n"
        "    for start in range(0, len(layers), size):\n"
        "        expected = run(layers[start:start + size], h)  # to check checkpoint's result\n"
        "        h = checkpoint(run, layers[start:start + size], h, use_reentrant=False)\n"
        "    return h\n"),
            fails="ex2_tests", hint="run the stack once", why="runs each segment once more outside checkpoint"),
    Mistake("ex2-square-segments-only", stack(
        "    size = math.isqrt(len(layers))\n" + RUN +
        "    h = x\n"
        "    for segment in range(size):  # size segments of size layers: all of them when n is a square\n"
        "        h = checkpoint(run, layers[segment * size:(segment + 1) * size], h, use_reentrant=False)\n"
        "    return h\n"),
            fails="ex2_tests", hint="apply the layers in order", why="√n segments of ⌊√n⌋ layers miss the last ones"),
    Mistake("ex2-no-checkpoint", stack("    for layer in layers:\n        x = layer(x)\n    return x\n"),
            fails="ex2_tests", hint="no layer was recomputed", why="saves every activation"),
]
