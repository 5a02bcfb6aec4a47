"""The answer-cell policy: every reference solution passes it, and each kind of tampering is named."""

import nbformat
import pytest
import torch

from autograd_course.checks import as_float64, same_value
from autograd_course.grading.assemble import is_answer
from autograd_course.grading.policy import check_answer, notebook_protected_names
from conftest import COURSE
from notebook_cells import SOLUTION_MARKER


def test_reference_solutions_pass_the_policy(assignment_id):
    notebook = nbformat.read(COURSE.source_notebook(assignment_id), as_version=4)
    protected = notebook_protected_names(notebook)
    findings = [finding for cell in notebook.cells if is_answer(cell)
                for finding in check_answer(cell.id, SOLUTION_MARKER.sub("", cell.source), protected)]
    assert findings == []


@pytest.mark.parametrize("source, rule", [
    ("import os", "imports os"),
    ("from subprocess import run", "imports from subprocess"),
    ("torch.isclose = lambda *a: True", "assigns the attribute isclose"),
    ("np.testing.assert_allclose = print", "assigns the attribute assert_allclose"),
    ("setattr(torch, 'allclose', print)", "uses setattr"),
    ("getattr(torch, 'all' + 'close')", "uses getattr"),
    ("x = torch.__dict__", "uses the attribute __dict__"),
    ("y = torch._C", "uses the attribute _C"),
    ("z = __builtins__", "uses __builtins__"),
    ("expect_close = print", "rebinds expect_close"),
    ("import math as torch", "rebinds torch"),
    ("def f():\n    global expect_close\n    expect_close = print", "declares global names"),
    ("class T(torch.Tensor):\n    pass", "subclasses torch.Tensor"),
    ("class A:\n    def __eq__(self, other):\n        return True", "defines __eq__"),
    ("torch.library.impl", "uses the attribute library"),
])
def test_tampering_is_named(source, rule):
    findings = check_answer("ex1_answer", source, {"torch", "np", "math", "expect_close"})
    assert any(rule in finding.rule for finding in findings), findings


@pytest.mark.parametrize("source", [
    "import torch\nimport numpy as np\nfrom math import pi",
    "def f(x):\n    y = torch.zeros(3)\n    y.grad = None\n    return y",
    "class Square(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
    "        ctx.save_for_backward(x)\n        ctx.scale = 2.0\n        return x * x",
    "for _ in range(3):\n    pass\nv = torch.ones(2)._version",
    "x = 1\nx += 1",
])
def test_ordinary_answers_pass(source):
    assert check_answer("ex1_answer", source, {"torch", "np", "math", "expect_close"}) == []


def test_checks_trust_only_plain_tensors_and_numbers():
    class Liar(torch.Tensor):
        pass

    assert as_float64(torch.ones(2).as_subclass(Liar)) is None
    assert as_float64(torch.nn.Parameter(torch.ones(1))).dtype == torch.float64
    assert as_float64(2.5).item() == 2.5 and as_float64(True) is None
    always_equal = type("AlwaysEqual", (), {"__eq__": lambda self, other: True})()
    assert not same_value((always_equal, "x"), (True, "x"))
    assert same_value((True, ["a", 1]), (True, ["a", 1]))
