"""Hostile and broken submissions of 01_chain_rule, each with the outcome an honest grader must record.

01_chain_rule has two exercises of 3 points: ``chain_rule_derivative`` (ex1) and
``autograd_derivative`` (ex2). Every case starts from the real student notebook with both
answers solved, then breaks or attacks it. ``{root}`` in a case is replaced by the course folder.
"""

import copy
import json
from dataclasses import dataclass
from typing import Callable

import nbformat

WRONG_EX1 = "def chain_rule_derivative(x):\n    return torch.tensor(0.0)"
HARD_CODED_EX1 = "def chain_rule_derivative(x):\n    return torch.tensor(0.3055)"  # right at 5.47 only


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable  # (solved notebook, course root) -> notebook or raw bytes
    score: float
    status: str
    reason: str = ""  # a phrase the recorded outcome (reason, notes or findings) must contain
    files: tuple[tuple[str, str], ...] = ()  # the student's own files beside the notebook: (path, text)


def cell(notebook, cell_id):
    return next(c for c in notebook.cells if c.get("id") == cell_id)


def answers(ex1: str | None = None, ex2: str | None = None, prefix1: str = "") -> Callable:
    """A builder that replaces the solved answers (keeping the correct ones where None)."""
    def build(solved, root):
        notebook = copy.deepcopy(solved)
        if ex1 is not None or prefix1:
            answer = cell(notebook, "ex1_answer")
            answer.source = prefix1.format(root=root) + (ex1 if ex1 is not None else answer.source)
        if ex2 is not None:
            cell(notebook, "ex2_answer").source = ex2
        return notebook
    return build


def edited(change: Callable) -> Callable:
    def build(solved, root):
        notebook = copy.deepcopy(solved)
        change(notebook)
        return notebook
    return build


def raw(data: bytes) -> Callable:
    return lambda solved, root: data


def _edit_test_cell(notebook):
    cell(notebook, "ex1_answer").source = WRONG_EX1
    cell(notebook, "ex1_tests").source = "pass"


def _delete_test_cells(notebook):
    notebook.cells = [c for c in notebook.cells if not c.id.endswith("_tests")]


def _duplicate_cells(notebook):
    index = notebook.cells.index(cell(notebook, "ex1_tests"))
    twin = copy.deepcopy(notebook.cells[index])
    twin.id = "ex1_tests_copy"
    notebook.cells.insert(index, twin)
    answer = cell(notebook, "ex2_answer")
    late_copy = copy.deepcopy(answer)
    late_copy.id, late_copy.source = "ex2_answer_copy", "raise RuntimeError('second copy')"
    notebook.cells.append(late_copy)


def _retype_answer(notebook):
    answer = cell(notebook, "ex1_answer")
    index = notebook.cells.index(answer)
    notebook.cells[index] = nbformat.v4.new_markdown_cell(answer.source, id="ex1_answer",
                                                          metadata=answer.metadata)


def _strip_metadata(notebook):
    for each in notebook.cells:
        each.metadata.pop("nbgrader", None)


def _wrong_kernel(notebook):
    notebook.metadata.kernelspec = {"name": "ir", "display_name": "R", "language": "R"}


def _huge_messages(notebook):
    # A 10 MB exception in the first test, a 16 MB repr shown by the second answer cell.
    cell(notebook, "ex1_answer").source = "def chain_rule_derivative(x):\n    raise ValueError('m' * 10_000_000)\n"
    cell(notebook, "ex2_answer").source += "\n'r' * 16_000_000\n"


# A right answer that prints each point it is called at: the hidden tests call it at their own points.
PRINTS_EACH_CALL = ("def chain_rule_derivative(x):\n    print('called at', x)\n    x = torch.tensor(x)\n"
                    "    return torch.exp(torch.sin(x**2)) * torch.cos(x**2) * 2 * x\n")


def _lock_bypass_in_locked_cell(notebook):
    # Edits a locked code cell to patch the checks; locked cells come from source/, so it never runs.
    cell(notebook, "setup").source += "\ncheck_chain_rule = lambda *args, **kwargs: None"
    cell(notebook, "ex1_answer").source = WRONG_EX1


ALWAYS_TRUE = "lambda *args, **kwargs: True"

# Attacks by a student who has read guard.py, policy.py and execute.py. Each passes the answer policy it was
# written against (no forbidden name, import, attribute or dunder in the answer's own code) and gets a library
# to run the rest. The payload makes every later test cell run ``pass`` instead of its checks: an input
# transformer, so that no Python function the guard snapshots is replaced.
SKIP_TESTS = ("__import__('IPython').get_ipython().input_transformer_manager.cleanup_transforms.append("
              "lambda lines: ['pass\\n'] if any('check_' in line for line in lines) else lines)")
# A pickle (protocol 0) whose only object is builtins.exec(SKIP_TESTS): no pickle module needed to write it.
PICKLED_EXEC = b"cbuiltins\nexec\n(V" + SKIP_TESTS.encode() + b"\ntR."


def hostile(attack: str) -> Callable:
    """A wrong first answer behind ``attack`` (which has no ``{root}``, so its braces are kept as they are)."""
    return answers(prefix1=attack.replace("{", "{{").replace("}", "}}"), ex1=WRONG_EX1)


def smuggled(loader: str) -> str:
    """An answer that writes the pickle into its folder, then has ``loader`` deserialize it."""
    return f"import numpy\nnumpy.frombuffer({PICKLED_EXEC!r}, dtype=numpy.uint8).tofile('payload.bin')\n{loader}\n"


def evaluated(expression: str, holder: str = "def holder(value: {annotation!r}):\n    return value\n",
              hints: str = "holder") -> str:
    """An answer that has typing evaluate ``expression`` as a string annotation, and keeps what it returns."""
    return ("import typing\n" + holder.format(annotation=expression)
            + f"evaluated = typing.get_type_hints({hints})\n")


# The guard's channel is a pipe: the attacker finds it among the kernel's descriptors (a pipe it can write to,
# past stdout and stderr) with a module that a string annotation handed back, then closes, floods or forges it.
FIND_PIPES = evaluated("__import__('os')") + (
    "os_module = evaluated['value']\n"
    "def is_pipe(descriptor):\n"
    "    try:\n"
    "        os_module.write(descriptor, b'')\n"
    "        return os_module.fstat(descriptor).st_mode & 0o170000 == 0o010000\n"
    "    except OSError:\n"
    "        return False\n"
    "pipes = [descriptor for descriptor in range(3, 256) if is_pipe(descriptor)]\n")
FORGED_RAN = b'{"body": "{\\"kind\\": \\"ran\\", \\"seq\\": 99}", "mac": "00"}\n'

# A TorchFunctionMode kept entered by a suspended generator, so it stays active across cells.
RIGGED_MODE = """from torch.overrides import TorchFunctionMode
def rigged(self, func, types, args=(), kwargs=None):
    if func is torch.allclose:
        return True
    return func(*args, **(kwargs or {}))
AlwaysClose = type('AlwaysClose', (TorchFunctionMode,), {'__torch_function__': rigged})
def keep_entered(mode):
    with mode:
        yield
held = keep_entered(AlwaysClose())
next(held)
"""
# aten's allclose replaced in torch's dispatcher: no Python function the guard snapshots changes.
REREGISTERED_ATEN = """from torch.library import Library
rigged_library = Library('aten', 'IMPL')
rigged_library.impl('allclose', lambda *args, **kwargs: True, 'CompositeExplicitAutograd')
"""

def _show_both_values(notebook):
    cell(notebook, "ex1_answer").source += "\nchain_rule_derivative(1.0)"
    cell(notebook, "ex2_answer").source += "\nautograd_derivative(torch.sin, 1.0)"


def looked_at(extra: str, before: str = "") -> Callable:
    """Both answers solved, the first one with ``before`` above it and ``extra`` under it: what a student adds to
    look at a value, a plot or a timing."""
    def build(solved, root):
        notebook = copy.deepcopy(solved)
        answer = cell(notebook, "ex1_answer")
        answer.source = before + answer.source + extra
        return notebook
    return build


# The kernel's normal behaviour in an honest answer: output history, display, the timing magics, warnings, figures.
KERNEL_AT_WORK = [
    Case("honest_shows_a_value", looked_at("\nchain_rule_derivative(1.0)\n"), 6, "graded"),
    Case("honest_shows_values_in_both", edited(_show_both_values), 6, "graded"),
    Case("honest_displays", looked_at("\ndisplay(chain_rule_derivative(1.0), chain_rule_derivative(2.0))\n"), 6,
         "graded"),
    Case("honest_times_a_line", looked_at("\n%time chain_rule_derivative(1.0)\n"), 6, "graded"),
    Case("honest_times_a_cell", looked_at("", before="%%time\n"), 6, "graded"),
    Case("honest_timeit", looked_at("\n%timeit -n 3 -r 2 chain_rule_derivative(1.0)\n"), 6, "graded"),
    Case("honest_warnings", looked_at("\nnp.log(np.zeros(1))\ntorch.tensor(torch.tensor(1.0))\n"), 6, "graded"),
    Case("honest_plots", looked_at("\nxs = torch.linspace(-2, 2, 50)\n"
                                   "plt.plot(xs, [chain_rule_derivative(float(x)) for x in xs])\nplt.show()\n"), 6,
         "graded"),
]

# Route 1 of issue 20: raw memory. A scratch array viewed with stride tricks at the distance between its own data
# and an object of the kernel reads and writes that object (here: only the view is made, nothing is written).
STRIDED_WINDOW = """from numpy.lib.stride_tricks import as_strided
scratch = np.zeros(1, dtype=np.uint8)
distance = id(expect_close) - torch.from_numpy(scratch).data_ptr()
window = as_strided(scratch, shape=(1,), strides=(max(distance, 1),))
"""
# The same through a chain of attributes, and arithmetic on a storage address alone.
STRIDED_ATTRIBUTE = "window = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(1,), strides=(8,))\n"
ADDRESS_ARITHMETIC = "neighbour = torch.zeros(1).data_ptr() + 64\n"
# Route 3: the kernel's memory map, where the hidden tests and the guard's key lie.
MAPS_BY_LOADTXT = "memory_map = np.loadtxt('/proc/self/maps', dtype=str, delimiter='\\n')\n"
MAPS_BY_FROMFILE = "memory_map = np.fromfile('/proc/self/smaps', dtype=np.uint8)\n"
# Route 2: a mode class made at run time, its __torch_function__ named by a string assembled at run time.
TORCH_FUNCTION = "'_' * 2 + 'torch_function' + '_' * 2"
DATACLASS_MODE = f"""import dataclasses
def rigged(self, func, types, args=(), kwargs=None):
    return True if func is torch.allclose else func(*args, **(kwargs or {{}}))
AlwaysClose = dataclasses.make_dataclass('AlwaysClose', [], bases=(AutogradCalls,),
                                         namespace={{{TORCH_FUNCTION}: rigged}})
"""
METACLASS_MODE = f"""def rigged(self, func, types, args=(), kwargs=None):
    return True if func is torch.allclose else func(*args, **(kwargs or {{}}))
make_class = type(check_chain_rule)
AlwaysClose = make_class('AlwaysClose', (object,), {{{TORCH_FUNCTION}: rigged}})
"""
TYPE_OF_TYPE_MODE = f"""def rigged(self, func, types, args=(), kwargs=None):
    return True if func is torch.allclose else func(*args, **(kwargs or {{}}))
AlwaysClose = type(type(expect_close))('AlwaysClose', (AutogradCalls,), {{{TORCH_FUNCTION}: rigged}})
"""
# A helper of the notebook (one of 01's checks) subclassed by a class statement, and torch's
# dispatch mode reached through torch.autograd.graph, which answers aten.allclose with True.
HELPER_SUBCLASS = "class Quiet(check_chain_rule):\n    pass\n"
DISPATCH_MODE = """class AlwaysClose(torch.autograd.graph.TorchDispatchMode):
    def dispatch(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))
"""
# A dunder name assembled at run time and read through str.format.
FORMATTED_DUNDER = "globals_of = ('{0.' + '_' * 2 + 'globals' + '_' * 2 + '}').format(expect_close)\n"
# Finalizers: a weakref.finalize reached through a module attribute, and a __del__ that would pop a mode.
WEAKREF_FINALIZER = "finalizer = torch.nn.modules.module.weakref.finalize(torch.ones(1), print)\n"
DEL_FINALIZER = "class Popper:\n    def __del__(self):\n        pass\n"

# An IPython profile in the submission's folder, which is the kernel's HOME: a startup script that makes every statement
# of every cell forgive its own exception (a failing test would report success), and a kernel config that runs a line.
FORGIVING_STARTUP = """\
import ast
class Forgive(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])
        node.body = [ast.copy_location(ast.Try(body=[statement], handlers=[handler], orelse=[], finalbody=[]),
                                       statement) for statement in node.body]
        return ast.fix_missing_locations(node)
get_ipython().ast_transformers.append(Forgive())
"""
IPYTHON_PROFILE = ((".ipython/profile_default/startup/00-forgive.py", FORGIVING_STARTUP),
                   (".ipython/profile_default/ipython_kernel_config.py",
                    "c.InteractiveShellApp.exec_lines = ['import torch; torch.allclose = lambda *a, **k: True']\n"))

CASES = [
    # honest work: these grades must not move whatever else is in the batch
    Case("honest_complete", answers(), 6, "graded"),
    Case("honest_partial", answers(ex1=WRONG_EX1), 3, "graded"),
    Case("honest_untouched", lambda solved, root: None, 0, "graded"),
    *KERNEL_AT_WORK,
    # answers that only look right
    Case("hard_coded_answer", answers(ex1=HARD_CODED_EX1), 3, "graded"),
    Case("lying_eq_object", answers(ex1="def chain_rule_derivative(x):\n    Liar = type('Liar', (), {'__eq__': "
                                        "lambda self, other: True, '__bool__': lambda self: True})\n    return Liar()"),
         0, "flagged", "names __eq__ in a string"),
    Case("tensor_subclass", answers(ex1="class Liar(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
                                        + HARD_CODED_EX1), 0, "flagged", "subclasses torch.Tensor"),
    # monkeypatching what the tests compare with
    Case("patch_torch_allclose", answers(prefix1=f"torch.allclose = {ALWAYS_TRUE}\n", ex1=WRONG_EX1), 0, "flagged",
         "allclose"),
    Case("patch_torch_isclose", answers(prefix1=f"torch.isclose = {ALWAYS_TRUE}\n", ex1=WRONG_EX1), 0, "flagged",
         "isclose"),
    Case("patch_torch_equal", answers(prefix1=f"torch.equal = {ALWAYS_TRUE}\n", ex1=WRONG_EX1), 0, "flagged",
         "equal"),
    Case("patch_assert_close", answers(prefix1=f"torch.testing.assert_close = {ALWAYS_TRUE}\n", ex1=WRONG_EX1), 0,
         "flagged", "assert_close"),
    Case("patch_math_isclose", answers(prefix1=f"math.isclose = {ALWAYS_TRUE}\n", ex1=WRONG_EX1), 0, "flagged",
         "isclose"),
    Case("patch_numpy_allclose", answers(prefix1=f"import numpy\nnumpy.allclose = {ALWAYS_TRUE}\n", ex1=WRONG_EX1),
         0, "flagged", "allclose"),
    Case("patch_through_a_parameter", answers(prefix1=f"def rig(module):\n    module.allclose = {ALWAYS_TRUE}\n"
                                                      "rig(torch)\n", ex1=WRONG_EX1), 0, "flagged", "allclose"),
    Case("patch_in_a_closure", answers(prefix1=f"def rig(module):\n    def inner():\n        module.isclose = "
                                               f"{ALWAYS_TRUE}\n    inner()\nrig(torch)\n", ex1=WRONG_EX1), 0,
         "flagged", "isclose"),
    Case("patch_via_setattr", answers(prefix1=f"setattr(torch, 'all' + 'close', {ALWAYS_TRUE})\n", ex1=WRONG_EX1),
         0, "flagged", "uses setattr"),
    Case("patch_via_exec", answers(prefix1=f"exec('torch.allclose = {ALWAYS_TRUE}')\n", ex1=WRONG_EX1), 0,
         "flagged", "uses exec"),
    Case("rebind_course_check", answers(prefix1="def check_chain_rule(*args, **kwargs):\n    return None\n",
                                        ex1=WRONG_EX1), 0, "flagged", "rebinds check_chain_rule"),
    Case("override_assertion_error", answers(prefix1="import builtins\nbuiltins.AssertionError = Warning\n",
                                             ex1=WRONG_EX1), 0, "flagged", "imports builtins"),
    Case("override_excepthook", answers(prefix1="import sys\nsys.excepthook = lambda *args: None\n", ex1=WRONG_EX1),
         0, "flagged", "imports sys"),
    Case("patch_inside_a_magic", answers(prefix1=f"%time torch.allclose = {ALWAYS_TRUE}\n", ex1=WRONG_EX1), 0,
         "flagged", "assigns the attribute allclose"),
    Case("magic_reaches_the_kernel", answers(prefix1="%config InteractiveShell.ast_node_interactivity = 'none'\n"), 0,
         "flagged", "uses the magic %config"),
    Case("silence_showtraceback", answers(prefix1="get_ipython().showtraceback = lambda *a, **k: None\n",
                                          ex1=WRONG_EX1), 0, "flagged", "uses get_ipython"),
    # editing what is not the student's to edit
    Case("edit_test_cell", edited(_edit_test_cell), 3, "graded"),
    Case("edit_locked_cell", edited(_lock_bypass_in_locked_cell), 3, "graded"),
    Case("delete_test_cells", edited(_delete_test_cells), 6, "graded"),
    Case("duplicate_cells", edited(_duplicate_cells), 6, "graded", "more than once"),
    Case("retype_answer_as_markdown", edited(_retype_answer), 3, "graded", "changed to a markdown cell"),
    Case("remove_nbgrader_metadata", edited(_strip_metadata), 6, "graded", "metadata missing"),
    Case("wrong_kernelspec", edited(_wrong_kernel), 6, "graded", "asked for kernel 'ir'"),
    Case("ipython_profile_in_the_folder", answers(ex1=WRONG_EX1), 3, "graded", files=IPYTHON_PROFILE),
    # broken files
    Case("invalid_json", raw(b'{"cells": [ {"cell_type": "code", '), 0, "rejected", "not valid notebook JSON"),
    Case("empty_file", raw(b""), 0, "rejected", "empty"),
    Case("not_a_notebook", raw(json.dumps({"hello": "world"}).encode()), 0, "rejected", "not a Jupyter notebook"),
    # resource attacks
    Case("infinite_loop", answers(prefix1="while True:\n    pass\n"), 0, "graded", "ran longer than"),
    Case("memory_bomb", answers(ex1="def chain_rule_derivative(x):\n    hoard = bytearray(2**36)\n"
                                    "    return torch.tensor(float(len(hoard)))"), 3, "graded"),
    Case("fork_bomb", answers(prefix1="import os\nwhile True:\n    os.fork()\n"), 0, "flagged", "imports os"),
    Case("exit_kernel", answers(prefix1="import os\nos._exit(0)\n"), 0, "flagged", "kernel died"),
    Case("kill_kernel", answers(prefix1="import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"), 0, "flagged",
         "imports os"),
    Case("megabytes_of_output", answers(prefix1="print('x' * 5_000_000)\n"), 6, "graded"),
    Case("megabytes_of_messages", edited(_huge_messages), 3, "graded"),
    Case("prints_while_hidden_tests_call_it", answers(ex1=PRINTS_EACH_CALL), 6, "graded"),
    Case("warnings_on_stderr", answers(prefix1="torch.tensor(torch.tensor(1.0))\n"), 6, "graded"),
    # reaching outside its folder: the sandbox hides it, the audit reports it
    Case("read_gradebook", answers(prefix1="torch.load('{root}/gradebook.db')\n"), 0, "flagged", "gradebook.db"),
    Case("write_gradebook", answers(prefix1="import numpy as np\nnp.save('{root}/gradebook.db', np.zeros(3))\n"), 0,
         "flagged", "gradebook.db"),
    Case("read_source", answers(prefix1="torch.load('{root}/source/01_chain_rule/01_chain_rule.ipynb')\n"), 0,
         "flagged", "source/01_chain_rule"),
    Case("read_other_student", answers(
        prefix1="torch.load('{root}/submitted/honest_complete/01_chain_rule/01_chain_rule.ipynb')\n"), 0,
        "flagged", "submitted/honest_complete"),
    Case("network_connection", answers(
        prefix1="torch.hub.load_state_dict_from_url('https://example.com/weights.pt')\n"), 0, "flagged", "socket"),
    Case("chdir_elsewhere", answers(prefix1="import os\nos.chdir('/')\n"), 0, "flagged", "os.chdir"),
    # torch.save writes from C++, out of the audit hook's sight: the grader compares the files afterwards.
    Case("modify_shipped_file", answers(prefix1="torch.save(torch.zeros(3), 'data.txt')\n"), 0, "flagged",
         "modifies a shipped file (data.txt)"),
    # code run on the submission's behalf by a library is still the submission's
    Case("numpy_load_runs_pickle", hostile(smuggled("numpy.load('payload.bin', allow_pickle=True)")), 0, "flagged",
         "pickle.find_class builtins.exec"),
    Case("torch_load_runs_pickle", hostile(smuggled(
        "try:\n    torch.load('payload.bin', weights_only=False)\nexcept RuntimeError:\n    pass")), 0, "flagged",
         "pickle.find_class builtins.exec"),
    Case("annotation_evaluated_by_typing", hostile(evaluated(SKIP_TESTS)), 0, "flagged",
         "no evidence that its code started"),
    Case("dataclass_string_annotation", hostile(evaluated(
        SKIP_TESTS, holder="import dataclasses\n@dataclasses.dataclass\nclass Holder:\n    value: {annotation!r}\n",
        hints="Holder")), 0, "flagged", "input_transformer_manager"),
    Case("kernel_handler_rewired", hostile(evaluated(
        "__import__('IPython').get_ipython().kernel.shell_handlers.update(execute_request=lambda *args: None)")),
         0, "flagged", "ex1_tests: the kernel timed out on it, but the guard has no evidence"),
    Case("guard_channel_closed", hostile(FIND_PIPES + "for descriptor in pipes:\n    os_module.close(descriptor)\n"
                                         + evaluated(SKIP_TESTS)), 0, "flagged", "no evidence"),
    Case("guard_channel_flooded", hostile(FIND_PIPES + "for descriptor in pipes:\n    for _ in range(20000):\n"
                                          "        os_module.write(descriptor, b'{}\\n')\n"), 0, "flagged",
         "guard's channel"),
    Case("guard_channel_forged", hostile(FIND_PIPES + evaluated(SKIP_TESTS) + "for descriptor in pipes:\n"
                                         f"    os_module.write(descriptor, {FORGED_RAN!r} * 2)\n"), 0, "flagged",
         "guard's channel"),
    Case("function_mode_left_active", hostile(RIGGED_MODE), 0, "flagged", "function modes"),
    # issue 20's routes: raw memory, /proc/self/maps, classes and modes made at run time, finalizers
    Case("raw_memory_strided_window", hostile(STRIDED_WINDOW), 0, "flagged", "imports from numpy.lib.stride_tricks"),
    Case("raw_memory_strided_attribute", hostile(STRIDED_ATTRIBUTE), 0, "flagged", "uses the attribute stride_tricks"),
    Case("raw_memory_address_arithmetic", hostile(ADDRESS_ARITHMETIC), 0, "flagged", "computes with a memory address"),
    Case("memory_map_by_loadtxt", hostile(MAPS_BY_LOADTXT), 0, "flagged", "/proc/self/maps"),
    Case("memory_map_by_fromfile", hostile(MAPS_BY_FROMFILE), 0, "flagged", "/proc/self/smaps"),
    Case("mode_made_by_make_dataclass", hostile(DATACLASS_MODE), 0, "flagged", "builds a class at run time"),
    Case("mode_made_by_a_metaclass", hostile(METACLASS_MODE), 0, "flagged", "takes the type of check_chain_rule"),
    Case("mode_made_by_type_of_type", hostile(TYPE_OF_TYPE_MODE), 0, "flagged", "calls what type() returned"),
    Case("mode_helper_subclassed", hostile(HELPER_SUBCLASS), 0, "flagged", "subclasses check_chain_rule, a helper of the notebook"),
    Case("dispatch_mode_from_autograd_graph", hostile(DISPATCH_MODE), 0, "flagged",
         "uses the attribute TorchDispatchMode"),
    Case("dunder_assembled_for_format", hostile(FORMATTED_DUNDER), 0, "flagged", "calls format on a string built"),
    Case("weakref_finalizer", hostile(WEAKREF_FINALIZER), 0, "flagged", "uses the attribute weakref"),
    Case("del_finalizer", hostile(DEL_FINALIZER), 0, "flagged", "defines __del__"),
    Case("aten_operator_reregistered", hostile(REREGISTERED_ATEN), 0, "flagged", "operator registration"),
]
