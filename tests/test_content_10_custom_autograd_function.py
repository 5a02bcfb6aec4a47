"""10_custom_autograd_function: every recorded number against closed forms and IEEE 754 float32 arithmetic.

The references use math in float64 and exact float32 facts (the largest float32, the spacing 2**(e - 23) of the
numbers in [2**e, 2**(e + 1)), round-to-nearest-even); none of them calls autograd or the notebook's classes.
"""

import math
import re
import warnings

import numpy as np
import torch

from autograd_course.exercises.custom_autograd_function import KINK_HINT
from recorded import assert_tensor_text, parse_tensor, recorded_stdout, recorded_value, solution_cells

ID = "10_custom_autograd_function"
X_547 = float(torch.tensor(5.47))  # the float32 value the notebook's leaf holds
FLOAT32_MAX = (2 - 2**-23) * 2.0**127
# exp(x) rounds to inf once it reaches the midpoint between the largest float32 and 2**128 (a tie goes to the
# even neighbour, 2**128 = inf, because FLOAT32_MAX has an odd last significand bit).
OVERFLOW_AT = 128 * math.log(2) + math.log1p(-(2**-25))
NAIVE_POINTS = [-100.0, -20.0, 0.0, 20.0, 88.0, 88.7, 89.0, 100.0]


def float32_neighbours(value):
    """The largest float32 below ``value`` and the smallest float32 at or above it."""
    above = np.float32(value)
    if float(above) < value:
        above = np.nextafter(above, np.float32(np.inf))
    return float(np.nextafter(above, np.float32(-np.inf))), float(above)


def jacobians(message):
    """The two Jacobians of a printed GradcheckError, as float64 tensors."""
    numerical, analytical = message.split("numerical:")[1].split(" analytical:")
    return parse_tensor(numerical).double(), parse_tensor(analytical).double()


def sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def test_square_function_at_the_lectures_point():
    assert recorded_value(ID, "square-class") == "tensor(9., grad_fn=<SquareBackward>)"
    assert_tensor_text(recorded_value(ID, "square-class").replace(", grad_fn=<SquareBackward>", ""), 3.0**2)
    assert_tensor_text(recorded_value(ID, "square-backward"), 2 * 3.0)


def test_grad_output_inside_sin_of_square():
    lines = recorded_stdout(ID, "compose").splitlines()
    assert lines[0].startswith("grad_output arriving at SquareBackward: ")
    assert_tensor_text(lines[0].split(": ")[1], math.cos(X_547**2))
    exact = math.cos(X_547**2) * 2 * X_547
    assert_tensor_text(lines[1].removeprefix("x.grad = "), exact)
    assert_tensor_text(lines[2].removeprefix("cos(x**2) * 2x by hand = "), exact)
    assert lines[1] == "x.grad = tensor(0.8281)"  # notebook 01's number


def test_gradcheck_passes_and_catches_the_missing_two():
    assert recorded_value(ID, "gradcheck-helper") == "'passed'"
    points = [-1.5, 0.5, 3.0]
    message = recorded_stdout(ID, "gradcheck-bug").strip()
    assert message.startswith("Jacobian mismatch for output 0 with respect to input 0,")
    numerical, analytical = jacobians(message)
    assert torch.allclose(numerical, torch.diag(torch.tensor([2 * p for p in points], dtype=torch.float64)), atol=5e-5)
    assert torch.equal(analytical.abs(), torch.diag(torch.tensor([abs(p) for p in points], dtype=torch.float64)))


def test_naive_softplus_values_and_gradients():
    lines = recorded_stdout(ID, "naive-softplus").replace("\n ", " ").splitlines()
    rows = {line.split("=", 1)[0].strip(): re.sub(r"\s+", " ", line.split("=", 1)[1].strip()) for line in lines}
    assert parse_tensor(rows["x"]).tolist() == [float(np.float32(p)) for p in NAIVE_POINTS]
    points = [float(np.float32(p)) for p in NAIVE_POINTS]
    overflow = [p >= OVERFLOW_AT for p in points]
    assert overflow == [False] * 6 + [True] * 2

    exp_values = [math.inf if o else math.exp(p) for p, o in zip(points, overflow)]
    assert torch.allclose(parse_tensor(rows["exp(x)"]).double(), torch.tensor(exp_values, dtype=torch.float64),
                          rtol=5e-5, equal_nan=True)
    # 1 + e^x rounds to 1 when e^x <= 2**-24, half the spacing above 1 (a tie goes to the even neighbour 1).
    naive_values = [math.inf if o else (0.0 if math.exp(p) <= 2**-24 else math.log1p(math.exp(p)))
                    for p, o in zip(points, overflow)]
    assert_tensor_text(rows["value"], naive_values)
    assert math.log1p(math.exp(-20.0)) > 2e-9  # the true value the naive formula lost

    derivatives = [math.nan if o else sigmoid(p) for p, o in zip(points, overflow)]
    for name in ("autograd", "e^x/(1+e^x) by hand"):
        recorded = parse_tensor(rows[name]).double()
        assert torch.allclose(recorded, torch.tensor(derivatives, dtype=torch.float64), rtol=5e-5, equal_nan=True)
        # e^-100 is a float32 subnormal: a whole multiple of 2**-149, the one nearest to the exact value.
        assert recorded[0].item() == round(math.exp(-100) / 2**-149) * 2**-149


def test_overflow_threshold_of_float32_exp():
    last_finite, first_inf = float32_neighbours(OVERFLOW_AT)
    assert first_inf - last_finite == 2**-17  # the float32 spacing in [64, 128)
    exp_last = float(np.float32(math.exp(last_finite)))
    assert recorded_stdout(ID, "overflow-threshold") == (
        f"largest x with finite exp(x): {last_finite!r}, exp = {exp_last:.7e}\n"
        f"smallest x with exp(x) = inf: {first_inf!r}\n"
        f"largest finite float32:       {FLOAT32_MAX:.7e}\n"
        f"ln(2**128) = 128 ln 2 =       {128 * math.log(2)!r}\n")
    assert last_finite < 128 * math.log(2) < first_inf


def test_figure_counts_the_nan_points():
    grid = np.float32(np.linspace(-100, 100, 4001))
    broken = grid[grid >= OVERFLOW_AT]
    assert recorded_stdout(ID, "derivative-figure") == (
        f"naive derivative is nan at {broken.size} of 4001 points, from x = {float(broken[0])}\n"
        "stable derivative finite everywhere: True\n")
    assert broken.size == 226


def test_kink_slopes_of_the_composite_formula():
    # Autograd's slope is (chosen slope of max(x, 0) at 0) + sign(0) * (-1/2) with sign(0) = 0; the true one is sigmoid(0).
    assert sigmoid(0.0) == 0.5
    lines = recorded_stdout(ID, "composite-kink").splitlines()
    assert lines[:4] == [
        "torch.clamp(x, min=0)  + log1p(exp(-|x|)): gradient at 0 = 1.0",
        "torch.relu(x)          + log1p(exp(-|x|)): gradient at 0 = 0.0",
        "torch.maximum(x, 0)    + log1p(exp(-|x|)): gradient at 0 = 0.5",
        f"true derivative        sigmoid(0)         = {sigmoid(0.0)}"]
    # gradcheck of the clamp version: central differences see the smooth softplus, the backward sees slope 1 at 0.
    assert lines[4].startswith("gradcheck of the clamp version at x = -1, 0, 2: Jacobian mismatch for output 0")
    numerical, analytical = jacobians(lines[4])
    slopes = torch.tensor([sigmoid(-1.0), sigmoid(0.0), sigmoid(2.0)], dtype=torch.float64)
    assert torch.allclose(numerical, torch.diag(slopes), atol=5e-5)
    assert torch.allclose(analytical, torch.diag(torch.tensor([sigmoid(-1.0), 1.0, sigmoid(2.0)], dtype=torch.float64)),
                          atol=5e-5)


def test_pitfall_ignoring_grad_output():
    lines = recorded_stdout(ID, "pitfall-grad-output").splitlines()
    assert_tensor_text(lines[0].removeprefix("alone, at x = 3:        x.grad = "), 2 * 3.0)
    assert lines[1].endswith(" (correct: 0.8281)")
    assert_tensor_text(lines[1].removeprefix("in sin(x**2), at 5.47:  x.grad = ").removesuffix("  (correct: 0.8281)"),
                       2 * X_547)
    assert f"{math.cos(X_547**2) * 2 * X_547:.4f}" == "0.8281"
    assert lines[2] == "gradcheck, one element: backward not multiplied by grad_output"
    numerical, analytical = jacobians(lines[3])
    points = torch.tensor([-1.5, 0.5, 3.0], dtype=torch.float64)
    assert torch.allclose(numerical, torch.diag(2 * points), atol=5e-5)
    assert torch.equal(analytical, (2 * points)[:, None].expand(3, 3))  # column i is the whole 2x, for every i


def test_pitfall_gradcheck_in_float32():
    lines = recorded_stdout(ID, "pitfall-float32").splitlines()
    assert lines[0] == ("warning: Input #0 requires gradient and is not a double precision floating point or complex")
    # 3 ± 1e-6 rounds to 3 ± 4 * 2**-22; (3 ± 4 * 2**-22)**2 = 9 ± 6 * 2**-20 + 2**-40 rounds to 9 ± 6 * 2**-20.
    step = 4 * 2**-22
    assert abs(1e-6 - step) < 2**-22 / 2
    numerical_slope = (12 * 2**-20) / 2e-6
    numerical, analytical = jacobians(lines[1])
    assert abs(numerical.item() - numerical_slope) < 5e-5
    assert analytical.item() == 2 * 3.0
    assert lines[2] == f"float32 (3 + 1e-6) - 3 = {step!r} == 4 * 2**-22: True"


def test_pitfall_in_place_modification():
    assert recorded_stdout(ID, "pitfall-inplace") == (
        "RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[torch.FloatTensor [3]], which is output 0 of Add, is at version 1; expected version 0 instead\n")


def prose(cell_id):
    """A markdown cell's text with its line breaks as spaces, as a reader sees it."""
    return " ".join(solution_cells(ID)[cell_id].source.split())


def test_gradcheck_needs_float64_by_the_unit_round_off():
    # u = 2**-(significand bits): 24 bits in float32 (23 stored), 53 in float64 (52 stored).
    assert np.finfo(np.float32).nmant == 23 and np.finfo(np.float64).nmant == 52
    u32, u64, h = 2.0**-24, 2.0**-53, 1e-6
    assert torch.finfo(torch.float32).eps == 2 * u32 and torch.finfo(torch.float64).eps == 2 * u64
    text = prose("concept")
    assert f"u₆₄ = 2⁻⁵³ ≈ {u64 * 1e16:.1f}·10⁻¹⁶" in text and f"u₃₂ = 2⁻²⁴ ≈ {u32 * 1e8:.1f}·10⁻⁸" in text
    assert f"$u\\cdot|f|/h$: with $h = 10^{{-6}}$, ${u64 / h * 1e10:.1f}\\cdot10^{{-10}}\\cdot|f|$ in float64" in text
    assert f"but ${u32 / h:.2f}\\cdot|f|$ in float32, for an $f$ of size 1 sixty times gradcheck's relative tolerance" in text
    assert round(u32 / h / 1e-3, -1) == 60
    assert "varepsilon/h" not in text and "10^{-7}/10^{-6}" not in text  # the old epsilon-over-h figures


def test_one_plus_exp_rounds_to_one_below_ln_u32():
    text = prose("concept")
    assert f"$x \\le \\ln$ u₃₂ $\\approx {math.log(2.0**-24):.2f}$" in text
    one = torch.tensor(1.0)
    for x, rounds_to_one in ((-16.64, True), (-16.63, False), (math.log(2.0**-24) - 1e-5, True)):
        assert bool(one + torch.exp(torch.tensor(x)) == one) is rounds_to_one, x
    assert float(np.float32(1) + np.float32(2.0**-24)) == 1.0  # the tie goes to the even neighbour 1
    assert float(np.float32(1) + np.float32(2.0**-24 * (1 + 2**-20))) == 1 + 2.0**-23


def test_calling_forward_directly_records_no_custom_node():
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x**2

    x = torch.tensor(2.0, requires_grad=True)
    try:
        Cube.forward(None, x)
    except AttributeError as error:
        assert "save_for_backward" in str(error)
    else:
        raise AssertionError("Cube.forward(None, x) ran")

    class RecordsNothing:
        def save_for_backward(self, *tensors):
            pass

    assert Cube.forward(RecordsNothing(), x).grad_fn.name() == "PowBackward0"
    assert type(Cube.apply(x).grad_fn).__name__ == "CubeBackward"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            Cube()(x)
        except RuntimeError as error:
            assert str(error).startswith("Legacy autograd function")
        else:
            raise AssertionError("Cube()(x) ran")
    text = prose("pitfall-last")
    assert "`Square.forward(None, x)` fails at `ctx.save_for_backward`" in text and "(`PowBackward0`)" in text


def test_stable_softplus_is_accurate_to_a_few_unit_roundoffs():
    # The summary: finite for every x, and within a few u32 of the exact value wherever that is a normal float32.
    x = torch.cat([torch.linspace(-100, 100, 40001), torch.tensor([1e4, -1e4, 1e3, -1e3, 88.8, -88.8])])
    small = torch.exp(-x.abs())
    value = torch.clamp(x, min=0) + torch.log1p(small)
    slope = torch.where(x >= 0, 1 / (1 + small), small / (1 + small))
    points = x.double().tolist()
    exact_value = torch.tensor([max(v, 0.0) + math.log1p(math.exp(-abs(v))) for v in points], dtype=torch.float64)
    exact_slope = torch.tensor([sigmoid(v) for v in points], dtype=torch.float64)
    assert torch.isfinite(value).all() and torch.isfinite(slope).all()
    smallest_normal = torch.finfo(torch.float32).tiny
    for computed, exact in ((value, exact_value), (slope, exact_slope)):
        normal = exact >= smallest_normal
        relative = ((computed.double() - exact).abs() / exact)[normal]
        assert relative.max() <= 4 * 2.0**-24
    assert "accurate to a few u₃₂ wherever the result is a normal float32" in prose("summary")


def test_exercise_2_hint_names_the_kink_slope_of_each_way_to_write_max():
    """Section 3.6 shows three slopes at the kink (clamp 1, relu 0, maximum ½); the hint used to say '0 or 1'."""
    slopes = {}
    for name, positive_part in (("clamp", lambda t: torch.clamp(t, min=0)), ("relu", torch.relu),
                                ("maximum", lambda t: torch.maximum(t, torch.zeros_like(t)))):
        x = torch.tensor(0.0, requires_grad=True)
        (positive_part(x) + torch.log1p(torch.exp(-x.abs()))).backward()
        slopes[name] = x.grad.item()
    assert slopes == {"clamp": 1.0, "relu": 0.0, "maximum": 0.5}
    assert "0 or 1 at their kink" not in KINK_HINT and "(clamp 1, relu 0, " in KINK_HINT
