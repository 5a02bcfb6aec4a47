"""15_build_your_own_autograd: every recorded number against closed forms in float64 (math, numpy) and torch's autograd.

None of the references uses the notebook's engine: the expression of 3.1 is differentiated by hand, the network of 3.4
by its backpropagation formulas in numpy, from the same seeded draws as ``make_network``.
"""

import math

import mpmath
import numpy as np
import pytest
import torch

from recorded import recorded_stdout, solution_cells

ID = "15_build_your_own_autograd"
INPUTS = np.array([[0.0, 1.0], [1.0, -1.0], [-1.5, 0.5], [2.0, 2.0]])
TARGETS = np.array([1.0, -1.0, 0.5, 0.0])


def prose(cell_id):
    return " ".join(solution_cells(ID)[cell_id].source.split())


def network_weights(n_inputs=2, n_hidden=3, seed=1):
    """The draws of make_network, in the same order: W1, b1, w2, and b2 = 0."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(size=(n_hidden, n_inputs)) / math.sqrt(n_inputs)
    b1 = 0.1 * rng.normal(size=n_hidden)
    w2 = rng.normal(size=n_hidden) / math.sqrt(n_hidden)
    return w1, b1, w2, 0.0


def loss_and_gradient():
    """The mean squared error of 3.4 and its gradient (order of parameters_of), by backpropagation written out."""
    w1, b1, w2, b2 = network_weights()
    hidden = np.tanh(INPUTS @ w1.T + b1)
    residuals = hidden @ w2 + b2 - TARGETS
    d_output = 2 * residuals / len(TARGETS)
    d_pre_activation = np.outer(d_output, w2) * (1 - hidden**2)
    gradient = np.concatenate([(d_pre_activation.T @ INPUTS).ravel(), d_pre_activation.sum(0), hidden.T @ d_output,
                               [d_output.sum()]])
    return float(np.mean(residuals**2)), gradient


def test_nodes_of_the_expression():
    x, y = 1.5, -0.5
    a, b = x * y, x * y + x
    rows = [("x", "leaf", x, "-", "-"), ("y", "leaf", y, "-", "-"), ("a", "*", a, "x, y", f"{y:.4f}, {x:.4f}"),
            ("b", "+", b, "a, x", "1.0000, 1.0000"), ("f", "tanh", math.tanh(b), "b", f"{1 - math.tanh(b) ** 2:.4f}")]
    assert recorded_stdout(ID, "graph") == "".join(
        f"{name}: {op:4}  data = {data:7.4f}   children: {children:5}  local_grads: {local}\n"
        for name, op, data, children, local in rows)
    assert f"{1 - math.tanh(b) ** 2:.4f}" == "0.5966" and "0.5966" in prose("graph-read")


def test_sum_over_paths_matches_the_chain_rule_by_hand():
    x, y = 1.5, -0.5
    slope = 1 - math.tanh(x * y + x) ** 2
    grads = {"x": slope * (1 + y), "y": slope * x, "a": slope, "b": slope, "f": 1.0}
    lines = recorded_stdout(ID, "paths").splitlines()
    assert lines[0] == "visits: 6"  # five nodes, x once per path
    assert lines[1:6] == [f"∂f/∂{name} = {value:.6f}" for name, value in grads.items()]
    assert lines[6] == f"torch: ∂f/∂x = {grads['x']:.6f}, ∂f/∂y = {grads['y']:.6f}"
    assert f"{slope * (1 + y):.4f}" == "0.2983" and "0.2983" in prose("graph-read")


def test_visits_of_repeated_squaring():
    depth = 16
    # 2**k paths reach the node k squarings below the root: 2**(d+1) - 1 visits; d(x**(2**d))/dx = 2**d at x = 1.
    visits = sum(2**k for k in range(depth + 1))
    assert visits == 2 ** (depth + 1) - 1
    assert recorded_stdout(ID, "paths-figure") == (
        f"depth {depth}: {depth + 1} nodes, {visits} visits, x.grad = {2**depth} = 2**{depth}\n")


def test_network_loss_and_gradient():
    loss, gradient = loss_and_gradient()
    lines = recorded_stdout(ID, "network").splitlines()
    assert lines[0] == f"loss:  engine {loss:.12f}   torch {loss:.12f}"
    shown = str([f"{g:.12f}" for g in gradient[9:12]])
    assert lines[1] == f"∂loss/∂w2, engine: {shown}"
    assert lines[2] == f"∂loss/∂w2, torch:  {shown}"
    assert lines[3] == "largest relative difference over the 13 gradients below 1e-14: True"


def test_first_losses_of_exercise_3_visible_case():
    # The visible test of Exercise 3 starts from this network; its first loss is the one printed in 3.4.
    loss, _ = loss_and_gradient()
    assert round(loss, 5) == 0.63495


def test_pitfall_assign():
    assert recorded_stdout(ID, "pitfall-assign") == (
        "children are the same Value: True | local_grads: (3.0, 3.0)\n"
        f"= keeps the last share: {3.0}   += adds both: {3.0 + 3.0} = d(x²)/dx = 2·3\n")


def test_pitfall_domains():
    lines = recorded_stdout(ID, "pitfall-domains").splitlines()
    try:
        math.log(-1.0)
    except ValueError as error:
        message = str(error)
    assert lines[0] == f"engine: {'Value(-1.0).log()':26} ValueError: {message}"
    assert lines[1] == f"engine: {'Value(-2.0) ** Value(3.0)':26} ValueError: {message}"  # ∂/∂y needs ln(-2)
    # (-2)**3 = -8; ∂/∂base = 3·(-2)**2 = 12; ∂/∂exponent = (-2)**3 · ln(-2), not a real number: nan in torch.
    assert lines[2] == f"torch:  log(-1) = nan;  (-2) ** 3 = {-8.0}, ∂/∂base = {12.0}, ∂/∂exponent = nan"
    assert lines[3] == "slope of relu at 0: engine 0.0, torch 0.0"


def test_pitfall_float32_difference_is_a_few_u32():
    _, gradient = loss_and_gradient()
    w1, b1, w2, _ = network_weights()
    weights = torch.tensor(np.concatenate([w1.ravel(), b1, w2, [0.0]]), dtype=torch.float32, requires_grad=True)
    hidden = torch.tanh(torch.tensor(INPUTS, dtype=torch.float32) @ weights[:6].reshape(3, 2).T + weights[6:9])
    loss = ((hidden @ weights[9:12] + weights[12] - torch.tensor(TARGETS, dtype=torch.float32)) ** 2).mean()
    loss.backward()
    relative = float(np.max(np.abs(weights.grad.double().numpy() - gradient) / np.abs(gradient)))
    printed = recorded_stdout(ID, "pitfall-float32-code")
    assert printed == f"float32 torch against the float64 engine: largest relative difference of a gradient {relative:.1e}\n"
    assert 2.0**-24 < relative < 8 * 2.0**-24  # a few u32: the rounding of float32, nothing else
    assert "u₃₂ = 2⁻²⁴ ≈ 6.0·10⁻⁸" in prose("pitfall-float32") and f"{2.0**-24:.1e}" == "6.0e-08"
    assert "u₆₄ = 2⁻⁵³ ≈ 1.1·10⁻¹⁶" in prose("pitfall-float32") and f"{2.0**-53:.1e}" == "1.1e-16"


def test_sigmoid_numbers_of_exercise_2():
    text = prose("ex2_prompt")
    largest = np.finfo(np.float64).max
    assert f"{math.log(largest):.2f}" == "709.78" and "709.78" in text
    assert math.exp(-1000) == 0.0  # below the smallest subnormal float64, 2**-1074
    sigma_minus_40 = math.exp(-40) / (1 + math.exp(-40))
    assert f"{sigma_minus_40:.1e}" == "4.2e-18" and "4.2\\cdot10^{-18}" in text
    assert 1 + math.exp(-40) == 1.0 and math.exp(-40) < 2.0**-53  # why 1 - 1/(1 + e^x) loses every digit there


def relative_error(computed, x):
    exact = 1 / (1 + mpmath.exp(-mpmath.mpf(x)))
    return float(abs((mpmath.mpf(computed) - exact) / exact))


def test_the_textbook_sigmoid_is_precise_wherever_it_can_be_evaluated():
    """Exercise 2 once said 1/(1 + e^-x) loses precision where σ is tiny; against mpmath (50 digits) it does not,
    down to its overflow edge. The form that loses every digit is 1 − σ(−x)."""
    mpmath.mp.dps = 50
    u64 = 2.0**-53
    for x in (0.5, -3.0, -40.0, -700.0, -708.0):
        assert relative_error(1 / (1 + math.exp(-x)), x) < 4 * u64, x
        assert relative_error(math.exp(x) / (1 + math.exp(x)), x) < 4 * u64, x
    assert relative_error(1 / (1 + math.exp(40.0)), -40.0) < 4 * u64  # σ(−40) ≈ 4.2e-18
    assert 1 - 1 / (1 + math.exp(-40.0)) == 0.0  # 1 − σ(40): every digit of σ(−40) cancelled
    edge = math.log(np.finfo(np.float64).max)
    assert math.isfinite(math.exp(edge * (1 - 1e-15)))
    with pytest.raises(OverflowError):
        math.exp(709.79)
    # Below the edge σ is under the smallest normal float64, so 0.0 is within that of it.
    assert float(1 / (1 + mpmath.exp(mpmath.mpf(edge)))) < np.finfo(np.float64).tiny
    text = prose("ex2_prompt")
    assert "keeps full relative precision" in text and r"1 - \sigma(-x) = 1 - 1/(1 + e^{x})" in text
    assert "2.3\\cdot10^{-308}" in text and f"{np.finfo(np.float64).tiny:.1e}" == "2.2e-308"
    assert f"{1 / (1 + math.exp(700.0)):.1e}" == "9.9e-305" and "9.9\\cdot10^{-305}" in text


def test_grad_fn_nodes_save_tensors_not_local_derivatives():
    x = torch.tensor(0.5, requires_grad=True)
    t = torch.tanh(x)
    assert t.grad_fn._saved_result is not None  # tanh saves its output, and computes g·(1 − t²) during backward
    for cell_id in ("title", "summary"):
        assert "save tensors" in prose(cell_id)
    assert "save the same information" not in prose("summary")


def test_pitfall_prose_on_rounding_and_leaves_first():
    assert "each $+$, $-$, $\\times$, $\\div$ is rounded correctly" in prose("pitfall-float32")
    assert "not correctly rounded" in prose("pitfall-float32")
    assert "every node but the root passes on 0" in prose("pitfall-order")
