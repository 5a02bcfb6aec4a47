"""03_partial_derivatives: every recorded number against closed forms computed in float64."""

import math
import struct

import torch

from recorded import (assert_recorded_tensor, parse_tensor, printed_by_torch, recorded_error, recorded_stdout,
                      recorded_value, solution_cells)

ID = "03_partial_derivatives"
POINT = [1.0, 2.0, 3.0]
MEAN_GRADIENT = [2 * x / len(POINT) for x in POINT]  # ∂/∂x_i of mean(x²) is 2x_i/n
SUM_GRADIENT = [2 * x for x in POINT]
BOWL_GRADIENT = [2 * 1.0, 6 * 1.0]  # ∇(x² + 3y²) = (2x, 6y) at (1, 1)


def nearest_float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def test_mean_of_squares_forward_and_gradient():
    assert recorded_value(ID, "example-mean-forward") == "tensor(4.6667, grad_fn=<MeanBackward0>)"
    assert_recorded_tensor(ID, "example-mean-forward", (1 + 4 + 9) / 3)
    assert recorded_stdout(ID, "example-mean-backward") == printed_by_torch(MEAN_GRADIENT) + "\n"
    assert recorded_stdout(ID, "example-mean-backward") == "tensor([0.6667, 1.3333, 2.0000])\n"
    assert_recorded_tensor(ID, "example-mean-by-hand", MEAN_GRADIENT)


def test_float32_value_of_two_thirds():
    stored = nearest_float32(2 / 3)
    assert recorded_value(ID, "example-mean-float32-value") == repr(stored)
    assert math.isclose(stored - 2 / 3, 2e-8, rel_tol=0.02)  # "about 2e-8 too large", as the notebook says


def test_partials_one_at_a_time():
    expected = "".join(f"∂y/∂x{i + 1}: others held fixed {g:.4f}, finite difference {g:.4f}\n"
                       for i, g in enumerate(MEAN_GRADIENT))
    lines = recorded_stdout(ID, "example-partials-one-at-a-time").splitlines(keepends=True)
    assert "".join(lines[:3]) == expected


def test_one_backward_pass_matches_central_difference():
    lines = recorded_stdout(ID, "example-partials-one-at-a-time").splitlines()[3:]
    assert len(lines) == 2
    assert lines[0] == "one backward pass:   " + printed_by_torch(MEAN_GRADIENT)
    assert lines[1].startswith("central_difference:  ") and lines[1].endswith(", dtype=torch.float64)")
    shown = parse_tensor(lines[1].removeprefix("central_difference:  ").replace(", dtype=torch.float64", ""))
    assert [round(v, 4) for v in shown.tolist()] == [round(v, 4) for v in MEAN_GRADIENT]


def test_bowl_gradient_at_marked_point_and_on_grid():
    assert_recorded_tensor(ID, "example-bowl-point", BOWL_GRADIENT)
    # 2x and 6y are each one correctly rounded float32 operation, as autograd's backward computes them.
    assert recorded_stdout(ID, "example-grid-gradients") == "largest |autograd − (2x, 6y)| on the grid: 0.0\n"


def test_directional_derivative_along_3_4():
    unit = (3 / 5, 4 / 5)
    exact = BOWL_GRADIENT[0] * unit[0] + BOWL_GRADIENT[1] * unit[1]
    assert recorded_stdout(ID, "example-directional") == (
        f"∇f · u = {exact:.4f}\n"
        f"d/dt f(p + t·u) at t = 0, finite difference: {exact:.4f}\n")


def test_steepest_ascent_level_set_and_descent():
    steepest = math.hypot(*BOWL_GRADIENT)
    expected = (f"{'along ∇f (steepest ascent)':>30}: {steepest:+.4f}\n"
                f"{'along the level set':>30}: {0.0:+.4f}\n"
                f"{'against ∇f (steepest descent)':>30}: {-steepest:+.4f}\n")
    assert recorded_stdout(ID, "example-steepest") == expected
    assert f"{steepest:.4f}" == "6.3246"


def test_backward_needs_a_scalar():
    assert recorded_error(ID, "pitfall-scalar-error") == (
        "RuntimeError: grad can be implicitly created only for scalar outputs")
    assert_recorded_tensor(ID, "pitfall-scalar-fixed", SUM_GRADIENT)


def test_mean_and_sum_differ_by_n():
    assert recorded_stdout(ID, "pitfall-mean-vs-sum-compare") == (
        f" sum: {printed_by_torch(SUM_GRADIENT)}\n"
        f"mean: {printed_by_torch(MEAN_GRADIENT)}\n")


def test_integer_tensors_cannot_require_grad():
    assert recorded_error(ID, "pitfall-integer-error") == (
        "RuntimeError: Only Tensors of floating point and complex dtype can require gradients")
    assert recorded_value(ID, "pitfall-integer-fixed") == "tensor([1., 2., 3.], requires_grad=True)"


def one_step(optimizer_class, reduction, learning_rate=0.1):
    """How far one optimizer step moves w for the batch loss reduction((w·x)²) over 64 examples."""
    torch.manual_seed(0)
    examples = torch.randn(64)
    w = torch.tensor(1.0, requires_grad=True)
    optimizer = optimizer_class([w], lr=learning_rate)
    reduction((w * examples) ** 2).backward()
    optimizer.step()
    return abs(1.0 - w.item())


def test_64_times_off_holds_for_sgd_not_for_adam():
    sgd_ratio = one_step(torch.optim.SGD, torch.sum) / one_step(torch.optim.SGD, torch.mean)
    adam_ratio = one_step(torch.optim.Adam, torch.sum) / one_step(torch.optim.Adam, torch.mean)
    assert math.isclose(sgd_ratio, 64, rel_tol=1e-5)
    assert math.isclose(adam_ratio, 1, rel_tol=1e-5)  # Adam's step divides by the gradient's own size
    prose = solution_cells(ID)["pitfall-mean-vs-sum"].source
    assert "with plain gradient descent (SGD)" in prose and "Adam" in prose


def test_exercise_3_excludes_the_zero_direction():
    """Normalising the zero vector divides 0 by 0: the directional derivative is undefined, so the prompt rules it out."""
    zero = torch.zeros(2)
    assert torch.isnan(zero / zero.norm()).all()
    assert "never the zero vector" in solution_cells(ID)["ex3_prompt"].source


def test_round_off_term_names_the_float64_epsilon():
    assert 2.0**-52 == torch.finfo(torch.float64).eps
    assert "\\varepsilon_{64}" in solution_cells(ID)["example-partials-intro"].source
