"""12_forward_mode: every recorded number against closed forms in float64 (math and numpy), and the pass counts
against the cost model: n JVPs for forward mode, m backward passes for reverse mode."""

import math
import re

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD
from torch.utils._python_dispatch import TorchDispatchMode

from autograd_course.rules import AutogradCalls
from recorded import assert_recorded_tensor, assert_tensor_text, recorded_error, recorded_stdout, solution_cells

ID = "12_forward_mode"
X = 1.5
TIMES = np.linspace(0.0, 2.0, 5)
THETA = np.array([2.0, 0.8])


def x_sin_x_squared_slope(x):
    """d/dx x·sin(x²) = sin(x²) + 2x²·cos(x²)."""
    return math.sin(x**2) + 2 * x**2 * math.cos(x**2)


def decay_jacobian():
    """Columns ∂/∂θ₀ = e^(−θ₁t) and ∂/∂θ₁ = −θ₀·t·e^(−θ₁t)."""
    decayed = np.exp(-THETA[1] * TIMES)
    return np.stack([decayed, -THETA[0] * TIMES * decayed], axis=1)


def test_trace_by_hand_is_the_closed_form():
    a = X**2
    rows = [("x", X, 1.0), ("a = x·x", a, 2 * X), ("b = sin(a)", math.sin(a), math.cos(a) * 2 * X),
            ("y = b·x", X * math.sin(a), x_sin_x_squared_slope(X))]
    assert recorded_stdout(ID, "example-trace") == "".join(
        f"{name:<10}  value {value:9.6f}   tangent {tangent:9.6f}\n" for name, value, tangent in rows)


def test_reverse_mode_and_closed_form_agree_with_the_trace():
    slope = f"{x_sin_x_squared_slope(X):.6f}"
    assert slope == "-2.048708"
    assert recorded_stdout(ID, "example-trace-check") == (
        f"reverse mode (autograd), float64: dy/dx = {slope}\n"
        f"closed form sin(x²) + 2x²·cos(x²):        {slope}\n")


def test_dual_tensor_carries_value_and_derivative():
    primal, tangent = recorded_stdout(ID, "example-dual-tensors").splitlines()
    assert primal.startswith("primal:  ") and tangent.startswith("tangent: ")
    assert_tensor_text(primal.removeprefix("primal:  "), X * math.sin(X**2))
    assert_tensor_text(tangent.removeprefix("tangent: "), x_sin_x_squared_slope(X))


def test_two_jvps_give_the_decay_jacobian():
    values, jacfwd = recorded_stdout(ID, "example-jvp").splitlines()
    assert_tensor_text(values.removeprefix("decay(θ) = "), THETA[0] * np.exp(-THETA[1] * TIMES))
    assert jacfwd == "torch.func.jacfwd gives the same matrix: True"
    assert_recorded_tensor(ID, "example-jvp", decay_jacobian())
    # The prose: column 0 falls from 1 to e^(−1.6) = 0.2019, column 1 is zero at t = 0.
    assert f"{math.exp(-1.6):.4f}" == "0.2019" and "e^{-1.6} = 0.2019" in solution_cells(ID)["example-count-intro"].source
    assert decay_jacobian()[0, 1] == 0


def test_forward_mode_takes_n_passes_and_reverse_mode_m():
    lines = recorded_stdout(ID, "example-count").splitlines()
    expected = [("decay", 2, 5), ("summaries", 5, 2)]  # (name, inputs n, outputs m) of the two functions
    assert len(lines) == len(expected)
    for line, (name, n, m) in zip(lines, expected):
        assert line == (f"{name:<9} (n = {n} inputs, m = {m} outputs): forward mode {n} JVPs + 0 backward passes, "
                        f"reverse mode 0 JVPs + {m} backward passes, same J: True")


def test_autograd_functional_jvp_is_two_backward_passes():
    # Counted again here, independently of the notebook: the double-backward trick is two calls of autograd.grad.
    with AutogradCalls() as calls:
        _, column = torch.autograd.functional.jvp(lambda t: t[0] * torch.exp(-t[1] * torch.tensor(TIMES)),
                                                  torch.tensor(THETA), torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert calls.backward_passes == 2
    assert np.allclose(column.numpy(), decay_jacobian()[:, 0])
    assert recorded_stdout(ID, "pitfall-functional") == (
        "torch.autograd.functional.jvp: 0 JVPs, 2 backward passes\n"
        "torch.func.jvp:                1 JVP, 0 backward passes\n"
        "same column 0: True\n")


def test_custom_function_without_jvp_fails_and_with_jvp_gives_3x_squared():
    assert recorded_error(ID, "pitfall-custom") == (
        "NotImplementedError: You must implement the jvp function for custom autograd.Function to use it with "
        "forward mode AD.")
    printed = recorded_stdout(ID, "pitfall-custom-fix").splitlines()[0].removeprefix("fwAD:").strip()
    primal, tangent = re.fullmatch(r"UnpackedDualTensor\(primal=(tensor\([^)]*\)), tangent=(tensor\([^)]*\))\)",
                                   printed).groups()
    assert_tensor_text(primal, 2.0**3)
    assert_tensor_text(tangent, 3 * 2.0**2)
    assert "$3x^2 = 12$ at $x = 2$" in solution_cells(ID)["pitfall-level-intro"].source


def test_tangent_is_gone_after_its_dual_level():
    inside, after = recorded_stdout(ID, "pitfall-level").splitlines()
    # sin(0) = 0 with the tangent cos(0)·1 = 1.
    assert inside == f"inside the block:  UnpackedDualTensor(primal=tensor({math.sin(0.0):.0f}.), " \
                     f"tangent=tensor({math.cos(0.0):.0f}.))"
    assert after == "after the block:   UnpackedDualTensor(primal=tensor(0.), tangent=None)"


def test_summary_repeats_the_recorded_numbers():
    summary = solution_cells(ID)["summary"].source
    assert f"${X * math.sin(X**2):.6f}$ and ${x_sin_x_squared_slope(X):.6f}$" in summary
    assert "2 against 5 for the tall `decay` and 5 against 2 for the\n  wide `summaries`" in summary


class TanhCalls(TorchDispatchMode):
    """Counts aten.tanh calls, as the notebook's own mode does, written again here."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func is torch.ops.aten.tanh.default
        return func(*args, **(kwargs or {}))


def test_jacfwd_evaluates_the_primal_once_and_a_jvp_loop_n_times():
    generator = torch.Generator().manual_seed(1)
    a, b = torch.randn(64, 32, generator=generator), torch.randn(48, 64, generator=generator)

    def two_layers(v):
        return b @ torch.tanh(a @ v)

    point = torch.randn(32, generator=generator)
    with TanhCalls() as looped:
        by_loop = torch.stack([torch.func.jvp(two_layers, (point,), (seed,))[1] for seed in torch.eye(32)], dim=1)
    with TanhCalls() as batched:
        by_jacfwd = torch.func.jacfwd(two_layers)(point)
    assert (looped.count, batched.count) == (32, 1)
    assert torch.allclose(by_loop, by_jacfwd, rtol=1e-4, atol=1e-5)
    assert recorded_stdout(ID, "pitfall-batched-count") == (
        f"{'a loop of 32 torch.func.jvp':<28} aten.tanh calls: 32\n{'torch.func.jacfwd':<28} aten.tanh calls: 1\n")
    prose = solution_cells(ID)["pitfall-batched"].source
    assert "That saves Python overhead, not arithmetic" not in prose and "evaluates $f$ itself $n$ times" in prose


def test_torch_func_jvp_needs_the_setup_context_form_of_a_custom_function():
    class CubeSavedInForward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x**3

        @staticmethod
        def jvp(ctx, x_tangent):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * x_tangent

    class CubeWithSetupContext(torch.autograd.Function):
        @staticmethod
        def forward(x):
            return x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_forward(*inputs)

        @staticmethod
        def jvp(ctx, x_tangent):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * x_tangent

    two, one = torch.tensor(2.0), torch.tensor(1.0)
    try:
        torch.func.jvp(CubeSavedInForward.apply, (two,), (one,))
        refused = ""
    except RuntimeError as error:
        refused = str(error)
    assert "it must override the setup_context staticmethod" in refused
    with fwAD.dual_level():  # the old form still serves fwAD
        assert fwAD.unpack_dual(CubeSavedInForward.apply(fwAD.make_dual(two, one))).tangent.item() == 12.0
    assert [t.item() for t in torch.func.jvp(CubeWithSetupContext.apply, (two,), (one,))] == [8.0, 12.0]
    fwad_line, func_line = recorded_stdout(ID, "pitfall-custom-fix").splitlines()
    assert fwad_line == "fwAD:           UnpackedDualTensor(primal=tensor(8.), tangent=tensor(12.))"
    assert func_line == "torch.func.jvp: (tensor(8.), tensor(12.))"
    assert "def setup_context(ctx, inputs, output):" in solution_cells(ID)["pitfall-custom-fix"].source


def test_the_power_rule_for_negative_bases_needs_an_integer_exponent():
    assert (-2.0) ** 3 == -8.0 and isinstance((-2.0) ** 0.5, complex)
    prompt = solution_cells(ID)["ex1_prompt"].source
    assert "for an integer $n$ it holds for negative $x$ as well" in prompt
    assert "for a smooth g" not in solution_cells(ID)["concept"].source
    assert r"\text{for a differentiable } g" in solution_cells(ID)["concept"].source
