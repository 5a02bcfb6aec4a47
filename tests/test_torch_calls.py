"""NamedTorchCalls counts the torch functions of a name that run, however the caller reached them."""

import torch

from autograd_course.torch_calls import NamedTorchCalls


def test_it_counts_torchs_backward_reached_by_any_name():
    saved_grad = torch.autograd.grad
    x = torch.tensor(2.0, requires_grad=True)
    with NamedTorchCalls(lambda name: name in ("backward", "grad")) as calls:
        y = x * x
        saved_grad(y, x, retain_graph=True)
        y.backward(retain_graph=True)
        torch.autograd.backward(y)
    assert calls.count == 3
    assert x.grad.item() == 8.0  # the functions it counted still ran


def test_it_counts_nothing_for_other_functions_and_stops_at_the_end_of_the_block():
    x = torch.tensor(2.0, requires_grad=True)
    with NamedTorchCalls(lambda name: name == "backward") as calls:
        (x * x + torch.sin(x)).detach()
    (x * x).backward()
    assert calls.count == 0
