"""09_higher_order_gradients: every recorded number and message against independent computations.

References are closed forms evaluated in float64 with math/numpy (derivatives of x², x³, sin(x²), the damped sine
and the Hessian of x0²·x1 + sin(x1·x2)), and central differences in float64 that check those closed forms themselves.
"""

import math
import re

import mpmath
import numpy as np
import torch

from autograd_course.numeric import central_difference
from recorded import assert_recorded_tensor, assert_tensor_text, recorded_error, recorded_stdout, solution_cells

ID = "09_higher_order_gradients"
NO_GRAD_FN = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"
X_547 = float(torch.tensor(5.47))  # the float32 value the notebook's leaf holds
POINT = np.array([1.0, 2.0, 3.0])
DIRECTION = np.array([1.0, 0.5, -1.0])
TENSOR = re.compile(r"tensor\([^)]*\)")


def printed_tensors(cell_id: str) -> list[str]:
    return TENSOR.findall(recorded_stdout(ID, cell_id))


def sin_of_square_derivatives(x: float, u: float) -> tuple[float, float, float]:
    """f', f'', f''' of sin(x²), with the square u = x² passed in (so that a rounded u can be used)."""
    return (2 * x * math.cos(u),
            2 * math.cos(u) - 4 * u * math.sin(u),
            -12 * x * math.sin(u) - 8 * x**3 * math.cos(u))


def hessian_closed_form(x: np.ndarray) -> np.ndarray:
    s, c = math.sin(x[1] * x[2]), math.cos(x[1] * x[2])
    mixed = c - x[1] * x[2] * s
    return np.array([[2 * x[1], 2 * x[0], 0.0],
                     [2 * x[0], -x[2] ** 2 * s, mixed],
                     [0.0, mixed, -x[1] ** 2 * s]])


def test_first_derivative_without_create_graph_is_a_constant():
    assert recorded_stdout(ID, "example-no-create-graph") == "dy/dx requires_grad: False | grad_fn: None\n"
    assert_recorded_tensor(ID, "example-no-create-graph", 2 * 3.0)
    assert recorded_error(ID, "example-no-create-graph-error") == NO_GRAD_FN


def test_create_graph_gives_second_derivative_of_square():
    assert recorded_stdout(ID, "example-create-graph") == "dy/dx = tensor(6., grad_fn=<MulBackward0>)\n"
    assert_recorded_tensor(ID, "example-create-graph", 2.0)


def test_sin_of_square_first_and_second_derivative():
    first, second, _ = sin_of_square_derivatives(X_547, X_547**2)
    autograd_first, closed_first, autograd_second, closed_second = printed_tensors("example-sin")
    for text, exact in ((autograd_first, first), (closed_first, first), (autograd_second, second),
                        (closed_second, second)):
        assert_tensor_text(text, exact)
    assert autograd_first == "tensor(0.8281)" and autograd_second == "tensor(119.4916)"


def test_closed_forms_of_sin_of_square_match_finite_differences():
    def f(t):
        return torch.sin(t**2)

    def f1(t):
        return 2 * t * torch.cos(t**2)

    def f2(t):
        return 2 * torch.cos(t**2) - 4 * t**2 * torch.sin(t**2)

    first, second, third = sin_of_square_derivatives(X_547, X_547**2)
    for function, exact in ((f, first), (f1, second), (f2, third)):
        assert math.isclose(float(central_difference(function, X_547)), exact, rel_tol=1e-6)


def test_linear_function_has_constant_first_derivative():
    assert recorded_stdout(ID, "example-linear") == "f' = tensor(3.) | requires_grad: False\n"
    assert recorded_error(ID, "example-linear") == NO_GRAD_FN


def test_damped_sine_closed_forms_are_right():
    # The notebook prints that autograd matches these closed forms; check the forms against float64 differences.
    def damped_sine(t):
        return torch.sin(t) * torch.exp(-t**2 / 4)

    def first_closed(t):
        return torch.exp(-t**2 / 4) * (torch.cos(t) - t / 2 * torch.sin(t))

    def second_closed(t):
        return torch.exp(-t**2 / 4) * ((t**2 / 4 - 1.5) * torch.sin(t) - t * torch.cos(t))

    for at in np.linspace(-6, 6, 25):
        at_tensor = torch.tensor(at, dtype=torch.float64)
        assert math.isclose(float(central_difference(damped_sine, at)), float(first_closed(at_tensor)),
                            rel_tol=1e-6, abs_tol=1e-9)
        assert math.isclose(float(central_difference(first_closed, at)), float(second_closed(at_tensor)),
                            rel_tol=1e-6, abs_tol=1e-9)
    assert recorded_stdout(ID, "example-plot") == (
        "f' matches its closed form:  True\nf'' matches its closed form: True\n")


def test_hessian_against_closed_form():
    hessian = hessian_closed_form(POINT)
    assert np.allclose(hessian, hessian.T)
    assert recorded_stdout(ID, "example-hessian") == "symmetric: True\n"
    assert_recorded_tensor(ID, "example-hessian", hessian)


def test_hessian_closed_form_matches_finite_differences_of_the_gradient():
    def partial(i):
        def component(t):
            gradient = torch.stack([2 * t[0] * t[1], t[0] ** 2 + t[2] * torch.cos(t[1] * t[2]),
                                    t[1] * torch.cos(t[1] * t[2])])
            return gradient[i]
        return component

    rows = np.stack([central_difference(partial(i), POINT).numpy() for i in range(3)])
    assert np.allclose(rows, hessian_closed_form(POINT), atol=1e-7)


def test_hessian_vector_product_and_gradient():
    x0, x1, x2 = POINT
    gradient = [2 * x0 * x1, x0**2 + x2 * math.cos(x1 * x2), x1 * math.cos(x1 * x2)]
    product = hessian_closed_form(POINT) @ DIRECTION
    printed_gradient, two_passes, full = printed_tensors("example-hvp")
    assert_tensor_text(printed_gradient, gradient)
    assert_tensor_text(two_passes, product)
    assert_tensor_text(full, product)
    assert recorded_stdout(ID, "example-hessian-rows") == "rows from 3 products equal functional.hessian: True\n"


def test_backward_with_create_graph_accumulates():
    x = 3.0
    first, second = 3 * x**2, 6 * x
    assert recorded_stdout(ID, "pitfall-backward-accumulates") == (
        f"after the first pass:  x.grad = tensor({first:.0f}.)\n"
        f"after the second pass: x.grad = tensor({first + second:.0f}.)\n"
        "warnings: 1 | Using backward() with create_graph=True will create a reference cycle between the parameter "
        "and its gradient which can cause a memory leak.\n")
    assert recorded_stdout(ID, "pitfall-backward-fixed") == (
        f"f' = tensor({first:.0f}.) | f'' = tensor({second:.0f}.) | x.grad = None\n")


def test_third_derivative_float32_error_comes_from_rounding_x_squared():
    square64 = X_547**2
    square32 = float(np.float32(X_547) * np.float32(X_547))
    float32_text, float64_text = printed_tensors("pitfall-float32")
    # float64 autograd agrees with the exact closed form; float32 autograd with the closed form at the rounded square.
    assert_tensor_text(float64_text, sin_of_square_derivatives(X_547, square64)[2])
    assert_tensor_text(float32_text, sin_of_square_derivatives(X_547, square32)[2])
    assert recorded_stdout(ID, "pitfall-float32").splitlines()[2] == (
        f"x**2 in float32: {square32:.10f} | in float64: {square64:.10f}")


def test_numbers_in_the_float32_explanation():
    """The prose of 5.2, recomputed with mpmath at 40 digits (its first version had the f'' slope and shift wrong)."""
    mpmath.mp.dps = 40
    x = mpmath.mpf(X_547)  # exact: the float32 value of 5.47
    u = x**2
    u32 = mpmath.mpf(float(np.float32(X_547) * np.float32(X_547)))  # float32 rounds the product once
    rounding = u32 - u
    assert float(np.spacing(np.float32(u32))) == 2.0**-19 == 2.0**4 * float(np.finfo(np.float32).eps)
    assert f"{float(rounding):.1e}" == "7.3e-07"
    # The backward passes take the factors 2x from x itself, so the slopes are partial derivatives in u at fixed x.
    slope_second = -2 * mpmath.sin(u) - 4 * x**2 * mpmath.cos(u)
    slope_third = -12 * x * mpmath.cos(u) + 8 * x**3 * mpmath.sin(u)
    assert f"{float(slope_second):.2f}" == "-7.07" and round(float(slope_third)) == -1311
    assert f"{float(slope_second * rounding):.1e}" == "-5.2e-06" and f"{float(slope_third * rounding):.1e}" == "-9.6e-04"

    def second(at_u):
        return 2 * mpmath.cos(at_u) - 4 * x**2 * mpmath.sin(at_u)

    def third(at_u):
        return -12 * x * mpmath.sin(at_u) - 8 * x**3 * mpmath.cos(at_u)

    # The linear estimates hold: the exact shifts at the rounded u agree to 3 digits.
    assert abs(second(u32) - second(u) - slope_second * rounding) < 1e-3 * abs(slope_second * rounding)
    assert abs(third(u32) - third(u) - slope_third * rounding) < 1e-3 * abs(slope_third * rounding)
    prose = solution_cells(ID)["pitfall-float32-why"].source
    for claim in ("\\approx -7.07", "\\approx -1311", "-5.2 \\times 10^{-6}", "-9.6 \\times 10^{-4}",
                  "$-33.6597$ against $-33.6587$ differ in the third decimal"):
        assert claim in prose, claim


def test_printed_third_derivatives_differ_in_the_third_decimal():
    float32_text, float64_text = printed_tensors("pitfall-float32")
    assert (float32_text, float64_text) == ("tensor(-33.6597)", "tensor(-33.6587, dtype=torch.float64)")
    difference = -33.6597 - -33.6587
    assert round(difference, 3) != 0 and round(difference, 2) == 0  # third decimal, not fourth
    assert f"{difference:.1e}" == "-1.0e-03"


def test_detach_then_requires_grad_shares_memory_with_the_point():
    """3.7 says point.detach().requires_grad_() is a new leaf sharing point's memory (notebook 05), not a copy."""
    point = torch.tensor([1.0, 2.0, 3.0])
    leaf = point.detach().requires_grad_()
    assert leaf is not point and leaf.is_leaf and leaf.requires_grad and not point.requires_grad
    assert leaf.data_ptr() == point.data_ptr()
    assert "shares `point`'s memory" in solution_cells(ID)["example-hvp-intro"].source


def test_a_step_in_the_first_derivative_gives_no_graph():
    """3.4's aside: f(x) = x·(x > 0) has a piecewise-constant f' that autograd cannot differentiate further."""
    x = torch.tensor(0.7, requires_grad=True)
    (first,) = torch.autograd.grad(x * (x > 0), x, create_graph=True)
    assert first.item() == 1.0 and first.grad_fn is None and not first.requires_grad
