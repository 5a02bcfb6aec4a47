"""07_graph_anatomy: every recorded number, graph and message against independent computations.

Numbers come from closed forms in float64 (the chain rule for e^sin(x²), σ and its derivatives for the perceptron,
d/dx of x², x³, x + 1) and from a NumPy re-implementation of the training loop with the gradient derived by hand.
Graph listings come from the formulas the notebook writes, one node per recorded operation.
"""

import ast
import math
import re

import numpy as np
import torch

from autograd_course.exercises.graph_anatomy import gradient_descent_float64
from recorded import (assert_recorded_tensor, assert_tensor_text, printed_by_torch, recorded_error, recorded_stdout,
                      solution_cells)

ID = "07_graph_anatomy"
X_CHAIN = float(torch.tensor(5.47))    # the float32 value of the notebook's leaf
X_PERCEPTRON = float(torch.tensor(6.7))


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def test_chain_graph_and_gradient():
    u = math.exp(math.sin(X_CHAIN**2))
    stdout = recorded_stdout(ID, "example-chain")
    first_line, *walk = stdout.splitlines()
    assert_tensor_text(first_line.removeprefix("u = "), u)
    # u = exp(sin(x**2)): one node per operation, outermost first, then the leaf's accumulator.
    assert walk == [
        "    ExpBackward0.next_functions = [('SinBackward0', 0)]",
        "    SinBackward0.next_functions = [('PowBackward0', 0)]",
        "    PowBackward0.next_functions = [('AccumulateGrad', 0)]",
        "  AccumulateGrad.next_functions = []",
    ]
    assert recorded_stdout(ID, "example-chain-backward") == "AccumulateGrad holds x: True\n"
    assert_recorded_tensor(ID, "example-chain-backward", u * math.cos(X_CHAIN**2) * 2 * X_CHAIN)


def test_perceptron_graph_listing():
    # loss = -(y*log p + (1-y)*log(1-p)), p = sigmoid(x*w + b): 10 operations on tracked tensors + 2 leaf accumulators;
    # 1 - y involves constants only and is not recorded. Breadth-first from Neg, in next_functions order.
    listing = [
        ("NegBackward0", "[('AddBackward0', 0)]"),
        ("AddBackward0", "[('MulBackward0', 0), ('MulBackward0', 0)]"),
        ("MulBackward0", "[(None, 0), ('LogBackward0', 0)]"),   # y * log p
        ("MulBackward0", "[(None, 0), ('LogBackward0', 0)]"),   # (1 - y) * log(1 - p)
        ("LogBackward0", "[('SigmoidBackward0', 0)]"),
        ("LogBackward0", "[('RsubBackward1', 0)]"),
        ("SigmoidBackward0", "[('AddBackward0', 0)]"),
        ("RsubBackward1", "[('SigmoidBackward0', 0)]"),         # 1 - p
        ("AddBackward0", "[('MulBackward0', 0), ('AccumulateGrad', 0)]"),
        ("MulBackward0", "[(None, 0), ('AccumulateGrad', 0)]"),  # x * w
        ("AccumulateGrad", "[]"),
        ("AccumulateGrad", "[]"),
    ]
    edges = sum(len(ast.literal_eval(children)) for _, children in listing)
    nones = sum(children.count("None") for _, children in listing)
    expected = f"{len(listing)} nodes, {edges} edges, {nones} of them to None\n"
    expected += "".join(f"{name:>16} -> {children}\n" for name, children in listing)
    assert recorded_stdout(ID, "example-dag") == expected


def test_figure_is_a_single_image():
    for cell_id in ("example-figure", "ex2_buggy_figure"):
        outputs = solution_cells(ID)[cell_id].outputs
        assert [out.output_type for out in outputs] == ["display_data"]
        assert "image/png" in outputs[0].data


def test_perceptron_gradients():
    p = sigmoid(X_PERCEPTRON)
    lines = recorded_stdout(ID, "example-dag-backward").splitlines()
    w_grad, b_grad = re.fullmatch(r"w\.grad = (.+) \| b\.grad = (.+)", lines[0]).groups()
    assert_tensor_text(w_grad, p * X_PERCEPTRON)
    assert_tensor_text(b_grad, p)
    product, p_shown = re.fullmatch(r"p \* x  = (.+) \| p      = (.+)", lines[1]).groups()
    assert_tensor_text(product, p * X_PERCEPTRON)
    assert_tensor_text(p_shown, p)


def test_leaves_and_the_non_leaf_warning():
    lines = recorded_stdout(ID, "example-leaf").splitlines()
    assert lines[0] == "   x: is_leaf=True  requires_grad=False grad=None"
    assert lines[1] == f"   w: is_leaf=True  requires_grad=True  grad={printed_by_torch(sigmoid(X_PERCEPTRON) * X_PERCEPTRON)}"
    for name, line in zip(("z", "p", "loss"), lines[2:5]):
        assert line == f"{name:>4}: is_leaf=False requires_grad=True  grad=None"
    assert lines[5] == "3 warnings, one per non-leaf; the message of each:"
    message = " ".join(lines[6:])
    assert message.startswith("UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is being accessed.")
    assert "use .retain_grad() on the non-leaf Tensor" in message and "Triggered internally" not in message


def test_retain_grad_values_and_the_float32_cancellation():
    first, second = recorded_stdout(ID, "example-retain").splitlines()
    z_grad, b_grad = re.fullmatch(r"z\.grad = (.+) \| b\.grad = (.+)", first).groups()
    assert_tensor_text(z_grad, sigmoid(X_PERCEPTRON))  # dL/dz = p - y with y = 0
    assert_tensor_text(b_grad, sigmoid(X_PERCEPTRON))
    p_grad, p_float32 = re.fullmatch(r"p\.grad = (.+) \| p = (.+)", second).groups()
    p_float32 = float(p_float32)
    # The stored p is a float32 within about one spacing (2**-24 just below 1) of the exact sigmoid...
    spacing = 2.0**-24
    offset = (p_float32 - sigmoid(X_PERCEPTRON)) / spacing
    assert float(np.float32(p_float32)) == p_float32 and -1.5 < offset < -0.5
    # ...autograd's dL/dp = 1/(1 - p) is exact for that p...
    assert_tensor_text(p_grad, 1.0 / (1.0 - p_float32))
    # ...and differs from the exact 1 + e^6.7 by the relative error the notebook explains.
    exact = 1.0 + math.exp(X_PERCEPTRON)
    assert f"{exact:.4f}" == "813.4057"
    relative = abs(1.0 / (1.0 - p_float32) - exact) / exact
    assert 5.0e-5 < relative < 5.8e-5


def test_accumulation():
    x = 3.0
    expected = [("two passes through x**2:       ", 2 * x + 2 * x),
                ("x**2, then x**3:               ", 2 * x + 3 * x**2),
                ("one pass through x**2 + x**3:  ", 2 * x + 3 * x**2)]
    assert recorded_stdout(ID, "example-accumulate") == "".join(
        f"{label} {printed_by_torch(value)}\n" for label, value in expected)


def test_second_backward_and_retain_graph():
    assert recorded_error(ID, "example-second-backward").startswith(
        "RuntimeError: Trying to backward through the graph a second time")
    assert_recorded_tensor(ID, "example-retain-graph", 2 * (2 * 3.0))


def buggy_gradient_descent(x, y, lr, steps):
    """train_without_zeroing in float64: every update uses the sum of all gradients so far."""
    w = b = 0.0
    sum_w = sum_b = 0.0
    losses = []
    for _ in range(steps):
        residual = w * x + b - y
        losses.append(float(np.mean(residual**2)))
        sum_w += 2 * np.mean(residual * x)
        sum_b += 2 * np.mean(residual)
        w, b = w - lr * sum_w, b - lr * sum_b
    return w, b, losses


def test_buggy_training_loop():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    w, b, losses = buggy_gradient_descent(x, 2 * x + 1, lr=0.05, steps=60)
    first, second = recorded_stdout(ID, "ex2_buggy").splitlines()
    printed = ast.literal_eval(first.removeprefix("loss at steps 50 to 59: "))
    assert len(printed) == 10 and np.allclose(printed, losses[50:], rtol=0, atol=0.005 + 1e-4)
    assert second == f"after 60 steps: w = {w:.4f}, b = {b:.4f} (the data lie on w = 2, b = 1)"


def test_why_the_buggy_loop_orbits():
    """Section 5.1's curvatures: eigenvalues of the Hessian of mean((w x + b - y)^2), which is 2 [[mean x², mean x], [mean x, 1]]."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    hessian = 2 * np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1.0]])
    steep, flat = sorted(np.linalg.eigvalsh(hessian), reverse=True)
    text = solution_cells(ID)["pitfalls"].source
    assert r"\begin{pmatrix} %g & %g \\ %g & %g \end{pmatrix}" % tuple(hessian.flat) in text
    assert f"curvatures ${steep:.1f}$ and ${flat:.2f}$" in text
    assert f"$\\eta\\lambda = {0.05 * steep:.2f}$ and ${0.05 * flat:.3f}$" in text
    assert 0 < 0.05 * flat < 0.05 * steep < 4  # both modes oscillate with constant amplitude


def test_ex2_references_replay_the_loop_and_its_mistakes():
    """ex2's references (the correct loop and the mistakes its hints name, in the notebook's checks) against
    independent NumPy loops."""
    reference = gradient_descent_float64
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = 2 * x + 1
    w = b = 0.0
    losses = []
    for _ in range(60):
        residual = w * x + b - y
        losses.append(float(np.mean(residual**2)))
        w, b = w - 0.05 * 2 * np.mean(residual * x), b - 0.05 * 2 * np.mean(residual)
    as_tensor = torch.tensor
    got_w, got_b, got_losses = reference(as_tensor(x), as_tensor(y), 0.05, 60)
    assert np.allclose(got_losses, losses, rtol=1e-12) and np.allclose([got_w, got_b], [w, b], rtol=1e-12)
    got_w, got_b, got_losses = reference(as_tensor(x), as_tensor(y), 0.05, 60, reset_w=False, reset_b=False)
    assert np.allclose([got_w, got_b, *got_losses], [*buggy_gradient_descent(x, y, 0.05, 60)[:2],
                                                      *buggy_gradient_descent(x, y, 0.05, 60)[2]], rtol=1e-12)
    *_, after_update = reference(as_tensor(x), as_tensor(y), 0.05, 60, loss_after_update=True)
    assert np.allclose(after_update[:-1], losses[1:], rtol=1e-12)


def test_pitfalls():
    assert recorded_stdout(ID, "pitfall-non-leaf-parameter") == (
        "(randn * 0.1).requires_grad_()   is_leaf=True  has a .grad: True  warnings: 0\n"
        "randn(requires_grad=True) * 0.1  is_leaf=False has a .grad: False warnings: 1\n")
    assert_recorded_tensor(ID, "pitfall-no-saved-tensors", 1.0 + 1.0)
    assert recorded_error(ID, "pitfall-inplace-leaf") == (
        "RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.")


def test_summary_names_the_next_notebook():
    assert "08" in solution_cells(ID)["summary"].source.strip().splitlines()[-1]


def test_an_optimizer_refuses_a_non_leaf_parameter():
    """Pitfall 5.2 records what torch.optim does with a non-leaf: it raises when built, it does not silently skip it."""
    try:
        torch.optim.SGD([torch.randn(3, requires_grad=True) * 0.1], lr=0.1)
    except ValueError as error:
        refusal = f"ValueError: {error}"
    assert refusal == "ValueError: can't optimize a non-leaf Tensor"
    assert recorded_error(ID, "pitfall-non-leaf-optimizer") == refusal
    assert solution_cells(ID)["pitfall-non-leaf-optimizer"].source == (
        "torch.optim.SGD([torch.randn(3, requires_grad=True) * 0.1], lr=0.1)")
    assert "never update anything" not in solution_cells(ID)["pitfalls"].source


def test_backward_frees_the_saved_reference_not_the_leaf():
    """Between the two backward() calls of 3.5 the leaf x is alive and intact; only PowBackward0's saved reference is gone."""
    assert recorded_stdout(ID, "example-second-backward") == (
        f"after the first backward(): x = {printed_by_torch(3.0)} | x.grad = {printed_by_torch(2 * 3.0)}\n")
    prose = solution_cells(ID)["example-retain-graph-intro"].source
    assert "freed `x`" not in prose and "freed that saved\nreference" in prose
    concept = solution_cells(ID)["concept"].source
    assert "fails when one of them needs a freed tensor" in concept and "Pitfall 5.3" in concept


def test_float32_spacing_below_one_is_the_unit_roundoff():
    below_one = 1.0 - float(np.nextafter(np.float32(1.0), np.float32(0.0)))
    assert below_one == 2.0**-24 == torch.finfo(torch.float32).eps / 2
    text = solution_cells(ID)["example-retain-float32"].source
    assert f"$u_{{32}} = 2^{{-24}} \\approx {below_one * 1e8:.2f}\\times10^{{-8}}$ apart" in text
    assert "$\\varepsilon_{32} = 2^{-23}$ just above 1" in text


def test_leaf_and_non_leaf_link_the_glossary():
    for cell_id in ("concept", "example-leaf-intro"):
        source = solution_cells(ID)[cell_id].source
        assert "(../index.ipynb#Glossary)" in source, cell_id
    assert "**non-leaves** ([glossary](../index.ipynb#Glossary))" in solution_cells(ID)["example-leaf-intro"].source


def test_an_optimizer_accepts_a_non_leaf_that_retains_its_grad_and_any_with_differentiable():
    """The prose says which parameters torch.optim checks: a leaf, or a non-leaf that retains its grad."""
    retained = torch.randn(3, requires_grad=True) * 0.1
    retained.retain_grad()
    torch.optim.SGD([retained], lr=0.1)  # no error
    torch.optim.SGD([torch.randn(3, requires_grad=True) * 0.1], lr=0.1, differentiable=True)  # no check at all
    intro = solution_cells(ID)["pitfall-non-leaf-optimizer-intro"].source
    assert "retains its grad" in intro and "differentiable=True" in intro
