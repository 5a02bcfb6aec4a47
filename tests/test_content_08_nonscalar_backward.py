"""08_nonscalar_backward: every recorded number against closed forms computed in float64 with numpy (and one rerun)."""

import re

import numpy as np
import torch

from recorded import (assert_recorded_tensor, assert_tensor_text, parse_tensor, recorded_error, recorded_stdout,
                      recorded_value, solution_cells)

ID = "08_nonscalar_backward"
X = np.array([1.0, 2.0, 3.0])
SCORES = np.array([2.0, 1.0, 0.1, -1.0])
T = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0])
# The float32 values the notebook's targets hold (0.05, 1.15, ... are not exact in binary).
TARGETS = np.array([-1.9, -1.2, 0.05, 1.15, 1.9, -3.2, 3.95, 5.1], dtype=np.float32).astype(np.float64)
W = np.array([1.0, 2.0])


def softmax(scores):
    exponentials = np.exp(scores - scores.max())
    return exponentials / exponentials.sum()


def per_sample_gradients():
    """g_b = 2 (x_bᵀw − y_b) x_b with x_b = (1, t_b), the closed form of the squared error's gradient."""
    features = np.stack([np.ones_like(T), T], axis=1)
    residuals = features @ W - TARGETS
    return 2 * residuals[:, None] * features


def tensors_in(line):
    return re.findall(r"tensor\(\[[^\]]*\]\)", line)


def test_vector_output_has_no_implicit_gradient():
    assert recorded_error(ID, "example-error") == "RuntimeError: grad can be implicitly created only for scalar outputs"


def test_one_third_weights_give_the_mean_gradient():
    lines = recorded_stdout(ID, "example-vjp-mean").splitlines()
    assert [line.split(":")[0] for line in lines] == ["y.backward(gradient=1/3 each)", "(x**2).mean().backward()"]
    for line in lines:
        (printed,) = tensors_in(line)
        assert_tensor_text(printed, 2 * X / 3)


def test_vector_jacobian_products_of_the_square():
    lines = recorded_stdout(ID, "example-vjp-others").splitlines()
    weights = ([1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [1.0, -1.0, 0.5])
    assert len(lines) == len(weights)
    for line, v in zip(lines, weights):
        assert line.startswith(f"v = {v}: ")
        # J = diag(2x), so vᵀJ = v · 2x; both the autograd and the by-hand tensor must show it.
        assert len(tensors_in(line)) == 2
        for printed in tensors_in(line):
            assert_tensor_text(printed, np.array(v) * 2 * X)


def test_autograd_grad_returns_a_row_and_leaves_grad_alone():
    lines = recorded_stdout(ID, "example-autograd-grad").splitlines()
    (printed,) = tensors_in(lines[0])
    assert_tensor_text(printed, [0.0, 2 * X[1], 0.0])
    assert lines[1] == "x.grad: None"


def test_softmax_jacobian_is_diag_s_minus_s_s_transposed():
    s = softmax(SCORES)
    assert_recorded_tensor(ID, "example-softmax-jacobian", np.diag(s) - np.outer(s, s))
    lines = recorded_stdout(ID, "example-softmax-check").splitlines()
    (printed,) = tensors_in(lines[0])
    assert_tensor_text(printed, s)
    assert lines[1] == "torch.func.jacrev gives the same matrix: True"
    # The notebook says the two differ by one unit in the last place of J_44 = s_4 (1 − s_4), i.e. 2^-29.
    j44 = s[3] * (1 - s[3])
    assert 2**-6 <= j44 < 2**-5 and float(np.spacing(np.float32(j44))) == 2**-29
    assert lines[2] == f"largest |autograd − (diag(s) − s sᵀ)|: {2**-29:.2e}"


def test_vmap_per_sample_gradients_match_the_closed_form():
    assert recorded_stdout(ID, "example-vmap") == "vmap gives the loop's bits: True\n"
    gradients = per_sample_gradients()
    assert_recorded_tensor(ID, "example-vmap", gradients)
    # The markdown's claim: example 5 has 2 · (3 − (−3.2)) · (1, 1).
    assert np.allclose(gradients[5], [12.4, 12.4])


def test_mean_of_per_sample_gradients_is_the_batch_gradient():
    lines = recorded_stdout(ID, "example-vmap-mean").splitlines()
    assert len(lines) == 2
    for line in lines:
        (printed,) = tensors_in(line)
        assert_tensor_text(printed, per_sample_gradients().mean(axis=0))


def test_gradient_must_have_the_output_shape():
    assert recorded_error(ID, "pitfall-shape-error") == (
        "RuntimeError: Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) "
        "and output[0] has a shape of torch.Size([2]).")


def test_gradient_of_the_softmax_sum_is_rounding_only():
    # The notebook explains: the float32 probabilities sum to 1 + 2^-23, one unit in the last place above 1,
    # so the VJP s_i (1 − Σ s) is −2^-23 s_i.
    assert float(np.spacing(np.float32(1.0))) == 2**-23
    assert recorded_stdout(ID, "pitfall-sum") == f"sum of the probabilities in float32: {1 + 2**-23}\n"
    s = softmax(SCORES)
    assert_recorded_tensor(ID, "pitfall-sum", np.zeros(4))
    recorded = parse_tensor(recorded_value(ID, "pitfall-sum")).double().numpy()
    assert np.allclose(recorded, -(2**-23) * s, rtol=1e-4, atol=0)


def tanh_unit_draws():
    """The pitfall's seeded draws, in float64 then rounded to float32: w (37,), inputs (8, 37), targets (8,)."""
    generator = torch.Generator().manual_seed(0)
    return tuple(torch.randn(*shape, generator=generator, dtype=torch.float64).float() for shape in ((37,), (8, 37), (8,)))


U32 = 2.0**-24


def summation_bound(inputs, w):
    """γ_n Σ|x_i w_i|, the error bound of a float32 sum of n products in any order (Higham, §3.1), in float64."""
    n = w.numel()
    return n * U32 / (1 - n * U32) * (np.abs(inputs.double().numpy()) @ np.abs(w.double().numpy()))


def tanh_unit_gradient_bound(inputs, w, targets):
    """A bound on |float32 gradient − exact| for every entry, whatever order the sums take: the summation bound
    carried through h(z) = 2 (tanh z − y)(1 − tanh² z) by its largest slope near z, tanh within 4 u₃₂ (relative),
    and a u₃₂ for each of the few roundings of the backward pass (generously counted)."""
    x, w64, y = inputs.double().numpy(), w.double().numpy(), targets.double().numpy()
    z, sum_error = x @ w64, summation_bound(inputs, w)
    near = z + np.linspace(-1, 1, 2001)[:, None] * sum_error
    t_near = np.tanh(near)
    slope = np.abs(2 * (1 - t_near**2) ** 2 - 4 * t_near * (t_near - y) * (1 - t_near**2)).max(0)
    t = np.tanh(z)
    slope_in_t = np.abs(2 * (1 - t**2) - 4 * t * (t - y))
    per_example = slope * sum_error + slope_in_t * 4 * U32 * np.abs(t) + 8.1 * U32 * (1 + np.abs(y))
    exact = (2 * (t - y) * (1 - t**2))[:, None] * x
    return np.abs(x) * per_example[:, None] + U32 * np.abs(exact), exact


def test_vmap_and_a_loop_stay_within_the_float32_bound_in_every_summation_order():
    """The notebook once printed the digits of |vmap − loop|, which differ from CPU to CPU (MKL's and ATen's code
    paths add the 37 terms in their own orders); now it prints what holds in every order, and this test checks
    that bound in float64, independently of torch's float64 path."""
    w, inputs, targets = tanh_unit_draws()
    bound, exact = tanh_unit_gradient_bound(inputs, w, targets)
    assert bound.max() < 2e-4  # the prose: "within 2e-4 of float64", on every CPU
    sum_error = summation_bound(inputs, w)
    assert f"{sum_error.max():.1e}" == "6.4e-05"

    def tanh_unit_error(w, x, y):
        return (torch.tanh(x @ w) - y) ** 2

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the notebook runs
    try:
        gradient_of_one = torch.func.grad(tanh_unit_error)
        by_vmap = torch.func.vmap(gradient_of_one, in_dims=(None, 0, 0))(w, inputs, targets)
        by_loop = torch.stack([gradient_of_one(w, x_b, y_b) for x_b, y_b in zip(inputs, targets)])
    finally:
        torch.set_num_threads(previous_threads)
    # Sums in orders of our own: each lies within the summation bound of the exact float64 sum.
    products = (inputs * w).numpy()
    z = inputs.double().numpy() @ w.double().numpy()
    for order in (slice(None), slice(None, None, -1)):
        in_order = np.array([np.add.accumulate(row[order], dtype=np.float32)[-1] for row in products])
        assert (np.abs(in_order - z) <= sum_error).all()
    for computed in (by_vmap, by_loop):
        assert (np.abs(computed.double().numpy() - exact) <= bound).all()
    assert torch.allclose(by_vmap, by_loop)
    left_to_right = np.array([np.add.accumulate(row, dtype=np.float32)[-1] for row in products])
    right_to_left = np.array([np.add.accumulate(row[::-1], dtype=np.float32)[-1] for row in products])
    assert recorded_stdout(ID, "pitfall-vmap-bits") == (
        f"x_b·w left to right ≠ right to left in {int((left_to_right != right_to_left).sum())} of 8 examples\n"
        "torch.allclose(by_vmap, by_loop): True\n"
        "largest |vmap − float64| < 2e-4:  True\n"
        "largest |loop − float64| < 2e-4:  True\n"
        f"largest |float64 entry|: {np.abs(exact).max():.2f}\n")
    reading = solution_cells(ID)["pitfall-vmap-bits-reading"].source
    assert "$6.4 \\times 10^{-5}$" in reading and "$2 \\times 10^{-4}$" in reading
    assert f"reach {np.abs(exact).max():.2f})" in reading
    summary = solution_cells(ID)["summary"].source
    assert "bit for bit the same as a loop" not in summary and "`torch.allclose`" in summary
