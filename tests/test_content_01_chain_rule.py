"""01_chain_rule: every recorded number against closed forms computed in float64."""

import math

import torch

from recorded import assert_recorded_tensor, recorded_stdout, recorded_value

ID = "01_chain_rule"
X = float(torch.tensor(5.47))  # the float32 value the notebook's leaf holds


def test_square_gradient_is_2x():
    assert recorded_value(ID, "example-square-forward") == "tensor(9., grad_fn=<PowBackward0>)"
    assert_recorded_tensor(ID, "example-square-backward", 2 * 3.0)


def test_sin_of_square_gradient():
    exact = math.cos(X**2) * 2 * X
    assert_recorded_tensor(ID, "example-sin-autograd", exact)
    assert_recorded_tensor(ID, "example-sin-by-hand", exact)
    assert recorded_value(ID, "example-sin-autograd") == "tensor(0.8281)"


def test_exp_sin_square_gradient_and_its_factors():
    exact = math.exp(math.sin(X**2)) * math.cos(X**2) * 2 * X
    assert_recorded_tensor(ID, "example-exp-autograd", exact)
    assert_recorded_tensor(ID, "example-exp-by-hand", exact)
    assert recorded_value(ID, "example-exp-autograd") == "tensor(0.3055)"
    factors = f"dy/dx = {2 * X:.4f}, dz/dy = {math.cos(X**2):.4f}, du/dz = {math.exp(math.sin(X**2)):.4f}\n"
    assert recorded_stdout(ID, "example-exp-by-hand") == factors


def test_gradients_accumulate_then_reset():
    assert_recorded_tensor(ID, "pitfall-accumulate", 2 * (2 * 3.0))
    assert_recorded_tensor(ID, "pitfall-accumulate-fixed", 2 * 3.0)


def test_float32_value_of_5_47():
    assert recorded_value(ID, "pitfall-float32") == repr(X)
