"""04_mlp_nan_diagnosis: every recorded number against float64 closed forms and IEEE 754 rounding rules.

The weights are the notebook's data (torch.rand after seeding with 0); everything computed from them here
uses numpy in float64 and hand-derived gradients, never autograd.
"""

import math
import re

import numpy as np
import torch

from recorded import assert_tensor_text, parse_tensor, recorded_stdout, recorded_value, solution_cells

ID = "04_mlp_nan_diagnosis"
PRINTED_TENSOR = re.compile(r"^([^\n]+?) = (tensor\([^)]*\))$", re.MULTILINE)
LECTURE_Z1 = "[79.9966, 78.2017]"  # the lecture's only printed pre-activation (its W2, b2 and z2 were never printed)


def seeded_weights():
    """The notebook's four torch.rand draws after setup_notebook() (seed 0), as float64 arrays."""
    torch.manual_seed(0)
    shapes = {"W1": (2, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    return {name: torch.rand(*shape).double().numpy() for name, shape in shapes.items()}


W = seeded_weights()
X = np.array([np.float32(3.9), 90.0])  # the float32 input, exactly


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(x):
    z1 = x @ W["W1"] + W["b1"]
    o1 = np.maximum(z1, 0)
    z2 = o1 @ W["W2"] + W["b2"]
    return z1, o1, z2


def bce_gradients(x, dloss_dz2):
    """Backpropagation by hand through z2 = relu(x W1 + b1) W2 + b2, given dL/dz2."""
    z1, o1, _ = forward(x)
    dloss_dz1 = (W["W2"][:, 0] * dloss_dz2) * (z1 > 0)
    return {"W1": np.outer(x, dloss_dz1), "b1": dloss_dz1, "W2": o1[:, None] * dloss_dz2, "b2": np.array([dloss_dz2])}


def printed_tensors(text):
    """name -> tensor text for every 'name = tensor(...)' the cell printed."""
    return {name: tensor for name, tensor in PRINTED_TENSOR.findall(text)}


def test_reproduction_saturates_and_gives_inf_loss_and_nan_gradients():
    z1, _, z2 = forward(X)
    assert recorded_value(ID, "reproduce-hidden-layer") == "tensor([10.2058, 15.5129], grad_fn=<AddBackward0>)"
    assert_tensor_text(recorded_value(ID, "reproduce-hidden-layer").replace(", grad_fn=<AddBackward0>", ""), z1)
    # 1 - sigmoid(z2) below half the float32 spacing under 1 (2**-25): sigmoid(z2) must round to exactly 1.
    assert math.exp(-z2[0]) < 2**-25
    assert recorded_value(ID, "reproduce-output") == "tensor([1.], grad_fn=<SigmoidBackward0>)"
    assert recorded_value(ID, "reproduce-loss") == "tensor([inf], grad_fn=<NegBackward0>)"
    grads = printed_tensors(recorded_stdout(ID, "reproduce-backward"))
    assert set(grads) == {"W1.grad", "b1.grad", "W2.grad", "b2.grad"}
    assert all(torch.isnan(parse_tensor(text)).all() for text in grads.values())


def test_sigmoid_facts():
    _, _, z2 = forward(X)
    lines = recorded_stdout(ID, "why-sigmoid").splitlines()
    assert_tensor_text(lines[0].removeprefix("z2 = "), z2)
    assert lines[1] == "sigmoid(z2) == 1.0 exactly in float32: True"
    distance = math.exp(-z2[0]) / (1 + math.exp(-z2[0]))
    assert lines[2] == f"1 - sigmoid(z2) in float64: {distance:.4e}"


def test_float32_spacing_around_one():
    # 24-bit significand: spacing 2**-23 in [1, 2), 2**-24 in [1/2, 1); 1e-8 < 2**-25 rounds to 1.
    below_one = 1 - 2**-24
    assert recorded_stdout(ID, "why-spacing") == (
        f"largest float32 below 1: tensor(1.0000) = {below_one!r}\n"
        f"finfo(float32).eps (spacing above 1): {2**-23!r} == 2**-23: True\n"
        f"spacing below 1: {2**-24!r} == eps/2 == 2**-24: True\n"
        f"half the spacing below 1, 2**-25: {2**-25!r}  1e-8 is smaller: True\n"
        "1 - 1e-8 in float32: 1.0\n")
    assert 1e-8 < 2**-25


def test_clamp_does_nothing_and_backward_is_inf_times_zero():
    _, _, z2 = forward(X)
    with np.errstate(divide="ignore", invalid="ignore"):
        one = np.float32(1)
        inverse = one / (one - one)
        sigmoid_slope = one * (one - one)
        product = inverse * sigmoid_slope
    assert (inverse, sigmoid_slope) == (np.inf, 0) and np.isnan(product)
    exact = repr(torch.tensor([sigmoid(z2[0])], dtype=torch.float64))
    assert recorded_stdout(ID, "why-backward") == (
        "clamp changed o2: False\n"
        "log(1 - p) = tensor([-inf])\n"
        "dL/dp   = tensor([inf])\n"
        "dp/dz2  = tensor([0.])\n"
        "product = tensor([nan])\n"
        f"exact dL/dz2 = sigmoid(z2) in float64: {exact}\n")


def float32_saturation_threshold():
    """The first float32 z with 1/(1 + e^-z) == 1 in float32: e^-z <= 2**-24 (half the spacing above 1), z >= 24 ln 2."""
    threshold = np.float32(24 * math.log(2))
    if threshold < 24 * math.log(2):
        threshold = np.nextafter(threshold, np.float32(np.inf))
    assert np.nextafter(threshold, np.float32(0)) < 24 * math.log(2) <= threshold  # the first float32 past 24 ln 2
    return threshold


def test_float32_sigmoid_saturation_threshold_is_24_ln_2():
    threshold = float32_saturation_threshold()
    assert recorded_stdout(ID, "why-figure") == f"float32 sigmoid is exactly 1.0 from z = {threshold:.6f} on: True\n"


def markdown_text():
    return "\n".join(cell.source for cell in solution_cells(ID).values() if cell.cell_type == "markdown")


def test_seed0_numbers_are_the_courses_and_the_lectures_z2_is_only_bounded():
    # The lecture's z1 is not the seeded one, so its z2 is not ours: every clause quoting our z2 = 19.36 says it is
    # the seed-0 run and none credits it to the lecture. The lecture's o2 printed `1.`, so its z2 >= the threshold.
    assert LECTURE_Z1 in solution_cells(ID)["reproduce-intro"].source
    assert LECTURE_Z1 not in recorded_value(ID, "reproduce-hidden-layer")
    _, _, z2 = forward(X)
    assert f"{z2[0]:.2f}" == "19.36"
    clauses = [clause for clause in re.split(r"(?<=[.;,:])\s+", markdown_text()) if "19.36" in clause]
    assert len(clauses) >= 3
    for clause in clauses:
        assert "seed" in clause and "lecture" not in clause, clause
    bound = f"{float32_saturation_threshold():.2f}"
    assert markdown_text().count(f"lecture's $z_2$ was at least ${bound}$") == 2
    assert f"had $z_2 \\ge {bound}$" in solution_cells(ID)["summary"].source


def test_exercise_3_states_the_slopes_autograd_gives_at_the_kink():
    # Measured, not one-sided: abs uses sign(0) = 0, clamp passes the gradient at its bound, maximum splits a tie.
    ways = {"torch.abs": torch.abs, "torch.clamp(z, min=0)": lambda z: torch.clamp(z, min=0), "torch.relu": torch.relu,
            "torch.maximum(z, torch.zeros_like(z))": lambda z: torch.maximum(z, torch.zeros_like(z))}
    prompt = solution_cells(ID)["ex3_prompt"].source
    stated = dict(re.findall(r"`(torch\.[^`]+)` has (?:slope )?([0-9.]+)", prompt))
    assert stated.keys() == ways.keys()
    for name, function in ways.items():
        zero = torch.zeros((), dtype=torch.float64, requires_grad=True)
        function(zero).backward()
        assert zero.grad.item() == float(stated[name]), name
    assert "one-sided" not in prompt
    assert r"\sigma(0) - y = \tfrac12 - y" in prompt and sigmoid(0.0) == 0.5


def test_machine_epsilon_and_unit_roundoff_symbols():
    # eps_32 = 2**-23 is the gap above 1 (finfo.eps), u_32 = 2**-24 the gap below 1; never the other way round.
    text = markdown_text()
    below_one = torch.nextafter(torch.tensor(1.0), torch.tensor(0.0)).item()
    exponents = {"\\varepsilon_{32}": math.log2(torch.finfo(torch.float32).eps), "u_{32}": math.log2(1 - below_one)}
    assert exponents == {"\\varepsilon_{32}": -23, "u_{32}": -24}
    for symbol, exponent in exponents.items():
        stated = re.findall(re.escape(symbol) + r" = 2\^\{(-\d+)\}", text)
        assert stated and all(int(value) == exponent for value in stated), (symbol, stated)
    assert "u_{32}/2 = 1 - 2^{-25}" in text and "2^{-25} = u_{32}/2" in text


def test_pitfall_states_each_dtypes_significand_bits():
    stated = re.search(r"float64 has \$p = (\d+)\$, float32 \$(\d+)\$, float16 \$(\d+)\$ and bfloat16 only \$(\d+)\$",
                       solution_cells(ID)["pitfall-dtype"].source)
    dtypes = (torch.float64, torch.float32, torch.float16, torch.bfloat16)
    assert [int(bits) for bits in stated.groups()] == [1 - round(math.log2(torch.finfo(dtype).eps)) for dtype in dtypes]


def test_every_gradient_check_and_hook_trace():
    assert recorded_stdout(ID, "diagnose-isfinite") == "".join(
        f"{name}: any nan True, all finite False\n" for name in ("W1", "b1", "W2", "b2"))
    # Backward from L = -(y log p + (1 - y) log(1 - p)), y = 0, p = 1: -1, then -1/(1 - p) = -inf, -(-inf) = inf
    # (plus -y/p = -0 from the first term), the clamp and sigmoid inputs: inf, inf * p(1 - p) = inf * 0 = nan, then nan.
    assert recorded_stdout(ID, "diagnose-hooks") == (
        "dL/d[log(1 - p)] = tensor([-1.])\n"
        "dL/d[1 - p] = tensor([-inf])\n"
        "dL/d[p] = tensor([inf])\n"
        "dL/d[o2] = tensor([inf])\n"
        "dL/d[z2] = tensor([nan])\n"
        "dL/d[o1] = tensor([nan, nan])\n"
        "dL/d[z1] = tensor([nan, nan])\n"
        "first non-finite gradient at: 1 - p\n"
        "first nan gradient at: z2\n")


def test_detect_anomaly_output_is_stable_text():
    assert recorded_stdout(ID, "diagnose-anomaly") == (
        "RuntimeError: Function 'SigmoidBackward0' returned nan values in its 0th output.\n"
        "Error detected in SigmoidBackward0.\n"
        "forward line: steps[\"o2\"] = torch.sigmoid(steps[\"z2\"])\n")


def test_fix_eps_caps_the_loss_and_zeroes_the_gradient():
    stdout = recorded_stdout(ID, "fix-eps")
    assert stdout.startswith("upper bound 1 - eps32 is below 1 in float32: True\n")
    printed = printed_tensors(stdout)
    # p = 1 is clamped to 1 - 2**-23 exactly, so L = -log(2**-23); outside the clamp range its slope is 0.
    assert_tensor_text(printed["loss"], [23 * math.log(2)])
    for name, shape in (("W1", (2, 2)), ("b1", (2,)), ("W2", (2, 1)), ("b2", (1,))):
        assert_tensor_text(printed[f"{name}.grad"], np.zeros(shape))
    assert stdout.endswith("every gradient finite: True\n")


def test_fix_logits_matches_the_closed_form_gradient():
    _, _, z2 = forward(X)
    stdout = recorded_stdout(ID, "fix-logits")
    printed = printed_tensors(stdout)
    softplus = z2[0] + math.log1p(math.exp(-z2[0]))  # log(1 + e^z) - y z with y = 0
    assert_tensor_text(printed["loss"], softplus)
    assert_tensor_text(printed["float64 loss"], [softplus])
    expected = bce_gradients(X, sigmoid(z2[0]))  # dL/dz2 = sigmoid(z2) - y
    for name, grad in expected.items():
        assert_tensor_text(printed[f"{name}.grad"], grad)
    assert_tensor_text(printed["float64 W1.grad"], expected["W1"])
    assert "every gradient finite: True\n" in stdout
    assert stdout.endswith("float32 logit-space gradients match float64 to 1e-6: True\n")


def test_fix_scaled_inputs_gives_moderate_logit_and_useful_gradients():
    scaled = np.array([np.float32(np.float32(3.9) / np.float32(100)), np.float32(0.9)], dtype=np.float64)
    _, _, z2 = forward(scaled)
    p = sigmoid(z2[0])
    assert 1e-8 < p < 1 - 1e-8  # the clamp is inactive, so the plain formulas hold
    stdout = recorded_stdout(ID, "fix-scale")
    printed = printed_tensors(stdout)
    assert_tensor_text(printed["z2"], z2)
    assert_tensor_text(printed["loss"], [-math.log(1 - p)])
    for name, grad in bce_gradients(scaled, p).items():
        assert_tensor_text(printed[f"{name}.grad"], grad)
    assert stdout.endswith("every gradient finite: True\n")


def test_nan_pitfall():
    stdout = recorded_stdout(ID, "pitfall-nan")
    head, stepped = stdout.split("W1 after one SGD step: ", 1)
    assert head == "nan == nan: False\n(W1.grad == nan).any(): False\ntorch.isnan(W1.grad).all(): True\n"
    assert torch.isnan(parse_tensor(stepped.strip())).all()


def test_eps_table_follows_the_significand_width():
    # 1 - eps < 1 after rounding to a p-bit significand iff eps > 2**-(p + 1), half the spacing 2**-p below 1.
    significand_bits = {"torch.float64": 53, "torch.float32": 24, "torch.float16": 11, "torch.bfloat16": 8}
    expected = ""
    for dtype, bits in significand_bits.items():
        machine_eps = 2.0 ** (1 - bits)
        cells = ", ".join(f"{eps:.3e}: {eps > 2.0 ** -(bits + 1)}" for eps in (1e-8, 1e-4, machine_eps))
        expected += f"{dtype:15} finfo.eps = {machine_eps:.3e}   1 - eps < 1 for eps = {cells}\n"
    assert recorded_stdout(ID, "pitfall-dtype-table") == expected


def test_terms_link_to_the_glossary_where_first_used():
    markdown = [cell.source for cell in solution_cells(ID).values() if cell.cell_type == "markdown"]
    first_logit = next(text for text in markdown if re.search(r"\blogit\b", text))
    assert "[logit](../index.ipynb#Glossary)" in first_logit
    first_leaf = next(text for text in markdown if re.search(r"\bleaf\b|\[leaves\]", text))
    assert "[leaves](../index.ipynb#Glossary)" in first_leaf
