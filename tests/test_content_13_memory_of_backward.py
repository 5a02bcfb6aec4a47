"""13_memory_of_backward: every recorded number against closed forms from the layer sizes and dtypes.

The references count bytes from shapes (4 bytes per float32 element) and the activations a stack keeps from the
segment arithmetic of the notebook's section 2; none of them runs the notebook's helpers or saved-tensor hooks.
"""

import math
import re
import warnings

import pytest
import torch
from torch.utils.checkpoint import CheckpointError, checkpoint

from recorded import recorded_stdout, solution_cells

ID = "13_memory_of_backward"
FLOAT32 = 4
BATCH = 16
# (op, what it saves, shape, whether that storage was saved before) for Linear(4, 8), ReLU, Linear(8, 8), Tanh,
# Linear(8, 3) and mse_loss on x of shape (16, 4) that does not require grad: a linear layer saves its input for its
# weight's gradient and its weight (transposed) only when its input requires grad; relu and tanh save their output.
SAVES = [("0 Linear", "x", (BATCH, 4), False), ("1 ReLU", "a1", (BATCH, 8), False), ("2 Linear", "a1", (BATCH, 8), True),
         ("2 Linear", "W2ᵀ", (8, 8), False), ("3 Tanh", "a3", (BATCH, 8), False), ("4 Linear", "a3", (BATCH, 8), True),
         ("4 Linear", "W4ᵀ", (8, 3), False), ("mse_loss", "a4", (BATCH, 3), False),
         ("mse_loss", "target", (BATCH, 3), False)]
DEPTHS = [1, 4, 9, 16, 25, 36, 49, 64]
ACTIVATION = 64 * 16 * FLOAT32  # one activation of the depth sweep: batch 64 x width 16


def nbytes(shape):
    return math.prod(shape) * FLOAT32


def test_the_table_lists_what_each_operation_saves():
    lines = recorded_stdout(ID, "mlp-saves").splitlines()
    assert lines[0].split() == ["op", "saves", "shape", "bytes", "storage"]
    rows = lines[1:1 + len(SAVES)]
    assert len(rows) == len(SAVES)
    for row, (op, name, shape, seen) in zip(rows, SAVES):
        assert row.startswith(op)
        fields = row[len(op):].split(maxsplit=1)
        assert fields[0] == name
        assert re.search(re.escape(str(shape)) + rf"\s+{nbytes(shape)}\s+" + ("already held" if seen else "new") + "$",
                         row), row


def test_totals_per_pack_and_per_storage():
    per_pack = sum(nbytes(shape) for *_, shape, _ in SAVES)
    per_storage = sum(nbytes(shape) for *_, shape, seen in SAVES if not seen)
    assert (per_pack, per_storage) == (3040, 2016)  # the numbers the markdown quotes
    lines = recorded_stdout(ID, "mlp-saves").splitlines()
    assert lines[-2] == f"{len(SAVES)} packs, {per_pack} bytes counted pack by pack;"
    assert lines[-1] == f"{sum(not seen for *_, seen in SAVES)} storages, {per_storage} bytes held by the graph"
    # The markdown: the weights' 352 bytes (W2ᵀ and W4ᵀ) are the parameters themselves.
    assert nbytes((8, 8)) + nbytes((8, 3)) == 352
    markdown = solution_cells(ID)["mlp-saves-read"].source
    assert "3040 bytes" in markdown and "2016 bytes in 7 storages" in markdown and "352 bytes" in markdown


def test_nothing_is_saved_without_a_graph():
    assert recorded_stdout(ID, "nograd").splitlines() == [
        f"under torch.enable_grad(): {len(SAVES)} tensors saved, loss.requires_grad = True",
        "under torch.no_grad(): 0 tensors saved, loss.requires_grad = False",
        "under torch.inference_mode(): 0 tensors saved, loss.requires_grad = False"]


def test_checkpoint_replaces_the_middle_saves_by_its_input():
    plain = [shape for *_, shape, _ in SAVES]
    # ReLU, Linear 2 and Tanh (packs 1 to 4) give way to one pack: middle's input a0, the 16 x 8 output of Linear 0.
    checkpointed = plain[:1] + [(BATCH, 8)] + plain[5:]
    lines = recorded_stdout(ID, "checkpoint-one").splitlines()
    assert lines[0] == f"without checkpoint, saved: {plain}"
    assert lines[1] == f"with checkpoint, saved:    {checkpointed}"
    assert lines[2:] == ["calls of middle in the forward pass: 1", "calls of middle after backward:      2",
                         "same gradients, bit for bit: True"]


def kept_and_peak(depth, size):
    """Activations alive after the forward pass and at the peak, checkpointing runs of ``size`` layers (0: none).

    A layer h -> tanh(h) W + b makes two activations, t = tanh(h) (saved) and its output (saved only as a segment's
    input). Without checkpoint the forward pass leaves the depth t's and the output; while the last layer runs, the
    previous output is still in hand. With m segments the forward pass leaves the m - 1 inputs of segments 2..m and the
    output; backward recomputes the last segment (L layers) first and holds its L t's, plus, for L >= 2, the output
    of its layer before last, in hand while the last layer runs (recomputation stops at the last saved tensor, W's
    transpose, before the last layer's own output is kept).
    """
    if size == 0:
        return depth + 1, depth + 1 + (depth >= 2)
    segments = math.ceil(depth / size)
    last = depth - (segments - 1) * size
    return segments, segments + last + (last >= 2)


def test_depth_sweep_counts():
    sizes = {"no checkpoint": lambda n: 0, "checkpoint every layer": lambda n: 1,
             "segments of √depth layers": math.isqrt, "one segment": lambda n: n}
    lines = recorded_stdout(ID, "depth-sweep").splitlines()
    assert lines[0] == f"one activation = {ACTIVATION} bytes; counts below in activations, then layer calls"
    assert ACTIVATION == 4096
    for index, (name, size) in enumerate(sizes.items()):
        kept, peak = zip(*(kept_and_peak(n, size(n)) for n in DEPTHS))
        calls = [n if size(n) == 0 else 2 * n for n in DEPTHS]  # a checkpointed layer runs again during backward
        after_line, peak_line, calls_line = lines[1 + 3 * index: 4 + 3 * index]
        assert after_line == f"{name:26} after forward {list(kept)}"
        assert peak_line == f"{'':26} peak          {list(peak)}"
        assert calls_line == f"{'':26} layer calls   {calls}"
    # The markdown: √n kept and a peak of 2√n + 1 with √n segments (depth > 1); 17 instead of 66 at depth 64.
    assert all(kept_and_peak(n, math.isqrt(n)) == (math.isqrt(n), 2 * math.isqrt(n) + 1) for n in DEPTHS[1:])
    assert kept_and_peak(64, 0)[1] == 66
    assert "17 activations instead of 66" in solution_cells(ID)["depth-read"].source


def test_reentrant_pitfall_loses_the_first_layers_gradient():
    assert recorded_stdout(ID, "pitfall-reentrant").splitlines() == [
        "use_reentrant=True: first layer's weight.grad is None, last layer's weight.grad is a tensor",
        "   warning: None of the inputs have requires_grad=True. Gradients will be None",
        "use_reentrant=False: first layer's weight.grad is a tensor, last layer's weight.grad is a tensor"]


def test_a_saved_view_keeps_its_whole_storage():
    assert recorded_stdout(ID, "pitfall-view").splitlines() == [
        f"numel() * element_size(): {nbytes((2, 4))} bytes",
        f"untyped_storage().nbytes(): {nbytes((1000, 4))} bytes, all of table"]


def saved_by(compute):
    """The tensors autograd saves while ``compute()`` runs, through saved-tensor hooks written here."""
    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        compute()
    return saved


def test_a_product_saves_each_factor_only_for_the_other_ones_gradient():
    a, b = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0])
    (only,) = saved_by(lambda: a * b)  # ∂/∂a = g·b needs b; nobody asks for ∂/∂b
    assert only is b
    assert len(saved_by(lambda: a * b.requires_grad_())) == 2
    table = solution_cells(ID)["concept"].source
    assert "both factors" not in table and "$b$ if $a$ requires grad, $a$ if $b$ requires grad" in table
    assert "a product both factors" not in solution_cells(ID)["summary"].source


def test_the_default_determinism_check_compares_metadata_not_values():
    runs = []

    def segment(h):  # computes other numbers the second time, with the same shapes
        runs.append(1)
        return (h * len(runs)).exp().sum()

    x = torch.tensor([0.5, -1.0], requires_grad=True)
    checkpoint(segment, x, use_reentrant=False).backward()
    # The first run's graph differentiated exp(h) (gradient e^h), but exp's saved output came from the second run: e^2h.
    assert len(runs) == 2 and torch.allclose(x.grad, torch.exp(2 * x.detach()))

    def reshaping(h):  # the second run saves a tensor of another shape
        runs.append(1)
        return (h if len(runs) % 2 else h[:1]).exp().sum()

    runs.clear()
    with pytest.raises(CheckpointError, match="different metadata"):
        checkpoint(reshaping, x, use_reentrant=False).backward()
    text = solution_cells(ID)["pitfall-last"].source
    assert "number, shape, dtype and device" in text and "not compare their values" in text


def test_checkpoint_without_use_reentrant_warns_that_it_will_raise():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint(torch.sin, torch.tensor([1.0], requires_grad=True))
    assert any("calling checkpoint without use_reentrant will raise an exception" in str(w.message) for w in caught)
    sources = [cell.source for cell in solution_cells(ID).values() if cell.cell_type == "code"]
    calls = [call for source in sources for call in re.findall(r"(?<![\w.])checkpoint\([^()]*(?:\([^()]*\)[^()]*)*\)", source)]
    assert calls and all("use_reentrant=" in call for call in calls)
    assert "will raise" in solution_cells(ID)["pitfalls"].source and "will raise" in solution_cells(ID)["summary"].source


def test_the_transient_product_is_named_and_activations_are_computed_twice():
    assert "`LiveActivations` does not count it" in solution_cells(ID)["checkpoint-one-read"].source
    concept = solution_cells(ID)["concept"].source
    assert "exist twice for a short time" not in concept and "computed twice" in concept
