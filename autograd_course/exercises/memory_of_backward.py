"""The checks of 13_memory_of_backward: ``saved_bytes`` (exercise 1) and ``checkpointed_stack`` (exercise 2).

Exercise 1's references are closed forms: bytes from the shapes and dtypes of what each forward pass saves.
Exercise 2 runs the answer on a stack of ``TanhLayer``s whose calls and live activations are logged in the kernel;
the reference gradients come from the same stack run here without checkpointing, the activation budget from the
segment arithmetic of the notebook's section 2.
"""

import math
import weakref

import torch

from ..cases import Check, expect_returned, returned, snapshot
from ..checks import TENSOR_TYPES, expect_close, expect_equal, expect_rule, expect_true, hint_for

# Exercise 1.


def two_layer_mlp(dtype, frozen_first=False):
    # Linear(3, 4), tanh, Linear(4, 2) on x of shape (5, 3), in dtype; x never requires grad.
    first, second = torch.nn.Linear(3, 4, dtype=dtype), torch.nn.Linear(4, 2, dtype=dtype)
    first.requires_grad_(not frozen_first)
    x = torch.randn(5, 3, dtype=dtype)
    return lambda: second(torch.tanh(first(x))).sum()


def exp_times_itself():
    t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    return lambda: torch.exp(t) * t


def sine_times_itself():
    v = torch.linspace(-1.0, 1.0, 7, requires_grad=True)
    return lambda: (torch.sin(v) * v).sum()


def two_slices():
    w = torch.arange(10.0, requires_grad=True)
    return lambda: w[:3] * w[5:8]


def slice_matmul():
    data, weight = torch.ones(4, 6), torch.ones(2, 3, requires_grad=True)
    return lambda: data[:, :2] @ weight


# The graph of the MLP holds x (5 x 3, for the first weight's gradient), the tanh output h (5 x 4: tanh's own
# derivative 1 - h**2 and the second weight's gradient both need it) and the second weight (4 x 2, for the gradient
# to h).
X_BYTES, H_BYTES, WEIGHT_BYTES = 5 * 3 * 4, 5 * 4 * 4, 4 * 2 * 4
SLICES = "both slices keep w's whole storage of 40 bytes alive: count untyped_storage().nbytes()"
# The forward passes, by name: (what a message calls the case, the forward's maker, whether it runs under no_grad,
# the bytes its graph holds, known mistakes as (what they return, hint)).
FORWARDS = {
    "MLP in float32": (
        "saved_bytes(forward) for Linear(3, 4), tanh, Linear(4, 2), sum in float32 on x of shape (5, 3)",
        lambda: two_layer_mlp(torch.float32), False, X_BYTES + H_BYTES + WEIGHT_BYTES, [
            (X_BYTES + 2 * H_BYTES + WEIGHT_BYTES, "tanh's output is saved twice, by tanh and by the next linear: "
                                                   "count each storage once (one storage, one memory)"),
            ((X_BYTES + H_BYTES + WEIGHT_BYTES) / 4, "count bytes, not elements: nbytes() of the storage"),
            ((X_BYTES + 2 * H_BYTES + WEIGHT_BYTES) / 4, "count bytes, not elements, and each storage once"),
            (H_BYTES + WEIGHT_BYTES, "x does not require grad, but the first weight's gradient needs it: count every "
                                     "tensor the hook receives"),
            (0, "nothing was counted: call forward() inside the with saved_tensors_hooks(...) block")]),
    "MLP in float64": (
        "saved_bytes for the same MLP in float64", lambda: two_layer_mlp(torch.float64), False,
        2 * (X_BYTES + H_BYTES + WEIGHT_BYTES), [
            (X_BYTES + H_BYTES + WEIGHT_BYTES, "a float64 element is 8 bytes: take the size from the storage (nbytes())"),
            (2 * (X_BYTES + 2 * H_BYTES + WEIGHT_BYTES), "tanh's output is saved twice: count each storage once")]),
    "MLP under no_grad": (
        "saved_bytes for the MLP called under torch.no_grad()", lambda: two_layer_mlp(torch.float32), True, 0, [
            (lambda got: got > 0, "under no_grad nothing is saved: keep the caller's grad mode (no enable_grad)")]),
    "MLP with a frozen first layer": (
        "saved_bytes for the MLP with a frozen first layer (its weight and bias do not require grad)",
        lambda: two_layer_mlp(torch.float32, frozen_first=True), False, H_BYTES, []),
    "exp(t) * t": (
        "saved_bytes(lambda: torch.exp(t) * t) for a 0-d float64 t", exp_times_itself, False, 2 * 8, [
            (3 * 8, "exp(t) is saved by exp and by the product: count each storage once")]),
    "(sin(v) * v).sum()": (
        "saved_bytes for (sin(v) * v).sum(), v of 7 float32", sine_times_itself, False, 2 * 7 * 4, [
            (3 * 7 * 4, "v is saved by sin and by the product: count each storage once")]),
    "w[:3] * w[5:8]": (
        "saved_bytes(lambda: w[:3] * w[5:8]) for w of 10 float32", two_slices, False, 10 * 4, [
            (2 * 3 * 4, SLICES), (3 * 4, SLICES),
            (2 * 10 * 4, "w[:3] and w[5:8] are two tensors but one storage: tell storages apart by "
                         "untyped_storage().data_ptr() (tensor.data_ptr() is where the slice starts) and count each "
                         "once")]),
    "data[:, :2] @ weight": (
        "saved_bytes for data[:, :2] @ weight, data of 4 x 6 float32", slice_matmul, False, 4 * 6 * 4, [
            (4 * 2 * 4, "the saved slice data[:, :2] keeps data's whole storage alive: count "
                        "untyped_storage().nbytes(), not numel() * element_size()")]),
    "nothing requires grad": (
        "saved_bytes for a computation where nothing requires grad", lambda: lambda: torch.tanh(torch.ones(3)) * 2,
        False, 0, []),
}


def observe_saved_bytes(answer, name):
    _, make, under_no_grad, _, _ = FORWARDS[name]
    forward, calls = make(), []

    def counted_forward():  # handed to the answer in place of forward
        calls.append(name)
        return forward()

    with torch.set_grad_enabled(not under_no_grad):
        got = returned(answer, counted_forward)
    return {"got": got, "forward calls": len(calls)}


def judge_saved_bytes(seen, name):
    what, _, _, expected, known_mistakes = FORWARDS[name]
    got = seen["got"]
    expect_returned(got, what=what)
    expect_equal(got, expected, what=what, hint=hint_for(got, known_mistakes, "add up nbytes() of the distinct storages "
                                                         "of the tensors your pack hook receives, as a Python int"))
    calls = seen["forward calls"]
    expect_rule(calls == 1, what=what, rule="to call forward() once", got=f"called it {calls} times",
                hint="call forward() once, inside the with saved_tensors_hooks(...) block, whatever the grad mode: "
                     "the count is what that one call saved")


check_saved_bytes = Check("check_saved_bytes", observe_saved_bytes, judge_saved_bytes)


# Exercise 2. The layers and the tracker of the stack the exercise's prompt describes; the notebook's section 3.4
# imports them from here and shows their code, so that what it measures is what the tests run.


class LiveActivations:
    # Bytes of the activations alive now, and the most alive at once. weakref.finalize runs when a storage is
    # freed, by whoever held it last (the graph, a checkpoint, a variable): no hook has to see who that was.
    def __init__(self):
        self.bytes = 0
        self.peak = 0

    def track(self, tensor):
        storage = tensor.untyped_storage()
        self.bytes += storage.nbytes()
        self.peak = max(self.peak, self.bytes)
        weakref.finalize(storage, self.release, storage.nbytes())

    def release(self, nbytes):
        self.bytes -= nbytes


class TanhLayer:
    # h -> tanh(h) W + b; logs its index on every call and tracks both tensors it makes. (The linear map comes last:
    # its result is saved by nobody, so when checkpoint stops a recomputation at a segment's last saved tensor,
    # W's transpose, the result it drops was never held.)
    def __init__(self, index, width, generator, calls, live):
        self.index, self.calls, self.live = index, calls, live
        self.weight = (torch.randn(width, width, generator=generator) / math.sqrt(width)).requires_grad_()
        self.bias = torch.zeros(width, requires_grad=True)

    def __call__(self, h):
        self.calls.append(self.index)
        activated = torch.tanh(h)
        self.live.track(activated)
        output = activated @ self.weight + self.bias
        self.live.track(output)
        return output


def make_stack(depth, width, seed=0):
    # depth layers with weights from the seed, their shared call log and live-activation tracker.
    generator = torch.Generator().manual_seed(seed)
    calls, live = [], LiveActivations()
    return [TanhLayer(index, width, generator, calls, live) for index in range(depth)], calls, live


BATCH, WIDTH = 3, 5


def start(x_requires_grad):
    return torch.linspace(-2, 2, BATCH * WIDTH).reshape(BATCH, WIDTH).requires_grad_(x_requires_grad)


def parameters(layer):
    return {"weight": layer.weight, "bias": layer.bias}


def node_names(tensor):
    names, stack, seen = set(), [tensor.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            names.add(type(node).__name__)
            stack.extend(following for following, _ in node.next_functions)
    return names


def observe_stack(answer, depth, x_requires_grad):
    layers, calls, live = make_stack(depth, WIDTH, seed=depth)
    x = start(x_requires_grad)
    output = returned(answer, layers, x)
    forward_calls = list(calls)
    seen = {"output": snapshot(output), "forward calls": torch.tensor(forward_calls, dtype=torch.int64)}
    if type(output) not in TENSOR_TYPES:
        return seen  # judged no further than the output
    seen |= {"requires grad": bool(output.requires_grad), "reentrant": "CheckpointFunctionBackward" in node_names(output),
             "backward": returned(lambda: output.sum().backward())}
    seen["backward calls"] = torch.tensor(calls[len(forward_calls):], dtype=torch.int64)
    seen |= {f"layer {index}'s {name}": parameter.grad for index, layer in enumerate(layers)
             for name, parameter in parameters(layer).items()}
    return seen | {"x": x.grad, "peak": live.peak}


def longest_recomputed_run(backward_calls):
    # Backward recomputes a segment by calling its layers in order: the longest run of consecutive indices.
    longest, run, previous = 0, 0, None
    for index in backward_calls:
        run = run + 1 if previous is not None and index == previous + 1 else 1
        longest, previous = max(longest, run), index
    return longest


def peak_hint(depth, backward_calls):
    longest = longest_recomputed_run(backward_calls)
    if not backward_calls:
        return "no layer was recomputed, so every output stayed saved: run the segments through checkpoint"
    if longest == 1:
        return f"checkpointing every layer keeps every layer's input, {depth} of them: put about √n layers in each checkpoint"
    if longest == depth:
        return (f"one checkpoint around all {depth} layers: backward recomputes them all at once and holds every output: "
                "split into about √n segments")
    return (f"segments of {longest} layers keep about {depth}/{longest} segment inputs, then {longest} recomputed "
            "outputs: both grow like √n only with about √n layers per segment")


def without_checkpoint(depth, x_requires_grad):
    """The stack's output and, by name, the gradients autograd gives without checkpointing."""
    layers, _, _ = make_stack(depth, WIDTH, seed=depth)
    h = x = start(x_requires_grad)
    for layer in layers:
        h = layer(h)
    h.sum().backward()
    gradients = {f"layer {index}'s {name}": parameter.grad for index, layer in enumerate(layers)
                 for name, parameter in parameters(layer).items()}
    return h.detach(), gradients | ({"x": x.grad} if x_requires_grad else {})


def judge_stack(seen, depth, x_requires_grad):
    what = (f"checkpointed_stack(layers, x) for {depth} layer{'s' * (depth > 1)}, x of shape ({BATCH}, {WIDTH}) "
            f"{'requiring' if x_requires_grad else 'not requiring'} grad")
    reference, gradients = without_checkpoint(depth, x_requires_grad)
    output = seen["output"]
    expect_returned(output, what=what)
    expect_close(output, reference, require_tensor=True, what=f"{what}: output",
                 hint="apply the layers in order, each to the previous one's output")
    forward_calls = seen["forward calls"].tolist()
    expect_true(sorted(forward_calls) == list(range(depth)), what=f"{what}: layer calls in the forward pass",
                expected=f"each of the {depth} layers once", got=f"{len(forward_calls)} calls",
                hint="run the stack once: checkpoint calls your segment function itself, use the output it returns")
    expect_true(seen["requires grad"], what=f"{what}: output.requires_grad", expected="True (the weights require grad)",
                got="False", hint="the reentrant checkpoint (use_reentrant=True, or not given) loses the gradients "
                                  "when no input requires grad: pass use_reentrant=False")
    expect_rule(not seen["reentrant"], what=what, rule="checkpoint(..., use_reentrant=False)",
                got="used the reentrant checkpoint", hint="pass use_reentrant=False to every checkpoint call")
    expect_returned(seen["backward"], what=f"{what}: output.sum().backward()")
    for name, want in gradients.items():
        got = seen[name]
        expect_true(got is not None and bool(got.any()), what=f"{what}: gradient of {name}",
                    expected="a nonzero gradient, as without checkpointing", got="None" if got is None else "zeros",
                    hint="the gradient stops here: do not detach between segments, checkpoint's output is part of the graph")
        expect_close(got, want, what=f"{what}: gradient of {name}",
                     hint="checkpointing must leave every gradient as it was without it")
    backward_calls = seen["backward calls"].tolist()
    expect_true(len(backward_calls) <= depth, what=f"{what}: layer calls during backward",
                expected=f"at most {depth}, each layer recomputed at most once", got=f"{len(backward_calls)}",
                hint="checkpoint each segment once, and no checkpoint inside another")
    budget, activation = 2 * math.ceil(math.sqrt(depth)) + 1, BATCH * WIDTH * 4
    expect_true(seen["peak"] <= budget * activation,
                what=f"{what}: activations alive at once (the peak, {activation} bytes each)",
                expected=f"at most 2⌈√{depth}⌉ + 1 = {budget}", got=f"{seen['peak'] / activation:g}",
                hint=peak_hint(depth, backward_calls))


check_stack = Check("check_stack", observe_stack, judge_stack)

__all__ = ["LiveActivations", "TanhLayer", "check_saved_bytes", "check_stack", "make_stack"]
