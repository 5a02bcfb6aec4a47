"""06_gradient_checking: every recorded number against independent computations.

Derivatives of u(x) = exp(sin(x²)) come from mpmath at 50 digits (its own numerical differentiation, sharing nothing with
the notebook's chain-rule formulas); float32 grid facts come from IEEE rounding done by numpy; error sizes are checked
against the truncation + round-off bound h²|u'''|/6 + ε(|u| + |x u'|)/h that the notebook teaches.
"""

import math
import re

import mpmath
import numpy as np
import torch

from recorded import printed_by_torch, recorded_error, recorded_stdout, recorded_value, solution_cells

ID = "06_gradient_checking"
X0, H = 5.47, 1e-6
X32 = float(np.float32(X0))
mpmath.mp.dps = 50


def u_derivative(x, order=1):
    return float(mpmath.diff(lambda t: mpmath.exp(mpmath.sin(t**2)), mpmath.mpf(x), order))


def u_value(x):
    return math.exp(math.sin(x**2))


def relative(a, n):
    return abs(a - n) / max(abs(a), abs(n))


def error_bound(x, h, unit_roundoff):
    """Relative error bound of a central difference: truncation plus worst-case round-off."""
    slope = abs(u_derivative(x))
    return (h**2 * abs(u_derivative(x, 3)) / 6 + unit_roundoff * (u_value(x) + abs(x) * slope) / h) / slope


BANDS = ((1e-2, "wrong"), (1e-4, "suspicious"), (1e-7, "precision lost, or a small bug"), (0.0, "correct"))


def verdict(error):
    """The band of section 2's table a relative error falls in."""
    return next(name for lower, name in BANDS if error > lower or lower == 0.0)


def numbers(text):
    return [float(match) for match in re.findall(r"[-+]?\d+\.\d+(?:e[-+]\d+)?|\d+e[-+]\d+", text)]


def test_three_ways_agree_to_ten_digits():
    lines = recorded_stdout(ID, "example-three-ways").splitlines()
    exact = u_derivative(X0)
    by_hand, by_autograd, by_differences = (float(line.split()[-1]) for line in lines[:3])
    # float64 evaluates sin at x² ≈ 29.9, whose rounding alone moves the result by about 1e-14.
    assert lines[0].startswith("by hand (chain rule)          ") and abs(by_hand - exact) <= 2e-14
    assert lines[1].startswith("autograd                      ") and abs(by_autograd - exact) <= 2e-14
    assert relative(exact, by_differences) <= error_bound(X0, H, 2.0**-53)
    printed_error = float(lines[3].split()[-1])
    assert printed_error == float(f"{relative(by_autograd, by_differences):.1e}") and 1e-11 < printed_error < 1e-9


def test_bugs_have_relative_errors_of_order_one():
    exact = u_derivative(X0)
    inner = exact / (2 * X0)  # the derivative without its inner link 2x
    lines = recorded_stdout(ID, "example-bugs").splitlines()
    expected = {"forgot the inner link 2x": inner, "wrote x instead of 2x": inner * X0, "sin' = -cos (sign error)": -exact}
    assert lines[0].startswith(f"correct                    {exact:+.6f}   relative error ")
    assert lines[0].endswith("   correct") and 1e-11 < numbers(lines[0])[1] < 1e-9
    for line, (name, value) in zip(lines[1:], expected.items()):
        error = relative(value, exact)
        assert line == f"{name:<26} {value:+.6f}   relative error {error:.1e}   {verdict(error)}"


def test_float32_difference_is_20_gaps_of_u_over_4_gaps_of_x():
    lines = recorded_stdout(ID, "example-float32").splitlines()
    x_gap = float(np.spacing(np.float32(X32)))
    u_gap = float(np.spacing(np.float32(u_value(X32))))
    assert (x_gap, u_gap) == (2.0**-21, 2.0**-25)
    step = float(np.float32(X32) + np.float32(H)) - float(np.float32(X32) - np.float32(H))
    assert lines[1] == f"step actually taken: {step / x_gap:.0f} gaps of x = {step:.4e} instead of 2h = {2 * H:.0e}"
    assert step / x_gap == 4
    # Each float32 u(x ± h) is within a gap or so of the exact value at the float32 points.
    true_gaps = (u_value(X32 + step / 2) - u_value(X32 - step / 2)) / u_gap
    assert lines[2].startswith("u(x+h) - u(x-h) = 20 gaps of u = ") and abs(20 - true_gaps) <= 2
    estimate = 20 * u_gap / (2 * H)
    exact32 = u_derivative(X32)
    error = relative(exact32, estimate)
    assert lines[0] == (f"float32 central difference {estimate:.6f}, exact {exact32:.6f}: "
                        f"relative error {error:.1e}, {verdict(error)}")
    assert numbers(lines[2])[-1] == float(f"{20 * u_gap:.4e}")
    assert lines[3] == f"x + 1e-7 == x in float32: {1e-7 < x_gap / 2}"


def test_step_size_model_and_observations():
    lines = recorded_stdout(ID, "example-step-size").splitlines()
    third = abs(u_derivative(X0, 3))
    slope = abs(u_derivative(X0))
    size = u_value(X0) + X0 * slope
    for line, name, bits in zip(lines, ("float32", "float64"), (24, 53)):
        epsilon = 2.0**-bits
        best_step = (3 * epsilon * size / third) ** (1 / 3)
        best_error = best_step**2 * third / 2 / slope
        model_step, model_error, observed_step, observed_error, at_default = numbers(line.replace("at h = 1e-6", ""))
        assert line.startswith(f"{name}: model h* = {best_step:.1e}, error {best_error:.1e} | observed best h = ")
        assert model_step == float(f"{best_step:.1e}") and model_error == float(f"{best_error:.1e}")
        # The observed minimum lies under the bound, within a decade of the model's step.
        assert observed_error <= error_bound(X0, observed_step, epsilon) and best_step / 10 < observed_step < best_step
        assert at_default <= error_bound(X0, H, epsilon)
    assert numbers(lines[0])[-1] == numbers(recorded_stdout(ID, "example-float32").splitlines()[0])[-1]  # same 2.5e-02
    assert numbers(lines[1])[-1] == float(recorded_stdout(ID, "example-three-ways").splitlines()[3].split()[-1])


def test_figure_is_a_single_image_after_the_printout():
    outputs = solution_cells(ID)["example-step-size"].outputs
    assert [out.output_type for out in outputs] == ["stream", "display_data"]
    assert "image/png" in outputs[1].data


def test_gradcheck_shows_the_missing_factor_2x():
    exact = u_derivative(X0)
    message = recorded_error(ID, "example-gradcheck-wrong")
    numerical = printed_by_torch([[exact]]).replace(")", ", dtype=torch.float64)")
    analytical = printed_by_torch([[exact / (2 * X0)]]).replace(")", ", dtype=torch.float64)")
    assert message == (f"GradcheckError: Jacobian mismatch for output 0 with respect to input 0,\n"
                       f"numerical:{numerical}\nanalytical:{analytical}\n")
    assert recorded_value(ID, "example-gradcheck-fixed") == "True"


def test_gradcheck_pitfalls():
    assert recorded_stdout(ID, "pitfall-float32") == (
        "UserWarning: Input #0 requires gradient and is not a double precision floating point or complex. "
        "This check will likely fail if all the inputs are not of double precision floating point or complex. \n"
        "gradcheck passed: False\n")
    assert recorded_error(ID, "pitfall-requires-grad") == (
        "ValueError: gradcheck expects at least one input tensor to require gradient, "
        "but none of them have requires_grad=True.")


def test_kink_within_h_scores_wrong_and_a_point_farther_away_scores_correct():
    across, beyond = recorded_stdout(ID, "pitfall-kink").splitlines()
    chord = ((1e-7 + H) - 0.0) / (2 * H)  # relu(x - h) = 0 because x - h < 0
    assert across == (f"x = 1e-07: autograd {1.0:.4f}, central difference {chord:.4f}, "
                      f"relative error {relative(1.0, chord):.2g}, wrong")
    # Both x ± h > 0: the chord lies on the line relu(t) = t; only the rounding of x ± h (u64 |x| each) is left.
    on_one_piece = ((1e-5 + H) - (1e-5 - H)) / (2 * H)
    assert abs(on_one_piece - 1.0) <= 2 * 2.0**-53 * 1e-5 / H
    assert beyond == (f"x = 1e-05: autograd {1.0:.4f}, central difference {on_one_piece:.4f}, "
                      f"relative error {relative(1.0, on_one_piece):.2g}, correct")


def latex_number(text):
    """'4.6\\cdot10^{-5}' -> 4.6e-05, '0.45' -> 0.45."""
    mantissa, _, exponent = text.partition(r"\cdot10^{")
    return float(mantissa) * 10.0 ** int(exponent.rstrip("}") or 0)


def concept_row(band):
    """The cells of the relative-error table row that starts with ``band``."""
    row = next(line for line in solution_cells(ID)["concept"].source.splitlines() if line.startswith(f"| {band} |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def quoted_numbers(cell):
    return [latex_number(number) for number in re.findall(r"\$([\d.]+(?:\\cdot10\^\{-?\d+\})?)\$", cell)]


def test_the_precision_symbols_are_the_glossary_ones_with_their_bits():
    concept = solution_cells(ID)["concept"].source
    assert 2.0**-23 == torch.finfo(torch.float32).eps and 2.0**-52 == torch.finfo(torch.float64).eps
    assert f"$\\varepsilon_{{32}} = 2^{{1-p}} = 2^{{-23}} \\approx {2.0**-23 * 1e7:.2f}\\cdot10^{{-7}}$" in concept
    assert f"$u_{{32}} = 2^{{-p}} = 2^{{-24}} \\approx {2.0**-24 * 1e8:.2f}\\cdot10^{{-8}}$" in concept
    assert "$\\varepsilon_{64} = 2^{-52}" in concept and "$u_{64} = 2^{-53}" in concept
    assert "so $p = 24$" in concept and "stores 52, so $p = 53$" in concept
    # No bare epsilon anywhere: machine epsilon is written with its dtype, unit round-off as u.
    for cell in solution_cells(ID).values():
        assert not re.search(r"\\varepsilon(?!_\{(32|64)\})", cell.source), cell.id
    # The figure's round-off lines use u = eps / 2 = 2^-p.
    assert "unit_roundoff, width = torch.finfo(dtype).eps / 2, torch.finfo(dtype).bits" in solution_cells(ID)[
        "example-step-size"].source


def test_every_example_in_the_bands_table_lies_in_its_band_and_is_recorded():
    bugs = sorted(numbers(line)[-1] for line in recorded_stdout(ID, "example-bugs").splitlines()[1:])
    *_, wrong_examples = concept_row("$> 10^{-2}$")
    assert quoted_numbers(wrong_examples) == [float(f"{error:.2g}") for error in bugs]
    assert all(verdict(error) == "wrong" for error in bugs)
    float32_best = numbers(recorded_stdout(ID, "example-step-size").splitlines()[0].replace("at h = 1e-6", ""))[3]
    *_, lost_examples = concept_row("$10^{-7}$ to $10^{-4}$")
    assert quoted_numbers(lost_examples) == [float32_best] and verdict(float32_best) == "precision lost, or a small bug"
    float64_correct = float(recorded_stdout(ID, "example-three-ways").splitlines()[3].split()[-1])
    *_, correct_examples = concept_row("$< 10^{-7}$")
    assert quoted_numbers(correct_examples) == [float64_correct] and verdict(float64_correct) == "correct"


def test_the_cases_outside_the_table_quote_their_recorded_errors():
    concept = solution_cells(ID)["concept"].source
    outside = concept[concept.index("The table does not apply"):]
    float32_best = numbers(recorded_stdout(ID, "example-step-size").splitlines()[0].replace("at h = 1e-6", ""))[3]
    float32_default = numbers(recorded_stdout(ID, "example-float32").splitlines()[0])[-1]
    kink = numbers(recorded_stdout(ID, "pitfall-kink").splitlines()[0])[-1]
    assert quoted_numbers(outside) == [float32_best, float32_default, kink]
    assert verdict(float32_default) == verdict(kink) == "wrong"
    summary = solution_cells(ID)["summary"].source
    assert f"(${kink}$ for ReLU)" in summary and "$2.5\\cdot10^{-2}$ for $u'(5.47)$" in summary
    assert float32_default == 2.5e-2


def test_zero_gradient_gives_relative_error_one():
    # d/dx (x-1)³ = 0 at 1; the central difference is its truncation error h²|f'''|/6 = h².
    assert recorded_stdout(ID, "pitfall-zero") == (
        f"autograd 0.0, central difference {H**2:.3e}, relative error {relative(0.0, H**2):.1f}\n"
        "gradcheck passed: True\n")


def test_summary_names_the_next_notebook():
    last_line = solution_cells(ID)["summary"].source.strip().splitlines()[-1]
    assert last_line.startswith("Next: **07")
