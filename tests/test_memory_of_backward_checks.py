"""13_memory_of_backward's checks, outside a kernel: what the kernel observes, and what the judge makes of sent values."""

import math

import torch
from torch.utils.checkpoint import checkpoint

from autograd_course.cases import verdict
from autograd_course.exercises.memory_of_backward import check_saved_bytes, check_stack


def run(segment, h):
    for layer in segment:
        h = layer(h)
    return h


def segments_of(size):
    """An answer that checkpoints runs of size(n) layers."""
    def checkpointed(layers, h):
        for start in range(0, len(layers), size(len(layers))):
            h = checkpoint(run, layers[start:start + size(len(layers))], h, use_reentrant=False)
        return h
    return checkpointed


def test_the_stack_is_observed_and_judged_outside_a_kernel():
    honest = check_stack.observe(segments_of(lambda n: math.ceil(math.sqrt(n))), 30, True)
    assert verdict(check_stack, honest, (30, True), {}) is None
    every_layer = check_stack.observe(segments_of(lambda n: 1), 30, True)
    assert "checkpointing every layer" in verdict(check_stack, every_layer, (30, True), {})


def test_a_peak_the_kernel_could_forge_earns_nothing_with_wrong_gradients():
    seen = check_stack.observe(segments_of(lambda n: math.ceil(math.sqrt(n))), 9, False)
    forged = {**seen, "layer 0's weight": seen["layer 0's weight"] * 2}
    assert "gradient of layer 0's weight" in verdict(check_stack, forged, (9, False), {})
    assert "the grader could not judge" in verdict(check_stack, {"output": seen["output"]}, (9, False), {})


def test_saved_bytes_are_judged_against_closed_forms():
    once = {"forward calls": 1}
    assert verdict(check_saved_bytes, {"got": 40, **once}, ("w[:3] * w[5:8]",), {}) is None
    assert "two tensors but one storage" in verdict(check_saved_bytes, {"got": 80, **once}, ("w[:3] * w[5:8]",), {})
    assert "under no_grad nothing is saved" in verdict(check_saved_bytes, {"got": 176, **once}, ("MLP under no_grad",),
                                                       {})


def test_saved_bytes_calls_forward_once_even_where_the_answer_is_zero():
    def zero_without_grad(forward):  # right for no_grad by not running forward at all
        if not torch.is_grad_enabled():
            return 0
        forward()
        forward()
        return 0

    for name, calls in (("MLP under no_grad", 0), ("nothing requires grad", 2)):
        seen = check_saved_bytes.observe(zero_without_grad, name)
        assert seen == {"got": 0, "forward calls": calls}
        assert f"the exercise's rule is to call forward() once, but your code called it {calls} times" in verdict(
            check_saved_bytes, seen, (name,), {})
