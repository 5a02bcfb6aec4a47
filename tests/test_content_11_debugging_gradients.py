"""11_debugging_gradients: every recorded number against float64 closed forms, IEEE 754 rules and hand backprop.

Gradients are derived by hand and evaluated with math/numpy in float64; autograd is never the reference.
The vanishing-gradient weights are the notebook's data (its own seeded generator); the backward pass through
them is written out in numpy.
"""

import math
import re

import numpy as np
import torch

from recorded import assert_recorded_tensor, assert_tensor_text, recorded_error, recorded_stdout, solution_cells

ID = "11_debugging_gradients"
X = float(np.float32(5.47))  # the float32 leaf of the lecture's chain, exactly
SQRT_RELU_POINTS = (-1.0, 0.0, 4.0)


def lecture_gradient(x, y_seen_by_sin):
    """d/dx exp(sin(x^2)) when SinBackward0 evaluates cos at y_seen_by_sin: exp(sin(x^2)) cos(y) 2x."""
    return math.exp(math.sin(x * x)) * math.cos(y_seen_by_sin) * 2 * x


def sqrt_relu_naive_gradient(x):
    """The naive where's backward, as IEEE 754 evaluates it: upstream (1 if picked else 0) / (2 sqrt(x))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(np.float64(x))  # nan for x < 0
        return np.float64(1.0 if x > 0 else 0.0) / (2 * root)


def test_version_counter_counts_inplace_writes():
    assert recorded_stdout(ID, "inplace-version") == (
        "y._version after z = sin(y): 0\n"
        "y._version after y += 1:     1\n")


def test_inplace_error_names_the_scalar_the_add_and_the_versions():
    # y is a float32 0-dim tensor, saved by SinBackward0 at version 0, written once by the in-place add.
    error = recorded_error(ID, "inplace-error")
    assert error.startswith(
        "RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[torch.FloatTensor []], which is output 0 of Add, is at version 1; expected version 0 instead. Hint:")
    assert recorded_stdout(ID, "inplace-anomaly") == (
        f"{error.split(' Hint:')[0]}\n"
        "Error detected in SinBackward0.\n"
        "forward line: z = torch.sin(y)\n")


def test_what_each_node_saves_decides_which_write_breaks_it():
    # From the derivatives: exp' = exp (output), sin' = cos(input), sigmoid' = s(1 - s) and tanh' = 1 - t^2 (output),
    # relu' = [output > 0] (output), d(y*y) needs both inputs, d(y + 1) needs nothing.
    saves = {"exp(y)": ("ExpBackward0", "output"), "sin(y)": ("SinBackward0", "input"),
             "sigmoid(y)": ("SigmoidBackward0", "output"), "tanh(y)": ("TanhBackward0", "output"),
             "relu(y)": ("ReluBackward0", "output"),
             "y * y": ("MulBackward0", "input"), "y + 1": ("AddBackward0", "no tensor")}
    expected = f"{'operation':11}{'node':18}{'saves':15}{'y.mul_(3) breaks':18}out.mul_(3) breaks\n"
    for name, (node, saved) in saves.items():
        expected += f"{name:11}{node:18}{saved:15}{str(saved == 'input'):18}{saved == 'output'}\n"
    assert recorded_stdout(ID, "inplace-table") == expected


def test_out_of_place_fix_gives_the_lecture_gradient():
    assert_recorded_tensor(ID, "inplace-fix", lecture_gradient(X, X * X))


def test_where_trap_values_and_nan_gradients():
    lines = recorded_stdout(ID, "where-trap").splitlines()
    assert_tensor_text(lines[0].removeprefix("value:  "), [max(x, 0) ** 0.5 for x in SQRT_RELU_POINTS])
    expected_grad = [sqrt_relu_naive_gradient(x) for x in SQRT_RELU_POINTS]
    assert np.isnan(expected_grad[:2]).all() and expected_grad[2] == 0.25
    assert_tensor_text(lines[1].removeprefix("x.grad: "), expected_grad)


def test_hook_shows_the_zeros_the_where_sends():
    with np.errstate(invalid="ignore"):
        roots = np.sqrt(np.array(SQRT_RELU_POINTS))
    lines = recorded_stdout(ID, "where-hooks").splitlines()
    assert_tensor_text(lines[0].removeprefix("gradient arriving at sqrt(x): "), [float(x > 0) for x in SQRT_RELU_POINTS])
    assert_tensor_text(lines[1].removeprefix("sqrt(x) in the forward pass:  "), roots)
    assert_tensor_text(lines[2].removeprefix("x.grad: "), [sqrt_relu_naive_gradient(x) for x in SQRT_RELU_POINTS])


def test_anomaly_mode_names_sqrt_backward():
    assert recorded_stdout(ID, "where-anomaly") == (
        "RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.\n"
        "Error detected in SqrtBackward0.\n"
        "forward line: return torch.where(x > 0, torch.sqrt(x), 0.0)\n")


def test_double_where_gives_the_true_gradient():
    lines = recorded_stdout(ID, "where-fix").splitlines()
    assert_tensor_text(lines[0].removeprefix("value:  "), [max(x, 0) ** 0.5 for x in SQRT_RELU_POINTS])
    assert_tensor_text(lines[1].removeprefix("x.grad: "), [1 / (2 * math.sqrt(x)) if x > 0 else 0.0 for x in SQRT_RELU_POINTS])


def hand_backprop(activation):
    """||dL/dW_k|| for L = sum(h_20), h_k = phi(h_{k-1} W_k), in float64 numpy, backward written out;
    also every layer's pre-activations z_k and slopes phi'(z_k)."""
    depth, width, batch = 20, 64, 32
    generator = torch.Generator().manual_seed(0)
    weights = [(torch.randn(width, width, generator=generator) * math.sqrt(2 / width)).double().numpy()
               for _ in range(depth)]
    inputs = torch.randn(batch, width, generator=generator).double().numpy()
    phi, phi_slope = {
        "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
        "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(np.float64)),
    }[activation]
    hidden, pre_activations = [inputs], []
    for weight in weights:
        pre_activations.append(hidden[-1] @ weight)
        hidden.append(phi(pre_activations[-1]))
    grad_hidden = np.ones_like(hidden[-1])
    norms = [0.0] * depth
    for k in reversed(range(depth)):
        grad_pre = grad_hidden * phi_slope(pre_activations[k])
        norms[k] = np.linalg.norm(hidden[k].T @ grad_pre)
        grad_hidden = grad_pre @ weights[k].T
    pre_activations = np.stack(pre_activations)
    return np.array(norms), pre_activations, phi_slope(pre_activations)


def assert_scientific(printed, exact):
    """A number printed with .3e equals the exact value to its last printed digit."""
    mantissa_digit = 10.0 ** (math.floor(math.log10(abs(exact))) - 3)
    assert abs(float(printed) - exact) <= 0.51 * mantissa_digit, f"printed {printed}, float64 backprop gives {exact:.5e}"


def test_vanishing_gradient_norms_match_hand_backprop():
    lines = recorded_stdout(ID, "vanishing-norms").splitlines()
    pattern = re.compile(r"^(\w+) +\|dL/dW_k\| at k = 1, 5, 10, 15, 20: (.+)   factor per layer (\d\.\d{3})$")
    assert [pattern.match(line).group(1) for line in lines] == ["sigmoid", "relu"]
    norms, pre_activations, slopes = {}, {}, {}
    for line in lines:
        name, shown, factor = pattern.match(line).groups()
        norms[name], pre_activations[name], slopes[name] = hand_backprop(name)
        for printed, k in zip(shown.split(", "), (1, 5, 10, 15, 20), strict=True):
            assert_scientific(printed, norms[name][k - 1])
        assert factor == f"{(norms[name][0] / norms[name][-1]) ** (1 / 19):.3f}"
    # The prose: sigmoid on average below the typical sqrt(2)/4 and ten orders of magnitude; ReLU between 800 and 3300.
    assert (norms["sigmoid"][0] / norms["sigmoid"][-1]) ** (1 / 19) < math.sqrt(2) / 4
    assert 1e10 <= norms["sigmoid"][-1] / norms["sigmoid"][0] < 1e11
    assert f"{norms['sigmoid'][0] / norms['sigmoid'][-1]:.0e}" == "4e-11"  # the summary
    # "standard deviation of about 0.8", "the root mean square of sigma'(z) over all layers is 0.22".
    assert f"{pre_activations['sigmoid'].std():.1f}" == "0.8"
    assert f"{np.sqrt((slopes['sigmoid'] ** 2).mean()):.2f}" == "0.22"
    assert 750 < norms["relu"].min() and norms["relu"].max() < 3350 and norms["relu"].max() / norms["relu"].min() < 5
    assert f"{(math.sqrt(2) / 4) ** 19:.0e}" == "3e-09"  # "0.354^19 ≈ 3·10^-9" in section 2
    linear_axis_top = max(norms["relu"].max(), norms["sigmoid"].max())
    assert (norms["sigmoid"][:-2] < 0.01 * linear_axis_top).all()  # "every sigmoid point but the last two ... within 1%"


def test_naive_xlogx_gradient_is_nan_at_zero_and_negatives():
    lines = recorded_stdout(ID, "ex1_naive").splitlines()
    assert_tensor_text(lines[0].removeprefix("value:  "), [0.0, 0.0, 0.5 * math.log(0.5)])
    # At 0: d(x)/dx * log(0) * 0 = 0 * -inf = nan; at -2: log(-2) is nan already.
    with np.errstate(divide="ignore", invalid="ignore"):
        at_zero = np.float64(0) * np.log(np.float64(0))
    assert np.isnan(at_zero)
    assert_tensor_text(lines[1].removeprefix("x.grad: "), [math.nan, math.nan, math.log(0.5) + 1])


def test_data_write_is_invisible_and_gives_a_wrong_gradient():
    lines = recorded_stdout(ID, "pitfall-data").splitlines()
    assert lines[0] == "y._version after y.data.add_(1):     0"
    assert lines[2] == "y._version after y.detach().add_(1): 1"
    # SinBackward0 reads the shifted y: float32(float32(x^2) + 1).
    shifted = float(np.float32(np.float32(X * X) + np.float32(1)))
    text, note = lines[1].removeprefix("x.grad: ").split("  ")
    assert_tensor_text(text, lecture_gradient(X, shifted))
    assert note == f"(the right value is {lecture_gradient(X, X * X):.4f})"


def test_clamp_lets_the_infinite_slope_through():
    # clamp passes the gradient at its boundary x = 0, where sqrt's slope 1/(2 sqrt 0) is +inf; below it the gradient is 0.
    assert_recorded_tensor(ID, "pitfall-clamp-demo", [0.0, math.inf, 0.25])


def test_residual_block_error_counts_two_writes_into_tanh_output():
    # tanh(x W) of a 2x3 input is 2x3; TanhBackward0 saved that output at version 0; h += x and relu_ wrote it twice.
    assert recorded_error(ID, "ex3_broken").startswith(
        "RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[torch.FloatTensor [2, 3]], which is output 0 of Tanh, is at version 2; expected version 0 instead. Hint:")


def test_sqrt2_over_4_is_a_typical_factor_not_a_bound():
    norms, _, _ = hand_backprop("sigmoid")
    one_layer = norms[:-1] / norms[1:]
    largest = int(one_layer.argmax())
    assert one_layer[largest] > math.sqrt(2) / 4  # the counter-example in the notebook's own stack
    generator = torch.Generator().manual_seed(0)
    weights = [(torch.randn(64, 64, generator=generator) * math.sqrt(2 / 64)).double() for _ in range(20)]
    singular = [torch.linalg.matrix_norm(weight, ord=2).item() for weight in weights]
    assert recorded_stdout(ID, "vanishing-bound") == (
        f"sigmoid, largest one-layer factor: {one_layer[largest]:.3f} (layer {largest + 1} from layer {largest + 2}), "
        f"sqrt(2)/4 = {math.sqrt(2) / 4:.3f}\n"
        f"layers with a factor above sqrt(2)/4: {int((one_layer > math.sqrt(2) / 4).sum())} of 19\n"
        f"largest singular value of W_k: {min(singular):.2f} to {max(singular):.2f}, 2 sqrt(2) = {2 * math.sqrt(2):.2f}\n")
    assert max(singular) / 4 > 0.7 > math.sqrt(2) / 4  # "the only guaranteed bound per layer ... about 0.7"
    # E|W^T v|^2 = 2|v|^2 for He weights: the sqrt(2) is a root mean square over weights, here over 4000 draws.
    v = torch.randn(64, generator=generator, dtype=torch.float64)
    draws = torch.randn(4000, 64, 64, generator=generator, dtype=torch.float64) * math.sqrt(2 / 64)
    mean_square = (draws.transpose(1, 2) @ v).square().sum(dim=1).mean() / v.square().sum()
    assert abs(mean_square.item() - 2) < 0.05
    concept = " ".join(solution_cells(ID)["concept"].source.split())
    assert "That is a typical factor, not a bound" in concept and "at most $\\sqrt2/4" not in concept
    summary = " ".join(solution_cells(ID)["summary"].source.split())
    assert f"one layer ${one_layer[largest]:.3f}$: typical, not a bound" in summary
