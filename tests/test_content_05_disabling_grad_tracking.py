"""05_disabling_grad_tracking: every recorded number and message against independent computations.

The numbers come from closed forms in float64 (y = x², dy/dx = 2x, d(x·sg(x))/dx = sg(x), d eˣ/dx = eˣ at x = 3);
the tracking states come from autograd's documented rule: a floating-point result is recorded exactly when grad mode is on
and an input requires grad.
"""

import math
import re

import torch

from recorded import (assert_recorded_tensor, printed_by_torch, recorded_error, recorded_stdout, recorded_value,
                      solution_cells)

ID = "05_disabling_grad_tracking"
X = 3.0
NO_GRAD_FN = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"
TRACKED = "requires_grad=True, is_leaf=False, grad_fn=PowBackward0"
UNTRACKED = "requires_grad=False, is_leaf=True, grad_fn=None"
LEAF_REQUIRING_GRAD = "requires_grad=True, is_leaf=True, grad_fn=None"


def test_tracking_on_gives_2x():
    assert recorded_stdout(ID, "example-tracked") == f"x: {LEAF_REQUIRING_GRAD}\ny: {TRACKED}\n"
    assert_recorded_tensor(ID, "example-tracked", 2 * X)


def test_no_grad_records_nothing_and_leaves_x_alone():
    assert recorded_stdout(ID, "example-no-grad") == (
        f"inside the block, grad mode on: False\nx: {LEAF_REQUIRING_GRAD}\ny: {UNTRACKED}\n")
    assert recorded_value(ID, "example-no-grad") == printed_by_torch(X**2)
    assert recorded_error(ID, "example-no-grad-backward") == NO_GRAD_FN


def test_lecture_way2_error_was_not_from_requires_grad_false():
    assert recorded_stdout(ID, "example-lecture-mistake") == f"old_x.grad: {printed_by_torch(2 * X)} | new x.grad: None\n"


def test_requires_grad_false_done_right():
    assert recorded_stdout(ID, "example-requires-grad") == (
        "x: requires_grad=False, is_leaf=True, grad_fn=None\n" f"y: {UNTRACKED}\n")
    assert recorded_value(ID, "example-requires-grad") == printed_by_torch(X**2)
    assert recorded_error(ID, "example-requires-grad-backward") == NO_GRAD_FN


def test_detach_keeps_y_graph_and_shares_storage():
    assert recorded_stdout(ID, "example-detach") == f"y: {TRACKED}\nz: {UNTRACKED}\n"
    assert_recorded_tensor(ID, "example-detach", 2 * X)
    assert recorded_error(ID, "example-detach-backward") == NO_GRAD_FN
    assert recorded_stdout(ID, "example-detach-storage") == "z and y share storage: True\n"
    assert recorded_value(ID, "example-detach-storage") == f"tensor({X**2 + 1:.0f}., grad_fn=<PowBackward0>)"


def test_stop_gradient_differentiates_one_factor():
    assert recorded_stdout(ID, "example-stop-gradient") == f"x * x.detach() = {X * X}\n"
    assert_recorded_tensor(ID, "example-stop-gradient", X)  # d(x·c)/dx = c = sg(x) = 3, not 2x = 6


def test_set_grad_enabled_and_inference_mode():
    assert recorded_stdout(ID, "example-more-ways") == (
        f"set_grad_enabled(True): y: {TRACKED}\n"
        f"set_grad_enabled(False): y: {UNTRACKED}\n"
        f"y: {UNTRACKED} | inference tensor: True\n")
    assert recorded_error(ID, "example-more-ways").startswith(
        "RuntimeError: Inference tensors cannot be saved for backward.")


def test_comparison_table():
    header = (f"{'way':<30}{'requires_grad':>14}{'is_leaf':>9}{'grad_fn None':>14}{'shares storage':>16}"
              f"{'x.requires_grad':>17}  scope")
    # way: (shares storage with its source, x.requires_grad afterwards, scope)
    expected = {
        "torch.no_grad()": (False, True, "block"),
        "x.requires_grad_(False)": (False, False, "one leaf"),
        "y.detach()": (True, True, "new tensor"),
        "torch.inference_mode()": (False, True, "block, strict"),
        "torch.set_grad_enabled(False)": (False, True, "block"),
    }
    rows = [f"{way:<30}{'False':>14}{'True':>9}{'True':>14}{shares!s:>16}{x_flag!s:>17}  {scope}"
            for way, (shares, x_flag, scope) in expected.items()]
    assert recorded_stdout(ID, "example-table") == "\n".join([header, *rows]) + "\n"


def test_figure_is_a_single_image():
    outputs = solution_cells(ID)["example-figure"].outputs
    assert [out.output_type for out in outputs] == ["display_data"]
    assert "image/png" in outputs[0].data
    assert " at 0x" not in outputs[0].data.get("text/plain", "")


def test_pitfall_detach_edit_is_silent_for_pow():
    assert recorded_stdout(ID, "pitfall-silent") == (
        "PowBackward0 saved: ['_saved_exponent', '_saved_self']\n"
        f"y: tensor({X**2 + 1:.0f}., grad_fn=<PowBackward0>) | version of y: 1\n")
    assert_recorded_tensor(ID, "pitfall-silent", 2 * X)


def test_pitfall_version_counter_for_exp():
    message = recorded_error(ID, "pitfall-version-error")
    assert message.startswith("RuntimeError: one of the variables needed for gradient computation has been "
                              "modified by an inplace operation: [torch.FloatTensor []], which is output 0 of Exp, "
                              "is at version 1; expected version 0 instead.")
    assert_recorded_tensor(ID, "pitfall-version-fixed", math.exp(X))


def version_error(build, edit):
    """The message backward() raises after ``edit`` writes in place into a tensor that ``build``'s result saved."""
    x = torch.tensor(3.0, requires_grad=True)
    saved, result = build(x)
    edit(saved)
    try:
        result.backward()
    except RuntimeError as error:
        return str(error)
    raise AssertionError("backward() did not notice the in-place write")


def test_output_0_of_names_where_the_edited_tensor_came_from_not_who_saved_it():
    # exp saves its output: the producer and the saver coincide. sin saves its input: the message names the input's
    # producer (Mul), not SinBackward0; for a leaf input it names no operation.
    def detached_add(tensor):
        tensor.detach().add_(1)

    def exp_of(x):
        y = torch.exp(x)
        return y, y

    def sin_of_product(x):
        product = x * 2
        return product, torch.sin(product)

    assert "which is output 0 of Exp," in version_error(exp_of, detached_add)
    assert "which is output 0 of Mul," in version_error(sin_of_product, detached_add)
    assert "output 0 of" not in version_error(lambda x: (x, torch.sin(x)), detached_add)
    text = solution_cells(ID)["pitfall-version-intro"].source
    assert "`output 0 of Exp` says where that tensor came from" in text
    assert "`output 0 of Mul` for `torch.sin(x * 2)`" in text and "names the node that saved it" not in text


def test_the_requires_grad_equality_is_stated_for_floating_results_only():
    # argmax, comparisons and .long() give integer or bool tensors, which never require grad: they break the equality.
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert torch.is_grad_enabled() and x.requires_grad
    for result in (x.argmax(), x > 0, x.long()):
        assert not result.requires_grad and not result.dtype.is_floating_point
    assert (x * 2).requires_grad and (x * 2).dtype.is_floating_point
    concept = solution_cells(ID)["concept"].source
    assert "result is a floating-point tensor, the rule is an equality" in concept
    assert "A result of an integer or bool dtype never requires grad" in concept
    assert all(name in concept for name in ("`x.argmax()`", "`x > 0`", "`x.long()`"))


def test_pitfall_requires_grad_false_on_non_leaf():
    assert recorded_error(ID, "pitfall-non-leaf").startswith(
        "RuntimeError: you can only change requires_grad flags of leaf variables.")


def test_pitfall_switches_act_when_an_operation_runs():
    assert recorded_stdout(ID, "pitfall-timing") == (
        f"inside no_grad, x: {LEAF_REQUIRING_GRAD}\n"
        f"inside no_grad, a new leaf: {LEAF_REQUIRING_GRAD}\n"
        f"after the block, x**2: {TRACKED}\n"
        "flag switched off after the forward pass, x.grad: None\n")



def test_summary_says_this_ends_the_first_part():
    summary = solution_cells(ID)["summary"].source
    assert "last notebook of the first part" in summary and "01" in summary.strip().splitlines()[-1]


def test_terms_link_to_the_glossary_where_first_used():
    markdown = [cell.source for cell in solution_cells(ID).values() if cell.cell_type == "markdown"]
    first_leaf = next(text for text in markdown if re.search(r"(?<!is_)\bleaf\b", text))
    assert "[leaf](../index.ipynb#Glossary)" in first_leaf
    first_grad_fn = next(text for text in markdown if "`grad_fn`" in text)
    assert "](../index.ipynb#Glossary)" in first_grad_fn
