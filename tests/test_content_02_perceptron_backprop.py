"""02_perceptron_backprop: every recorded number against closed forms computed in float64."""

import math
import re

import numpy as np
import torch

from autograd_course.numeric import central_difference
from recorded import assert_recorded_tensor, parse_tensor, recorded_stdout, recorded_value, solution_cells

ID = "02_perceptron_backprop"
X = float(torch.tensor(6.7))  # the float32 value the notebook's x holds
Y = 0.0
LEARNING_RATE = 0.05


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


P = sigmoid(1.0 * X + 0.0)
CROSS_ENTROPY = -(Y * math.log(P) + (1 - Y) * math.log(1 - P))
DL_DW, DL_DB = (P - Y) * X, P - Y  # closed form of the correct loss's gradients


def numbers(line: str) -> list[float]:
    return [float(token) for token in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", line)]


def test_prediction_of_the_lecture_neuron():
    assert_recorded_tensor(ID, "example-neuron-forward", P)


def test_lecture_loss_is_the_negative_cross_entropy():
    assert recorded_value(ID, "example-seed-loss").endswith("grad_fn=<AddBackward0>)")
    assert_recorded_tensor(ID, "example-seed-loss", math.log(1 - P))
    assert_recorded_tensor(ID, "example-seed-loss", -CROSS_ENTROPY)
    assert parse_tensor(recorded_value(ID, "example-seed-loss")).item() < 0


def lecture_loss_of(w: float, b: float) -> float:
    p = sigmoid(w * X + b)
    return -(Y * math.log(p)) + (1 - Y) * math.log(1 - p)


def correct_loss_of(w: float, b: float) -> float:
    p = sigmoid(w * X + b)
    return -(Y * math.log(p) + (1 - Y) * math.log(1 - p))


def test_lecture_gradients_are_those_of_its_wrong_loss():
    w_grad, b_grad = parse_tensor(recorded_value(ID, "example-seed-grads"))
    # finite differences of the lecture's own formula, in float64
    assert abs(w_grad.item() - central_difference(lambda w: lecture_loss_of(float(w), 0.0), 1.0).item()) < 5e-5
    assert abs(b_grad.item() - central_difference(lambda b: lecture_loss_of(1.0, float(b)), 0.0).item()) < 5e-5
    assert recorded_value(ID, "example-seed-grads") == "(tensor(-6.6918), tensor(-0.9988))"


def test_side_by_side_table():
    lines = recorded_stdout(ID, "example-fixed-loss").splitlines()
    assert lines[0].split() == ["loss", "dL/dw", "dL/db"]
    assert lines[1].startswith("lecture (bug)") and lines[2].startswith("fixed")
    lecture, fixed = numbers(lines[1]), numbers(lines[2])
    assert np.allclose(lecture, [-CROSS_ENTROPY, -DL_DW, -DL_DB], rtol=0, atol=5e-5)
    assert np.allclose(fixed, [CROSS_ENTROPY, DL_DW, DL_DB], rtol=0, atol=5e-5)
    assert recorded_value(ID, "example-fixed-loss") == "(tensor(6.6918), tensor(0.9988))"
    # the closed form agrees with a finite difference of the correct loss
    assert abs(central_difference(lambda w: correct_loss_of(float(w), 0.0), 1.0).item() - DL_DW) < 1e-6


def test_torch_loss_agrees():
    out = recorded_stdout(ID, "example-torch-bce").splitlines()
    loss = parse_tensor(out[0].removeprefix("torch loss: "))
    assert abs(loss.item() - CROSS_ENTROPY) < 5e-5
    assert out[1:] == ["same loss as the fixed formula: True", "same gradients: True True"]
    assert recorded_value(ID, "example-torch-bce") == "(tensor(6.6918), tensor(0.9988))"


def test_chain_rule_factors():
    factors, by_hand, autograd = recorded_stdout(ID, "example-chain-by-hand").splitlines()
    dL_dp, dp_dz, dz_dw = numbers(factors)
    assert abs(dL_dp - (P - Y) / (P * (1 - P))) <= 0.05  # printed to 0.1
    assert f"{dp_dz:.3e}" == f"{P * (1 - P):.3e}"
    assert abs(dz_dw - X) < 0.05 and factors.endswith("dz/db = 1")
    for line in (by_hand, autograd):
        w_part, b_part = re.findall(r"tensor\([^)]*\)", line)
        assert abs(parse_tensor(w_part).item() - DL_DW) < 5e-5
        assert abs(parse_tensor(b_part).item() - DL_DB) < 5e-5


def test_chain_rule_float32_remark():
    """The markdown's 813.36 (float32) and 813.41 (exact) for dL/dp = 1/(1 - p)."""
    p32 = float(np.float32(1) / (np.float32(1) + np.exp(np.float32(-X))))
    assert f"{1 / (1 - p32):.2f}" == "813.36"
    assert f"{1 / (1 - P):.2f}" == "813.41"
    assert "$813.36$" in solution_cells(ID)["example-chain-float32"].source
    assert "$813.41$" in solution_cells(ID)["example-chain-float32"].source


def descend(gradient_of_z, steps: int = 3) -> list[tuple[float, float, float]]:
    """Gradient descent in float64; gradient_of_z(p) is the loss's dL/dz, so dL/dw = dL/dz·x, dL/db = dL/dz."""
    w, b, path = 1.0, 0.0, []
    for _ in range(steps + 1):
        p = sigmoid(w * X + b)
        path.append((w, b, p))
        dL_dz = gradient_of_z(p)
        w, b = w - LEARNING_RATE * dL_dz * X, b - LEARNING_RATE * dL_dz
    return path


def test_gradient_descent_table():
    lines = recorded_stdout(ID, "example-descent").splitlines()
    rows = [numbers(line) for line in lines[2:]]
    # lecture's loss for y = 0 is log(1 - p): dL/dz = -p. Correct loss: dL/dz = p - y.
    seed = descend(lambda p: -p)
    fixed = descend(lambda p: p - Y)
    assert len(rows) == 4
    for row, seed_state, fixed_state in zip(rows, seed, fixed):
        # six printed decimals; float32 arithmetic adds a few 1e-7
        assert np.allclose(row, [*seed_state, *fixed_state], rtol=0, atol=1e-6), (row, seed_state, fixed_state)
    assert rows[-1][2] > rows[0][2] > rows[-1][5]  # lecture's p rises, the correct p falls


def test_swapped_arguments_give_100_p():
    # input 0 (the label), target p: -(p·max(log 0, -100) + (1 - p)·log 1) = 100 p
    assert_recorded_tensor(ID, "pitfall-argument-order", 100 * P)


def test_clamp_upper_bound_is_one_in_float32():
    assert float(np.float32(1 - 1e-8)) == 1.0
    assert recorded_stdout(ID, "pitfall-clamp-bound") == (
        "1 - 1e-8 in float32 equals 1: True\n"
        f"gap between 1 and the float32 just below it: {2.0**-24!r}\n")


def test_sigmoid_saturation_point_in_the_markdown():
    # 1 + e^{-z} rounds to 1 in float32 once e^{-z} <= 2^-24
    assert f"{24 * math.log(2):.1f}" == "16.6"
    assert "$z = 16.6$" in solution_cells(ID)["pitfall-clamp-next"].source


def test_dot_of_unsqueezed_scalars():
    text = recorded_value(ID, "pitfall-dot")
    assert text == "(tensor([6.7000], grad_fn=<AddBackward0>),\n tensor(6.7000, grad_fn=<AddBackward0>))"


def test_neither_loss_has_a_minimum_the_correct_one_is_bounded_below():
    """With b = 0 and y = 0 the correct loss is softplus(6.7w) > 0, falling toward 0 as w decreases, never reaching it;
    the lecture's loss is its negative, unbounded below as w grows."""
    weights = [2.0, 1.0, 0.0, -1.0, -2.0, -5.0]
    correct = [correct_loss_of(w, 0.0) for w in weights]
    assert all(later < earlier for earlier, later in zip(correct, correct[1:]))  # still falling: no minimum
    assert all(loss > 0 for loss in correct) and correct[-1] < 1e-14  # bounded below by 0
    assert all(math.isclose(lecture_loss_of(w, 0.0), -loss) for w, loss in zip(weights, correct))
    assert lecture_loss_of(5.0, 0.0) < -33  # log(1 - p) ≈ -6.7 w: falls without bound as w grows
    reading = solution_cells(ID)["example-descent-reading"].source
    assert "**bounded below**" in reading and "**unbounded below**" in reading and "no minimum at all" not in reading


def test_float32_spacings_carry_the_course_symbols():
    """2⁻²⁴ is u₃₂ (the gap just below 1), 2⁻²³ is ε₃₂ (the gap just above 1)."""
    assert 2.0**-24 == 1 - float(np.nextafter(np.float32(1), np.float32(0)))
    assert 2.0**-23 == float(np.finfo(np.float32).eps)
    assert "u₃₂ = $2^{-24}" in solution_cells(ID)["example-chain-float32"].source
    assert "[u₃₂](../index.ipynb#Glossary) = $2^{-24}$" in solution_cells(ID)["pitfall-clamp-next"].source
    assert "[ε₃₂](../index.ipynb#Glossary) = $2^{-23}$" in solution_cells(ID)["pitfall-clamp-next"].source
