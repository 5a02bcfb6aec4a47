"""10_custom_autograd_function's checks, outside a kernel: what the probe sees, and what the judge makes of sent values."""

import nbformat
import torch

from autograd_course.cases import verdict
from autograd_course.exercises.custom_autograd_function import (check_scaled_tanh, check_softplus,
                                                                 check_softplus_gradcheck, probe)
from autograd_course.grading.test_calls import cases_of
from autograd_course.values import decode, encode
from conftest import COURSE
from notebook_cells import grade_cells

X, SCALE, UPSTREAM = [-1.5, 0.2, 2.0], 2.5, [1.0, -2.0, 0.5]


class KeptAsAttribute(torch.autograd.Function):
    """A right value and gradient, but the tensor kept as ctx.x and the slope asked of autograd."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.x, ctx.scale = x, scale
        return scale * torch.tanh(x)

    @staticmethod
    def backward(ctx, grad_output):
        with torch.enable_grad():
            leaf = ctx.x.detach().requires_grad_()
            (slope,) = torch.autograd.grad(torch.tanh(leaf).sum(), leaf)
        return grad_output * ctx.scale * slope, None


def test_the_probe_sees_attributes_saved_tensors_and_autograd_calls():
    seen = probe(KeptAsAttribute, (torch.tensor(X, requires_grad=True), SCALE), torch.tensor(UPSTREAM))
    assert (seen["node"], seen["saved"], seen["tensor attributes"]) == ("KeptAsAttributeBackward", 0, ["x"])
    assert (seen["backward passes"], seen["calls"]) == (1, "called torch.autograd.grad 1 time")
    assert seen["softplus calls"] == 0


def right_scaled_tanh_values(**changes) -> dict:
    x, upstream = torch.tensor(X, dtype=torch.float64), torch.tensor(UPSTREAM, dtype=torch.float64)
    slope = upstream * SCALE * (1 - torch.tanh(x) ** 2)
    return {"value": SCALE * torch.tanh(x), "node": "ScaledTanhBackward", "backward": (slope, None), "saved": 1,
            "tensor attributes": [], "backward passes": 0, "calls": "called no backward pass",
            "softplus calls": 0, **changes}


def test_right_values_pass_and_values_the_kernel_could_forge_earn_nothing():
    inputs = (X, SCALE, "float64", UPSTREAM)
    assert verdict(check_scaled_tanh, right_scaled_tanh_values(), inputs, {}) is None
    # A forged node name and clean rules do not make a missing grad_output right: the judge computes the gradient.
    local = (SCALE * (1 - torch.tanh(torch.tensor(X, dtype=torch.float64)) ** 2), None)
    message = verdict(check_scaled_tanh, right_scaled_tanh_values(backward=local), inputs, {})
    assert "backward's gradient for x" in message and "multiply by grad_output" in message
    message = verdict(check_scaled_tanh, right_scaled_tanh_values(**{"tensor attributes": ["x"]}), inputs, {})
    assert "kept ctx.x as an attribute" in message


def test_a_passed_gradcheck_sent_without_the_values_earns_no_point():
    """gradcheck runs in the kernel, so its verdict is only a further condition: the value cases judge the values."""
    assert verdict(check_softplus_gradcheck, {"verdict": "passed"}, ([-3.0, 0.0, 2.0],), {}) is None
    x = [-100.0, -1.0, 0.0, 1.0, 89.0, 100.0]
    naive = torch.log(1 + torch.exp(torch.tensor(x)))
    seen = {**right_scaled_tanh_values(node="StableSoftplusBackward"), "value": naive,
            "backward": (torch.sigmoid(torch.tensor(x)),)}
    message = verdict(check_softplus, seen, (x, "float32", [1.0] * 6), {})
    assert "exp(x) overflows to inf above 88.72" in message


def test_every_case_of_the_notebook_has_inputs_that_survive_plain_data():
    notebook = nbformat.read(COURSE.source_notebook("10_custom_autograd_function"), as_version=4)
    cases = [case for cell in grade_cells(notebook) for case in cases_of(cell.source)]
    assert len(cases) == 24 and sum(case.hidden for case in cases) == 17
    for case in cases:
        assert tuple(decode(encode(value)) for value in case.inputs) == case.inputs
