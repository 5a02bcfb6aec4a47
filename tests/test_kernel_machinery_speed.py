"""Two savings in the graded kernel that must change nothing a student or the grader sees: snapshots that do not
descend into what is volatile anyway, and tracebacks highlighted by one lexer class (no kernel needed)."""

import sys
import types

import pytest
from IPython.core.ultratb import AutoFormattedTB
from pygments.formatters import Terminal256Formatter
from stack_data import core, style_with_executing_node, utils

from autograd_course.grading import traceback_lexer
from autograd_course.grading.snapshots import differences, volatile, whole


class Shell:
    """The parts of IPython's shell the snapshot treats differently: its namespace (volatile) and a hook (not)."""

    def __init__(self):
        self._user_ns = {f"x{index}": object() for index in range(2000)}
        self.ns_table = {"user_global": self._user_ns, "builtin": {"print": print}}
        self.hooks = {"display": print}


def changes(before: dict, after: dict) -> list[str]:
    return [path for path in differences(before, after) if not volatile(path)]


def test_a_snapshot_leaves_out_the_notebooks_namespace_but_sees_every_other_change():
    shell = Shell()
    before = whole(shell)
    assert not any("x1" in map(str, path) for path in before), "the namespace is volatile: not walked"
    assert len(before) < 200
    shell._user_ns["y"] = object()
    shell._user_ns["x1"] = object()
    assert changes(before, whole(shell)) == []
    shell.hooks["display"] = repr
    shell.ns_table["builtin"]["print"] = repr
    assert changes(before, whole(shell)) == ["hooks.display", "ns_table.builtin.print"]


def test_a_volatile_name_below_the_top_is_left_out_and_its_siblings_kept():
    traits = types.SimpleNamespace(_trait_values={"last_execution_result": object(), "colors": print})
    before = whole(traits)
    assert ("instance", "_trait_values", "last_execution_result") not in before
    traits._trait_values["last_execution_result"] = object()
    assert changes(before, whole(traits)) == []
    traits._trait_values["colors"] = repr
    assert changes(before, whole(traits)) == ["_trait_values.colors"]


def second_backward_traceback() -> list[str]:
    import torch

    point = torch.ones(1, requires_grad=True)
    value = (point * point).sum()
    value.backward()
    try:
        value.backward()
    except RuntimeError:
        return AutoFormattedTB(mode="Context", theme_name="linux").structured_traceback(*sys.exc_info())
    raise AssertionError("a second backward through freed buffers raises")


@pytest.fixture
def stack_datas_own():
    original = utils._pygmented_with_ranges
    yield original
    core._pygmented_with_ranges = utils._pygmented_with_ranges = original


def test_one_lexer_class_highlights_as_stack_data_does(stack_datas_own):
    code = "def f(x):\n    return torch.exp(x) ** 2  # the executing node\n"
    formatter = Terminal256Formatter(style=style_with_executing_node("monokai", "bg:ansiyellow"))
    for ranges in ([], [(21, 33)], [(0, 3), (40, 44)]):
        assert traceback_lexer.highlighted_with_ranges(formatter, code, ranges) == \
            stack_datas_own(formatter, code, ranges)
    before = second_backward_traceback()
    traceback_lexer.install()
    assert core._pygmented_with_ranges is utils._pygmented_with_ranges is traceback_lexer.highlighted_with_ranges
    assert second_backward_traceback() == before
    assert "Trying to backward through the graph a second time" in "".join(before)
