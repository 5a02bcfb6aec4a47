"""01_chain_rule: every recorded number against closed forms computed in float64."""

import math

import pytest
import torch

from recorded import assert_recorded_tensor, recorded_error, recorded_stdout, recorded_value, solution_cells

ID = "01_chain_rule"
X = float(torch.tensor(5.47))  # the float32 value the notebook's leaf holds


def markdown_cells(assignment_id: str) -> list[str]:
    """The notebook's prose, cell by cell, in order."""
    return [cell.source for cell in solution_cells(assignment_id).values() if cell.cell_type == "markdown"]


def test_square_gradient_is_2x():
    assert recorded_value(ID, "example-square-forward") == "tensor(9., grad_fn=<PowBackward0>)"
    assert_recorded_tensor(ID, "example-square-backward", 2 * 3.0)


def test_sin_of_square_gradient():
    exact = math.cos(X**2) * 2 * X
    assert_recorded_tensor(ID, "example-sin-autograd", exact)
    assert_recorded_tensor(ID, "example-sin-by-hand", exact)
    assert recorded_value(ID, "example-sin-autograd") == "tensor(0.8281)"


def test_exp_sin_square_gradient_and_its_factors():
    exact = math.exp(math.sin(X**2)) * math.cos(X**2) * 2 * X
    assert_recorded_tensor(ID, "example-exp-autograd", exact)
    assert_recorded_tensor(ID, "example-exp-by-hand", exact)
    assert recorded_value(ID, "example-exp-autograd") == "tensor(0.3055)"
    factors = f"dy/dx = {2 * X:.4f}, dz/dy = {math.cos(X**2):.4f}, du/dz = {math.exp(math.sin(X**2)):.4f}\n"
    assert recorded_stdout(ID, "example-exp-by-hand") == factors


def test_gradients_accumulate_then_reset():
    assert_recorded_tensor(ID, "pitfall-accumulate", 2 * (2 * 3.0))
    assert_recorded_tensor(ID, "pitfall-accumulate-fixed", 2 * 3.0)


def test_float32_value_of_5_47():
    assert recorded_value(ID, "pitfall-float32") == repr(X)


def test_a_second_backward_raises_only_when_the_graph_saved_values():
    """The pitfall's two cases, run here independently: x**2 saved x and refuses, x + 1 saved nothing and adds 1 again."""
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time") as raised:
        y.backward()
    assert recorded_error(ID, "pitfall-second-backward") == f"RuntimeError: {raised.value}"

    x = torch.tensor(3.0, requires_grad=True)
    y = x + 1
    y.backward()
    y.backward()  # no error: silently twice dy/dx
    assert x.grad.item() == 2.0
    assert_recorded_tensor(ID, "pitfall-second-backward-silent", 2.0)


def test_no_claim_that_reusing_a_graph_always_raises_or_is_always_silent():
    """Goals and pitfalls once said both; each holds for one kind of graph only."""
    prose = "\n".join(markdown_cells(ID))
    assert "reusing an old graph" not in prose
    assert "raises an error when its nodes saved values" in prose and "silently adds into `.grad` again" in prose


def test_leaf_is_defined_where_first_used_and_linked_to_the_glossary():
    first = next(text for text in markdown_cells(ID) if "leaf" in text)
    assert "**leaf**" in first and "[leaf](../index.ipynb#Glossary)" in first
