"""05_disabling_grad_tracking: every recorded number and message against independent computations.

The numbers come from closed forms in float64 (y = x², dy/dx = 2x, d(x·sg(x))/dx = sg(x), d eˣ/dx = eˣ at x = 3);
the tracking states come from autograd's documented rule: a result is recorded exactly when grad mode is on
and an input requires grad.
"""

import math

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
