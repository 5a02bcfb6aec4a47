"""The answer-cell policy: every reference solution passes it, each kind of tampering is named, ordinary Python
is not, and the rules students read are the rules it enforces."""

import re
import sys
import threading
import types

import functools
import math
import nbformat
import numpy
import pytest
import torch

from autograd_course.checks import as_float64, same_value
from autograd_course.grading.assemble import is_answer
from autograd_course.grading.answer_checker import answer_findings, check_answer
from autograd_course.grading.policy import (ALLOWED_IMPORTS, CODE_FROM_DATA, CONTAINER_METHODS, FORBIDDEN_BUILTINS,
                                            STUDENT_RULES, module_allowed)
from autograd_course.grading.protected import notebook_check_names, notebook_protected_names
from autograd_course.grading.reachable import reachable_names
from conftest import COURSE
from notebook_cells import SOLUTION_MARKER

PROTECTED = {"torch", "np", "math", "expect_close"}


def reference_answers(notebook) -> dict[str, str]:
    return {cell.id: SOLUTION_MARKER.sub("", cell.source) for cell in notebook.cells if is_answer(cell)}


def findings_in(assignment_id: str, **answers: str) -> list:
    """The grader's findings for the reference answers of a notebook, with some answers replaced."""
    notebook = nbformat.read(COURSE.source_notebook(assignment_id), as_version=4)
    return answer_findings(reference_answers(notebook) | answers, notebook_protected_names(notebook),
                           notebook_check_names(notebook))


def test_reference_solutions_pass_the_policy(assignment_id):
    assert findings_in(assignment_id) == []


@pytest.mark.parametrize("source, rule", [
    ("import os", "imports os"),
    ("import torch.utils.cpp_extension", "imports torch.utils.cpp_extension"),
    ("from subprocess import run", "imports from subprocess"),
    ("from torch import library", "imports library from torch"),
    ("from numpy import ctypeslib", "imports ctypeslib from numpy"),
    ("from torch import os", "imports os from torch"),
    ("from torch.nn.modules.module import inspect", "imports inspect from torch.nn.modules.module"),
    ("from torch import _C", "imports _C from torch"),
    ("from math import *", "imports * from math"),
    ("from torch import load", "imports load from torch"),
    ("torch.isclose = lambda *a: True", "assigns the attribute isclose"),
    ("np.testing.assert_allclose = print", "assigns the attribute assert_allclose"),
    ("setattr(torch, 'allclose', print)", "uses setattr"),
    ("getattr(torch, 'all' + 'close')", "uses getattr"),
    ("x = torch.__dict__", "uses the attribute __dict__"),
    ("y = torch._C", "uses the attribute _C"),
    ("z = __builtins__", "uses __builtins__"),
    ("mode = torch.overrides.TorchFunctionMode", "uses the attribute overrides"),
    ("torch.library.impl", "uses the attribute library"),
    ("build = torch.utils.cpp_extension.load_inline", "uses the attribute utils"),
    ("unpickler = torch.serialization.pickle", "uses the attribute serialization"),
    ("shell = torch.nn.modules.module.torch.os", "uses the attribute os"),
    ("c = np.ctypeslib", "uses the attribute ctypeslib"),
    ("memory = np.zeros(2).ctypes", "uses the attribute ctypes"),
    ("alias = torch\nshell = alias.ctypes", "uses the attribute ctypes"),
    ("alias = torch.nn.modules.module\nshell = alias.copy", "uses the attribute copy"),
    ("state = torch.load('answers.pt', weights_only=False)", "uses the attribute load"),
    ("fast = torch.compile(torch.sin)", "uses the attribute compile"),
    ("expect_close = print", "rebinds expect_close"),
    ("import math as torch", "rebinds torch"),
    ("expect_close.__defaults__ = (1.0,)", "uses the attribute __defaults__"),
    ("def f():\n    global expect_close\n    expect_close = print", "declares global expect_close"),
    ("expect_close[0] = print", "changes expect_close"),
    ("np.__setitem__('allclose', print)", "uses the attribute __setitem__"),
    ("cls = (1).__class__", "uses the attribute __class__"),
    ("f = (lambda: 0).__globals__", "uses the attribute __globals__"),
    ("subclasses = object.__subclasses__()", "uses the attribute __subclasses__"),
    ("code = (lambda: 0).__code__", "uses the attribute __code__"),
    ("def probe():\n    yield\ngen = probe()\nnext(gen)\nnamespace = gen.gi_frame.f_back.f_globals",
     "uses the attribute gi_frame"),
    ("def probe():\n    yield\nnamespace = probe().gi_frame.f_back.f_globals", "uses the attribute f_globals"),
    ("class T(torch.Tensor):\n    pass", "subclasses torch.Tensor"),
    ("class B(torch.nn.Buffer):\n    pass", "subclasses torch.nn.Buffer"),
    ("class B(type(torch.ones(1))):\n    pass", "subclasses type(torch.ones(1))"),
    ("class A:\n    def __eq__(self, other):\n        return True", "defines __eq__"),
    ("class A:\n    def __float__(self):\n        return 0.3055", "defines __float__"),
    ("def __add__(a, b):\n    return a", "defines __add__"),
    ("class A:\n    def f(self):\n        def __add__(other):\n            return other\n        return 1",
     "defines __add__"),
    ("m = torch\nclass A:\n    def f(self):\n        def g():\n            m.allclose = print\n        g()",
     "assigns the attribute allclose"),
    ("Liar = type('Liar', (), {'__eq__': lambda self, other: True})", "builds a class with type()"),
    ("Liar = type('Liar', (), {'__eq__': lambda self, other: True})", "names __eq__ in a string"),
    ("Liar = type('Liar', (torch.Tensor,), {})", "builds a class with type()"),
    ("make = type\nLiar = make('Liar', (), {})", "uses type other than as type(value)"),
    ("namespace = dict(__eq__=lambda self, other: True)", "passes the keyword __eq__"),
    ("def f(x: \"__import__('os')\"):\n    return x", "writes an annotation as a string"),
    ("import typing\ndef f(x: typing.List['torch']):\n    return x", "writes an annotation as a string"),
    ("import typing\nhints = typing.get_type_hints(print)", "uses the attribute get_type_hints"),
    ("from functools import singledispatch", "imports singledispatch from functools"),
    # IPython syntax is checked as the code the kernel runs
    ("%time torch.allclose = print", "assigns the attribute allclose"),
    ("%%timeit -n 2\nexpect_close = print", "rebinds expect_close"),
    ("%%time\n%config InteractiveShell.autocall = 2", "uses the magic %config"),
    ("%timeit -v expect_close torch.sin(torch.ones(1))", "uses the magic %timeit"),
    ("%matplotlib inline", "uses the magic %matplotlib"),
    ("%load_ext autoreload", "uses the magic %load_ext"),
    ("expect_close?", "uses the magic %pinfo"),
    ("!cat /etc/passwd", "uses get_ipython"),
    ("files = !ls", "uses get_ipython"),
    ("get_ipython().run_line_magic('time', 'getattr(torch, name)')", "uses getattr"),
    # raw memory, modes and classes made at run time (issue 20's routes)
    ("from numpy.lib.stride_tricks import as_strided", "imports from numpy.lib.stride_tricks"),
    ("w = np.lib.stride_tricks.as_strided(np.zeros(1), (1,), (8,))", "uses the attribute stride_tricks"),
    ("a = np.frombuffer(b'12', dtype=np.uint8)", "uses the attribute frombuffer"),
    ("from torch import from_dlpack", "imports from_dlpack from torch"),
    ("gap = id(expect_close) - torch.zeros(1).data_ptr()", "computes with a memory address (id(expect_close))"),
    ("next_one = torch.zeros(1).data_ptr() + 8", "computes with a memory address"),
    ("import dataclasses\nM = dataclasses.make_dataclass('M', [], bases=(expect_close,))", "builds a class at run time"),
    ("import dataclasses\nM = dataclasses.make_dataclass('M', [], namespace={})", "builds a class at run time"),
    ("meta = type(expect_close)", "takes the type of expect_close"),
    ("meta = type(torch.Tensor)", "takes the type of torch.Tensor"),
    ("M = type(x)('M', (), {})", "calls what type() returned"),
    ("class M(expect_close):\n    pass", "subclasses expect_close, a helper of the notebook"),
    ("class M(torch.autograd.graph.TorchDispatchMode):\n    pass", "uses the attribute TorchDispatchMode"),
    ("from torch.autograd.graph import TorchDispatchMode", "imports TorchDispatchMode from torch.autograd.graph"),
    ("name = '_' * 2 + 'globals' + '_' * 2\nleak = ('{0.' + name + '}').format(expect_close)", "calls format"),
    ("finalize = torch.nn.modules.module.weakref.finalize", "uses the attribute weakref"),
    ("class Box:\n    def __del__(self):\n        pass", "defines __del__"),
    # IPython's output and input history, and private names or keywords of others: the rule names them.
    ("last = _", "uses _, a private name no answer defines"),
    ("shown = _oh[3]", "uses _oh, a private name no answer defines"),
    ("cell = _i1", "uses _i1, a private name no answer defines"),
    ("y = torch.nn.functional.softmax(torch.ones(2), 0, _stacklevel=5)", "passes the private keyword _stacklevel"),
])
def test_tampering_is_named(source, rule):
    findings = check_answer("ex1_answer", source, PROTECTED)
    assert any(rule in finding.rule for finding in findings), findings
    assert all(finding.advice for finding in findings)


@pytest.mark.parametrize("source", [
    "import torch\nimport numpy as np\nfrom math import pi",
    "from functools import reduce\nfrom itertools import accumulate\nfrom collections import abc, defaultdict",
    "from torch import nn\nfrom torch.nn import functional as F\nclip = nn.utils.clip_grad_norm_",
    "import collections\nclip = torch.nn.utils.clip_grad_norm_\nSequence = collections.abc.Sequence",
    "def f(x):\n    y = torch.zeros(3)\n    y.grad = None\n    return y",
    "class Square(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
    "        ctx.save_for_backward(x)\n        ctx.scale = 2.0\n        return x * x",
    "class Net(torch.nn.Module):\n    pass",
    "for _ in range(3):\n    pass\nv = torch.ones(2)._version",
    "x = 1\nx += 1",
    "kind = type(torch.ones(1))",
    "def f(x: float, scale: torch.Tensor) -> torch.Tensor:\n    return x * scale",
    "calls = 0\ndef f():\n    global calls\n    calls += 1",
    "def outer():\n    seen = []\n    def inner(v):\n        nonlocal seen\n        seen = seen + [v]\n    return inner",
    "grads = {}\ngrads.__setitem__('w', torch.ones(1))\nn = grads.__len__()\nhas = grads.__contains__('w')",
    "values = [1, 2]\nfirst = values.__getitem__(0)\nit = values.__iter__()\nnxt = it.__next__()",
    "def f(t):\n    t.__delitem__(0)\n    return t",
    "copy = np.arange(3).copy()\ngap = torch.ones(2).dist(torch.zeros(2))\nmodel = torch.nn.Linear(2, 1)\nmodel.eval()",
    "text = 'the gradient is zero'",
    "leaf = torch.tensor(2.0, requires_grad=True)\ndef f(x):\n    leaf.grad = None\n    return leaf",
    "w = torch.zeros(3).requires_grad_()\nw.grad = None",
    "class Box:\n    pass\nbox = Box()\nbox.value = 3",
    # a micrograd Value: arithmetic methods, and a closure that accumulates into its method's objects
    "class Value:\n    def __init__(self, data):\n        self.data, self.grad = data, 0.0\n"
    "    def __repr__(self):\n        return f'Value({self.data})'\n"
    "    def __mul__(self, other):\n        out = Value(self.data * other.data)\n"
    "        def backward_step():\n            self.grad += other.data * out.grad\n"
    "            other.grad += self.data * out.grad\n        out.backward_step = backward_step\n        return out\n"
    "    __rmul__ = __mul__\n    def __neg__(self):\n        return self * Value(-1.0)",
    "def outer(node):\n    def inner():\n        node.grad = 0.0\n    return inner",
    # looking at values and timings, as IPython lets one
    "def f(x):\n    return torch.sin(x)\n\nf(torch.ones(1))",
    "%time f(torch.ones(1))",
    "%timeit -n 3 -r 2 -q f(torch.ones(1))",
    "%%time\ndef f(x):\n    return x * 2\ny = f(3)",
    "%%timeit -n 1 -r 1 t = torch.ones(3)\nt.sum()",
    "display(torch.ones(2))\nprint('why?')  # is it?",
    "r = 7 % 3",
    # addresses compared, not computed with; classes and formats written out
    "def order(node, seen=None):\n    seen = set() if seen is None else seen\n    if id(node) in seen:\n"
    "        return []\n    seen.add(id(node))\n    return [node]",
    "held = {}\nt = torch.ones(2)\nheld[t.untyped_storage().data_ptr()] = t\nsame = t.data_ptr() == t.view(2).data_ptr()",
    "import dataclasses\nPoint = dataclasses.make_dataclass('Point', ['x', 'y'])",
    "import collections\nPair = collections.namedtuple('Pair', ['value', 'grad'])",
    "text = '{:.3f} and {name}'.format(1.0, name='x')",
    "kind = type(torch.ones(1))\nsame = type(3) is int",
    # The answer's own _private names, and container methods defined on its own class: the rules allow both.
    "def _lift(x, _scale=1.0):\n    return torch.tensor(x) * _scale\ny = _lift(2.0, _scale=3.0)\n"
    "for _ in range(2):\n    pass\nfirst, _rest = [1, 2]\ntry:\n    pass\nexcept ValueError as _error:\n    pass",
    "import numpy as _np\nz = _np.ones(2)",
    "class Path:\n    def __init__(self, nodes):\n        self.nodes = list(nodes)\n"
    "    def __getitem__(self, i):\n        return self.nodes[i]\n    def __len__(self):\n        return len(self.nodes)\n"
    "    def __iter__(self):\n        return iter(self.nodes)\n    def __contains__(self, node):\n"
    "        return node in self.nodes\npath = Path([1, 2])\nn, first = len(path), path[0]",
])
def test_ordinary_answers_pass(source):
    assert check_answer("ex1_answer", source, PROTECTED) == []


# A correct 03 answer that counts its calls in a global of its own.
COUNTING_EX2 = """calls = 0

def gradient_with_autograd(f, point):
    global calls
    calls += 1
    leaf = torch.tensor(point, requires_grad=True)
    f(leaf).backward()
    return leaf.grad
"""
# A correct 11 answer that records gradients with a container method, and one that rebinds a name the tests use.
SETITEM_EX2 = """def first_nonfinite_layer(layers, x):
    grads = {}
    hidden = x.detach().clone().requires_grad_()
    for index, (_name, function) in enumerate(layers):
        hidden.register_hook(lambda grad, index=index: grads.__setitem__(index, grad))
        hidden = function(hidden)
    hidden.sum().backward()
    for index in reversed(range(len(layers))):
        if grads.__contains__(index) and not torch.isfinite(grads.__getitem__(index)).all():
            return layers[index][0]
    return None
"""


@pytest.mark.parametrize("source", [
    "t = torch\nt.allclose = None",
    "t = (lambda m: m)(torch)\nt.allclose = None",
    "leaf = torch.tensor(1.0)\nleaf = torch\nleaf.allclose = None",
    "leaf = torch.tensor(1.0)\ndef rebind():\n    global leaf\n    leaf = torch\nleaf.allclose = None",
])
def test_only_objects_the_answer_created_may_have_attributes_set(source):
    assert [finding.rule for finding in check_answer("ex1_answer", source, PROTECTED)] == [
        "assigns the attribute allclose of an object it did not create"]


def test_a_private_helper_of_one_answer_may_be_called_in_another():
    answers = {"ex1_answer": "def _lift(x):\n    return torch.tensor(x)", "ex2_answer": "y = _lift(2.0)"}
    assert answer_findings(answers, PROTECTED) == []
    assert [finding.rule for finding in check_answer("ex2_answer", answers["ex2_answer"], PROTECTED)] == [
        "uses _lift, a private name no answer defines"]


# An 01 answer that reads the expected value from the message of the tests' own check (a float64 finite difference),
# and one that bisects on which guesses the check lets pass.
READS_THE_CHECK = """def chain_rule_derivative(x):
    try:
        check_chain_rule(lambda t: torch.tensor(0.0), x)
    except Exception as failed:
        return torch.tensor(float(str(failed).split('expected ')[1].split(',')[0]))
"""
ASKS_THE_CHECK = """def chain_rule_derivative(x, low=-100.0, high=100.0):
    for _ in range(60):
        middle = (low + high) / 2
        try:
            judge = check_chain_rule.judge
            judge({"got": torch.tensor(middle), "backward_passes": 0, "calls": ""}, x)
            return torch.tensor(middle)
        except Exception as failed:
            low, high = (middle, high) if 'got' in str(failed) else (low, middle)
    return torch.tensor(middle)
"""


def test_an_answer_may_not_use_the_tests_checks():
    for answer in (READS_THE_CHECK, ASKS_THE_CHECK):
        assert [finding.rule for finding in findings_in("01_chain_rule", ex1_answer=answer)] == [
            "uses check_chain_rule, a check of the tests"]
    # a variable of the answer's own that happens to share the name is its own
    own = "def chain_rule_derivative(x, check_chain_rule=None):\n    return torch.tensor(check_chain_rule or x)\n"
    assert findings_in("01_chain_rule", ex1_answer=own) == []
    closure = ("def chain_rule_derivative(x, check_chain_rule=1.0):\n"
               "    return torch.tensor((lambda: check_chain_rule * x)())\n")
    assert findings_in("01_chain_rule", ex1_answer=closure) == []


def test_honest_global_counter_and_setitem_are_no_findings():
    assert findings_in("03_partial_derivatives", ex2_answer=COUNTING_EX2) == []
    assert findings_in("11_debugging_gradients", ex2_answer=SETITEM_EX2) == []


def test_the_same_habits_aimed_at_the_tests_are_findings():
    global_check = "def relax():\n    global check_gradient\n    check_gradient = lambda *a, **k: None\n"
    change_helper = "check_culprit.__setitem__ = None\n"
    found = findings_in("03_partial_derivatives", ex2_answer=global_check + COUNTING_EX2)
    assert [finding.rule for finding in found] == ["declares global check_gradient, which the tests use"]
    found = findings_in("11_debugging_gradients", ex2_answer=change_helper + SETITEM_EX2)
    assert any("__setitem__" in finding.rule for finding in found), found


def test_module_attributes_are_read_from_the_modules():
    """Every public attribute of the allowed modules that holds a forbidden module is a finding, aliases included;
    the names come from the modules, not from a list."""
    names = reachable_names()
    leading_out = {name for module in (torch, numpy, math, functools, torch.nn, torch.autograd, torch.nn.modules.module)
                   for name, value in vars(module).items() if isinstance(value, types.ModuleType)
                   and not name.startswith("_") and not module_allowed(value.__name__)}
    assert leading_out <= names["module_attributes"]
    assert {"copy", "dist"} <= names["ordinary_attributes"]  # ndarray.copy, Tensor.dist: judged by their module
    assert {"os", "sys", "builtins", "importlib", "ctypes", "inspect", "library", "overrides", "utils", "ops",
            "ctypeslib", "hub", "serialization"} <= names["module_attributes"]
    assert {"Tensor", "Parameter", "Buffer"} <= names["tensor_classes"]
    assert "torch.nn.utils" in names["allowed_modules"] and "torch.utils" not in names["allowed_modules"]


def test_student_rules_state_what_the_policy_enforces():
    for name in ALLOWED_IMPORTS | FORBIDDEN_BUILTINS | CODE_FROM_DATA | CONTAINER_METHODS:
        assert f"`{name}`" in STUDENT_RULES, name
    assert all(line.startswith("- ") for line in STUDENT_RULES.splitlines())
    readme = (COURSE.root / "README.md").read_text()
    rules_point = readme.split("\n6. ", 1)[1].split("\n## ", 1)[0]
    assert re.sub(r"\s+", " ", STUDENT_RULES) in re.sub(r"\s+", " ", rules_point)


def test_checks_trust_only_plain_tensors_and_numbers():
    class Liar(torch.Tensor):
        pass

    assert as_float64(torch.ones(2).as_subclass(Liar)) is None
    assert as_float64(torch.nn.Parameter(torch.ones(1))).dtype == torch.float64
    assert as_float64(2.5).item() == 2.5 and as_float64(True) is None
    always_equal = type("AlwaysEqual", (), {"__eq__": lambda self, other: True})()
    assert not same_value((always_equal, "x"), (True, "x"))
    assert same_value((True, ["a", 1]), (True, ["a", 1]))


class CyclicWithFinalizer:
    """Garbage whose collection runs Python code: a chance for a thread switch in the middle of a parse."""

    def __init__(self):
        self.me = self

    def __del__(self):
        sum(range(50))


def test_answers_are_checked_while_other_threads_parse():
    """The grader checks answers in one thread while its grading slots parse cells in others. On CPython 3.11.7
    unserialised parses fail with "SystemError: AST constructor recursion depth mismatch" (gh-106905) within a
    few hundred rounds of this; grading.syntax makes them take turns."""
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    source = "\n".join(f"def f{n}(x):\n    return [torch.sin(x) * {n} for _ in range(3)]" for n in range(100))
    failures, findings = [], []

    def check_many():
        for _ in range(60):
            for _ in range(20):
                CyclicWithFinalizer()
            try:
                findings.append(len(check_answer("ex1_answer", source, PROTECTED)))
            except SystemError as error:
                failures.append(error)
                return

    try:
        threads = [threading.Thread(target=check_many) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    assert failures == [] and len(set(findings)) == 1 and len(findings) == 180
