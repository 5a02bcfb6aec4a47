"""14_low_precision_gradients: every recorded number against the bit layouts of the formats.

The references round exact float64 values to float16, bfloat16 and float32 with ``round_to`` (round to nearest, ties
to even, from the number of significand bits and the exponent range alone), and replay the model's backward pass and
GradScaler's rules by hand; none of them calls autograd, ``torch.finfo`` or a dtype conversion of torch.
"""

import math
import re

import numpy as np
import torch

from recorded import recorded_stdout, solution_cells

ID = "14_low_precision_gradients"
# (stored significand bits m, exponent bits e): bias 2**(e - 1) - 1, normal exponents 1 - bias .. bias.
LAYOUTS = {"float32": (23, 8), "float16": (10, 5), "bfloat16": (7, 8)}


def limits(name):
    """eps, smallest normal, smallest subnormal and max of a format, from its bit layout."""
    m, e = LAYOUTS[name]
    bias = 2 ** (e - 1) - 1
    return {"eps": 2.0**-m, "tiny": 2.0 ** (1 - bias), "subnormal": 2.0 ** (1 - bias - m), "max": (2 - 2.0**-m) * 2.0**bias}


def round_to(name, value):
    """The exact ``value`` rounded to the nearest number of the format, a tie to the even one; inf beyond the range."""
    if value == 0 or not math.isfinite(value):
        return value
    m, e = LAYOUTS[name]
    bias = 2 ** (e - 1) - 1
    binade = max(math.frexp(abs(value))[1] - 1, 1 - bias)  # subnormals share the smallest normal binade's spacing
    spacing = 2.0 ** (binade - m)
    rounded = round(value / spacing) * spacing  # round() sends a tie to the even integer
    return math.copysign(math.inf, value) if abs(rounded) >= 2.0 ** (bias + 1) else rounded


def lines(cell_id):
    return recorded_stdout(ID, cell_id).splitlines()


def prose(cell_id):
    return " ".join(solution_cells(ID)[cell_id].source.split())


def close_in_print(text, exact, relative=2e-6):
    """A printed number equals ``exact`` up to half a unit of its last printed digit (plus float32 slack)."""
    printed = float(text)
    digits = text.lower().split("e")[0]
    last = 10.0 ** -(len(digits.split(".")[1]) if "." in digits else 0)
    unit = last * (10.0 ** int(text.lower().split("e")[1]) if "e" in text.lower() else 1.0)
    return abs(printed - exact) <= unit / 2 + relative * abs(exact)


# The notebook's data, drawn exactly as its model cell draws them.
N = 4096
_generator = torch.Generator().manual_seed(14)


def _signs():
    return torch.where(torch.rand(N, generator=_generator) < 0.5, -1.0, 1.0)


W0 = (_signs() * torch.randint(8, 16, (N,), generator=_generator)
      * 2.0 ** torch.randint(-4, 0, (N,), generator=_generator)).double().tolist()
X = (_signs() * torch.randint(8, 16, (N,), generator=_generator) / 8).double().tolist()
_residual_signs = _signs()
# 2**e with e = -20 + 18.5 u, u a float32 draw: e exact in float64, the power by Python's math (not torch), rounded once.
_exponents = [-20 + 18.5 * u for u in torch.rand(N, generator=_generator).double().tolist()]
_magnitudes = [2.0**e for e in _exponents]
_residuals = _residual_signs * torch.tensor(_magnitudes, dtype=torch.float64).float()
Y = (torch.tensor(W0, dtype=torch.float32) * torch.tensor(X, dtype=torch.float32) - _residuals).double().tolist()


def cast_inputs(weights, scale=1.0):
    """dL/dp = scale * 2 (p - y) / n as float32 computes it: p = w * x exact for the data's short fractions."""
    predictions = [round_to("float16", round_to("float16", w) * x) for w, x in zip(weights, X)]
    return [scale * 2 * round_to("float32", p - y) / N for p, y in zip(predictions, Y)]


def backward(name, scale=1.0, weights=W0):
    """The weight gradient (unscaled): dL/dp rounded to the format, times x rounded again, divided by scale."""
    return [round_to(name, round_to(name, g) * x) / scale for g, x in zip(cast_inputs(weights, scale), X)]


REFERENCE = backward("float32")


def relative_errors(gradient):
    return [abs(g - r) / abs(r) for g, r in zip(gradient, REFERENCE) if g != 0 and math.isfinite(g)]


def test_the_data_make_the_forward_pass_exact():
    for w, x in zip(W0, X):
        assert 1 <= abs(x) < 2 and round_to("bfloat16", w) == w and round_to("bfloat16", w * x) == w * x
    assert all(r != 0 for r in REFERENCE)


def test_finfo_table_from_the_bit_layout():
    rows = lines("finfo-table")
    assert rows[0].split() == ["format", "bits", "eps", "tiny", "(smallest", "normal)", "smallest", "subnormal", "max"]
    for row, name in zip(rows[1:], ("float32", "float16", "bfloat16")):
        m, e = LAYOUTS[name]
        values = limits(name)
        assert row.split() == [name, str(1 + e + m)] + [f"{values[key]:.4e}" for key in ("eps", "tiny", "subnormal", "max")]
    assert limits("float16")["max"] == 65504 and limits("float16")["subnormal"] == 2.0**-24


def decode(pattern, exponent_bits):
    """The value of a 16-bit pattern: sign | exponent | significand, read by the rules of section 2."""
    m = 15 - exponent_bits
    bias = 2 ** (exponent_bits - 1) - 1
    field, fraction = (pattern >> m) & (2**exponent_bits - 1), pattern & (2**m - 1)
    if field == 2**exponent_bits - 1:
        return math.inf if fraction == 0 else math.nan
    if field == 0:
        return fraction / 2**m * 2.0 ** (1 - bias)
    return (1 + fraction / 2**m) * 2.0 ** (field - bias)


def test_bit_patterns():
    rows = lines("bit-patterns")
    assert len(rows) == 11
    for row in rows:
        dtype, rest = row.split(" ", 1)
        bits, value = rest.split("=")
        fields = bits.split()[-3:]
        exponent_bits = len(fields[1])
        assert exponent_bits == {"torch.float16": 5, "torch.bfloat16": 8}[dtype] and len("".join(fields)) == 16
        assert float(value) == decode(int("".join(fields), 2), exponent_bits), row
    texts = " ".join(rows)
    assert f"= {2.0**-24!r}" in texts and f"= {2.0**-133!r}" in texts and f"= {(2 - 2.0**-7) * 2.0**127!r}" in texts


def test_rounding_near_the_thresholds():
    values = [2**-26, 2**-25, 2**-25 * (1 + 2**-23), 1.5 * 2**-25, 2**-24, 3 * 2**-25, 1.3 * 2**-20, 65504.0, 65519.0,
              65520.0]
    for row, value in zip(lines("rounding"), values):
        exact = float(np.float32(value))
        half = round_to("float16", exact)
        name_value, result = row.split(" -> float16 ")
        assert name_value.endswith(f"= {exact:.8e}")
        multiple = f"  ({half / 2**-24:g} * 2**-24)" if half < 2**-14 else ""
        assert result == f"{half:.8e}{multiple}", row
    assert round(1.3 * 2**-20 / 2**-24) == 21 and abs(21 / 20.8 - 1) < 0.011


def test_model_counts_and_errors():
    rows = lines("model")
    smallest, largest = min(map(abs, REFERENCE)), max(map(abs, REFERENCE))
    assert rows[0] == f"float32 gradients: from {smallest:.4e} to {largest:.4e}, none zero: True"
    for row, name in zip(rows[2:], ("float16", "bfloat16")):
        gradient = backward(name)
        zero = sum(g == 0 for g in gradient)
        subnormal = sum(0 < abs(g) < limits(name)["tiny"] for g in gradient)
        fields = row.split()
        assert fields[:4] == [name, str(zero), str(subnormal), str(N - zero - subnormal)], row
        assert close_in_print(fields[4], max(relative_errors(gradient)))
    # float16's zeros are exactly the entries with |dL/dp| at most 2**-25 (|x| >= 1 keeps the others nonzero).
    assert sum(abs(g) <= 2**-25 for g in cast_inputs(W0)) == sum(g == 0 for g in backward("float16")) == 1292
    assert max(relative_errors(backward("bfloat16"))) < 2 * 2**-8 + 2**-16
    text = prose("model-read")
    assert "1292 of the 4096" in text and "2352 more are subnormal" in text and "Only the 452 normal ones" in text
    assert "more than 100 %" in text and max(relative_errors(backward("float16"))) > 1
    assert "the largest error, 0.0070" in text and "2⁻⁷ ≈ 0.0078" in text


def test_figure_numbers():
    rows = lines("figure")
    magnitudes = [abs(g) for g in cast_inputs(W0)]
    assert rows[0] == f"log2 of |dL/dp|: from {math.log2(min(magnitudes)):.3f} to {math.log2(max(magnitudes)):.3f}"
    assert min(magnitudes) == 2.0**-31
    zero_free = [k for k in range(33) if all(g != 0 for g in backward("float16", 2.0**k))]
    inf_free = [k for k in range(33) if all(math.isfinite(g) for g in backward("float16", 2.0**k))]
    assert zero_free == list(range(7, 33)) and inf_free == list(range(0, 28))
    assert rows[1] == "no zero gradient for k >= 7, no inf for k <= 27"
    # The tie: 2**6 * 2**-31 = 2**-25 rounds to 0, 2**7 * 2**-31 does not.
    assert round_to("float16", 2.0**-25) == 0 and round_to("float16", 2.0**-24) == 2.0**-24
    text = prose("figure-read")
    assert "The smallest $|\\partial L/\\partial p|$ is 2⁻³¹" in text and "from $S = 2^{28}$ on" in text
    assert "about 2⁻¹²·⁵" in text and round(math.log2(max(magnitudes)), 1) == -12.5
    # From 2**17 on every scaled dL/dp is a normal float16, below it not.
    assert min(magnitudes) * 2**17 == 2.0**-14 and "from $2^{17}$ on, where $2^{17}\\cdot 2^{-31} = 2^{-14}$" in text


def test_loss_scaling_by_hand():
    rows = lines("scaling")
    for row, k in zip(rows, (7, 17, 28)):
        gradient = backward("float16", 2.0**k)
        zero, inf = sum(g == 0 for g in gradient), sum(math.isinf(g) for g in gradient)
        head, error = row.split("largest relative error ")
        assert head == f"S = 2**{k:<2}: zero {zero:>3}, inf {inf:>3}, "
        assert close_in_print(error, max(relative_errors(gradient)))
    assert rows[3] == f"u16 = {2**-11:.3e}, two roundings: at most about 2 * u16 = {2 * 2**-11:.3e}"
    assert max(relative_errors(backward("float16", 2.0**17))) <= 2 * 2**-11
    text = prose("scaling-read")
    assert "at least 2⁻¹⁴" in text and "9.08·10⁻⁴" in text and "wrong by 52 %" in text and "the 28 largest" in text
    assert round(max(relative_errors(backward("float16", 2.0**7))) * 100) == 52
    assert sum(math.isinf(g) for g in backward("float16", 2.0**28)) == 28


def replay_grad_scaler(steps=12, init_scale=2.0**30, growth_interval=2, lr=256.0):
    """GradScaler's rules and SGD, on the data, by hand: (used scale, found inf, changed, loss, next scale) per step."""
    weights, scale, tracker, rows = list(W0), init_scale, 0, []
    for _ in range(steps):
        predictions = [round_to("float16", round_to("float16", w) * x) for w, x in zip(weights, X)]
        loss = sum(round_to("float32", p - y) ** 2 for p, y in zip(predictions, Y)) / N
        gradient = [round_to("float16", round_to("float16", g) * x) for g, x in zip(cast_inputs(weights, scale), X)]
        found = any(math.isinf(g) for g in gradient)
        changed = False
        if not found:
            updated = [round_to("float32", w - lr * (g / scale)) for w, g in zip(weights, gradient)]
            changed, weights = updated != weights, updated
        used = scale
        if found:
            scale, tracker = scale * 0.5, 0
        else:
            tracker += 1
            if tracker == growth_interval:
                scale, tracker = scale * 2, 0
        rows.append((used, found, changed, loss, scale))
    return rows


def test_grad_scaler_table():
    rows = lines("scaler")
    assert rows[0].split() == ["step", "scale", "inf/NaN", "found", "weights", "changed", "loss", "next", "scale"]
    for step, (row, (used, found, changed, loss, following)) in enumerate(zip(rows[1:], replay_grad_scaler())):
        fields = row.split()
        assert fields[:4] == [str(step), f"2**{math.log2(used):.0f}", str(found), str(changed)], row
        assert fields[5] == f"2**{math.log2(following):.0f}", row
        assert close_in_print(fields[4], loss, relative=1e-5), (row, loss)
    text = prose("scaler-read")
    assert "The first three steps overflow" in text and "at step 9 ($2^{30}$)" in text


def test_bfloat16_against_float16():
    rows = lines("bfloat16-vs-float16")
    for row, (name, scale) in zip(rows, (("float16", 2.0**17), ("bfloat16", 1.0))):
        errors = [abs(g - r) / abs(r) for g, r in zip(backward(name, scale), REFERENCE)]
        median = sorted(errors)[(len(errors) - 1) // 2]  # torch.median: the lower of the two middle values
        match = re.fullmatch(rf"{name} +S = +{scale:g}: zero 0, relative error: largest (\S+), median (\S+)", row)
        assert match and close_in_print(match[1], max(errors)) and close_in_print(match[2], median), row
    assert "about eight times more precise" in prose("bfloat16-read") and 2**-8 / 2**-11 == 8


def test_pitfall_scaling_late_and_unscaling_in_float16():
    rows = lines("pitfall-late")
    tiny = [float(np.float32(v)) for v in (2.0**-28, 3e-9, 1e-6)]
    early = [round_to("float16", v * 2**10) for v in tiny]
    late = [round_to("float16", round_to("float16", v) * 2**10) for v in tiny]
    half_unscaled = [round_to("float16", v / 2**10) for v in early]
    float_unscaled = [v / 2**10 for v in early]
    assert late[:2] == [0.0, 0.0] and half_unscaled[:2] == [0.0, 0.0] and all(v != 0 for v in float_unscaled)
    for row, expected in zip(rows, (early, late, half_unscaled, float_unscaled)):
        printed = re.findall(r"[-\d.]+e[-+]\d+|\d+\.\d+", row.split(":", 1)[1])
        assert len(printed) == 3 and all(close_in_print(text, value) for text, value in zip(printed, expected)), row


def test_pitfall_float16_parameters_and_default_scale():
    assert lines("pitfall-fp16-params") == ["ValueError: Attempting to unscale FP16 gradients."]
    # d(S * loss)/d loss = 2**16 rounds to inf in float16 (65536 >= 65520); the step is skipped and S halves.
    assert round_to("float16", 2.0**16) == math.inf
    assert lines("pitfall-init-scale-code") == ["gradient: tensor([inf, inf])",
                                                 "weights unchanged: tensor([ 0.5000, -0.2500])  next scale: 32768.0"]


def test_pitfall_lost_updates():
    rows = lines("pitfall-updates-code")
    for row, (name, update) in zip(rows, (("float16", 2.0**-12), ("bfloat16", 2.0**-9), ("float32", 2.0**-12))):
        weight = 1.0
        for _ in range(1000):
            weight = round_to(name, weight + update)
        assert row == f"torch.{name:9} 1 + 1000 updates of {update:.3e}: {weight:.6f} (exact: {1 + 1000 * update:.6f})"
    # Half the gap above 1 is u: 2**-11 for float16 and 2**-8 for bfloat16; the updates are below them.
    assert 2.0**-12 < limits("float16")["eps"] / 2 and 2.0**-9 < limits("bfloat16")["eps"] / 2


def test_concept_table_numbers():
    text = prose("concept")
    for name, eps, tiny, subnormal, largest in (
            ("float32", "2⁻²³", "2⁻¹²⁶ ≈ 1.1755·10⁻³⁸", "2⁻¹⁴⁹ ≈ 1.4013·10⁻⁴⁵", "(2 − 2⁻²³)·2¹²⁷ ≈ 3.4028·10³⁸"),
            ("float16", "2⁻¹⁰ ≈ 9.7656·10⁻⁴", "2⁻¹⁴ ≈ 6.1035·10⁻⁵", "2⁻²⁴ ≈ 5.9605·10⁻⁸", "(2 − 2⁻¹⁰)·2¹⁵ = 65504"),
            ("bfloat16", "2⁻⁷ = 0.0078125", "2⁻¹²⁶ ≈ 1.1755·10⁻³⁸", "2⁻¹³³ ≈ 9.1835·10⁻⁴¹", "(2 − 2⁻⁷)·2¹²⁷ ≈ 3.3895·10³⁸")):
        m, e = LAYOUTS[name]
        assert f"| {name} | {1 + e + m} | {e} | {m} | {2 ** (e - 1) - 1} |" in text
        assert eps in text and tiny in text and subnormal in text and largest in text
        values = limits(name)
        for shown, key in ((tiny, "tiny"), (subnormal, "subnormal"), (largest, "max")):
            if "≈" in shown:
                mantissa, exponent = shown.split("≈ ")[1].split("·10")
                exponent = int(exponent.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))
                assert f"{values[key]:.4e}" == f"{mantissa}e{exponent:+03d}", (name, key)
    assert f"{2**-10:.4e}" == "9.7656e-04" and 2.0**-7 == 0.0078125
    assert "u₁₆** = 2⁻¹¹ ≈ 4.88·10⁻⁴" in text and f"{2**-11:.2e}" == "4.88e-04"
    assert "u_bf16** = 2⁻⁸ ≈ 3.9·10⁻³" in text and f"{2**-8:.1e}" == "3.9e-03"
    assert "2⁻²⁵ ≈ 2.98·10⁻⁸" in text and f"{2**-25:.2e}" == "2.98e-08"
    assert "2⁻⁵ ≈ 3 % at $|g| = 2^{-20}$" in text and 2**-25 / 2**-20 == 2**-5
    # The top: spacing 32 in [2**15, 2**16), max 65504 with an odd last bit, the midpoint 65520 a tie that goes to inf.
    assert 2.0 ** (15 - 10) == 32 and 65504 + 16 == 65520 and (65504 // 32) % 2 == 1
    assert round_to("float16", 65519.0) == 65504 and round_to("float16", 65520.0) == math.inf


def test_float16_underflow_rounds_to_zero_and_keeps_the_subnormals():
    """No flush-to-zero mode: the smallest subnormal survives a cast and a product, and 2**-25 rounds (ties to even)."""
    smallest = torch.tensor(2.0**-24).half()
    assert smallest.item() == 2.0**-24 and (smallest * torch.tensor(1.0, dtype=torch.float16)).item() == 2.0**-24
    assert torch.tensor(2.0**-25).half().item() == 0.0 and torch.tensor(1.5 * 2.0**-25).half().item() == 2.0**-24
    for cell in solution_cells(ID).values():  # the one mention says that this mode is not what happens
        assert "flush" not in cell.source.replace("no hardware *flush-to-zero* mode is", ""), cell.id


def test_autocast_keeps_an_elementwise_product_in_float32():
    w, x = torch.ones(4), torch.full((4,), 2.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        elementwise, matrix_product = w * x, w.reshape(1, 4) @ x.reshape(4, 1)
    assert elementwise.dtype == torch.float32 and matrix_product.dtype == torch.bfloat16
    assert "as autocast would do it" not in solution_cells(ID)["model"].source
    assert "stays float32 under it" in solution_cells(ID)["concept"].source


def test_binade_is_defined_where_it_is_first_used():
    cells = [cell for cell in solution_cells(ID).values() if cell.cell_type == "markdown" and "binade" in cell.source]
    assert cells[0].id == "concept" and "a binade is the range $[2^e, 2^{e+1})$" in cells[0].source


def test_the_residuals_are_the_same_bits_on_every_cpu_path():
    """The model cell takes 2**e in float64 and rounds once (a float32 uniform_ or ** rounds differently on other
    vector paths): torch's float64 power, rounded, is the power Python's math computes, rounded, for every draw."""
    source = solution_cells(ID)["model"].source
    assert "exponents = -20 + 18.5 * torch.rand(n, generator=generator).double()" in source
    assert "residuals = residual_signs * (2**exponents).float()" in source
    by_torch = (2 ** torch.tensor(_exponents, dtype=torch.float64)).float()
    assert torch.equal(by_torch, torch.tensor(_magnitudes, dtype=torch.float64).float())
