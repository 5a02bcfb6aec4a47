"""What an answer cell may do, checked on its source before anything runs.

Every exercise is answered with torch, math and numpy, so the policy is narrow and easy to
state to students (``STUDENT_RULES``, built from the same sets the checker uses): no other
modules, whether imported, imported from an allowed module or reached as an attribute; no
exec, eval, getattr and other calls that run code or reach objects by a computed name; no
private or dunder attributes except the container methods on the student's own objects; no
assigning attributes of modules or of objects the notebook created; no rebinding or changing
a name the tests rely on; no classes that subclass tensors, define dunder methods or are built
with ``type()``. A finding is not proof of cheating, but a test that ran after it cannot be
trusted, so the grader scores such a submission 0 and lists the finding (cell, line, code) for
a person to review. ``make validate`` reports the same findings, each with what to write instead.

Which attribute names lead from an allowed module to a forbidden one is read from the modules
themselves (``derive_reachable_names``), in a fresh interpreter so that the answer never depends
on what the checking process happened to import.
"""

import ast
import functools
import json
import pkgutil
import re
import subprocess
import sys
import types
from dataclasses import dataclass

from . import syntax

ALLOWED_IMPORTS = {"torch", "math", "numpy", "functools", "itertools", "collections", "typing", "dataclasses"}
# IPython magics an answer may use: they time the code they are given, which is checked as answer code. Every
# other magic, shell command (``!ls``) or help request (``f?``) reaches the kernel.
ALLOWED_MAGICS = ("time", "timeit")
# The options of %timeit that only choose how it times and prints (-v would bind a name of the magic's choosing).
TIMEIT_OPTIONS = re.compile(r"\s*(-[nrp]\s*\d+|-[qotc])(?=\s|$)")
MAGIC_RUNNERS = {"run_line_magic", "run_cell_magic"}
# Parts of torch and numpy that register operators, override functions, compile, load or run code,
# or reach C: allowed roots, forbidden branches.
EXTENSION_POINTS = ("torch.library", "torch.overrides", "torch.utils", "torch.ops", "torch.classes", "torch.hub",
                    "torch.package", "torch.jit", "torch.fx", "torch.compiler", "torch.export", "torch.onnx",
                    "torch.serialization", "torch.multiprocessing", "torch.distributed", "numpy.ctypeslib",
                    "numpy.f2py", "numpy.distutils", "numpy.lib.stride_tricks")
# Builtins that run code, reach objects by a computed name, or reach the kernel.
FORBIDDEN_BUILTINS = {"exec", "eval", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals",
                      "vars", "breakpoint", "input", "get_ipython", "exit", "quit", "memoryview", "help"}
# Functions of the allowed modules that load objects from files or bytes, compile functions, or evaluate
# strings (typing evaluates forward references, singledispatch evaluates annotations).
CODE_FROM_DATA = {"load", "loads", "compile", "get_type_hints", "ForwardRef", "singledispatch",
                  "singledispatchmethod"}
# Dunder methods that only read or fill a container: harmless on the student's own objects.
CONTAINER_METHODS = {"__getitem__", "__setitem__", "__delitem__", "__len__", "__contains__", "__iter__", "__next__"}
# Methods a class of the answer's own may define: construction, a printout and arithmetic (a dual number, a
# micrograd Value). The checks never compare, convert or hash a student's object, so none of these can make a
# test pass; comparison, conversion and attribute hooks (__eq__, __float__, __getattr__ ...) stay forbidden.
DEFINABLE_METHODS = ("__init__", "__repr__", *(f"__{prefix}{operation}__" for operation in ("add", "sub", "mul",
                                                 "truediv", "pow") for prefix in ("", "r")), "__neg__", "__pos__", "__abs__")
ALLOWED_PRIVATE_ATTRIBUTES = {"_version"}
# Forbidden even where an ordinary object has an attribute of that name: ndarray.ctypes hands out ctypes objects,
# whose types read and write raw memory.
RAW_MEMORY_ATTRIBUTES = {"ctypes"}
# Functions that view memory they are handed (a buffer, a DLPack capsule) as an array: with an address they read and
# write the kernel's memory. Addresses themselves are ordinary (a set of id(node), a dict by storage.data_ptr()): an
# answer may compare them, never compute with them.
RAW_MEMORY_FUNCTIONS = {"frombuffer", "from_dlpack"}
# Calls that build a class from a namespace dict or a tuple of bases, whose names a class statement would show.
CLASS_BUILDING_KEYWORDS = {"namespace", "bases", "metaclass"}
# str.format reads attributes and items by the names in its format string: only a literal one may be formatted.
FORMATTING_METHODS = {"format", "format_map"}
# From a generator's frame, f_back and f_globals lead to the tests' namespace; code objects can be rebuilt.
FRAME_ATTRIBUTES = frozenset(name for kind in (types.FrameType, types.TracebackType, types.GeneratorType,
                                               types.CoroutineType, types.AsyncGeneratorType, types.CodeType)
                             for name in dir(kind) if re.match(r"(f|tb|gi|cr|ag|co)_", name))
# Re-importing a module under the name the setup cell gave it binds the same object: harmless.
CONVENTIONAL_IMPORTS = {"torch": "torch", "math": "math", "numpy": "numpy", "np": "numpy"}
DUNDER = re.compile(r"__\w+__")

# What to write instead, by kind of finding (``make validate`` prints it under each finding).
ADVICE = {
    "import": "use torch, math and numpy (already imported) or functools, itertools, collections, typing, "
              "dataclasses",
    "star_import": "import the names you need: from math import pi, e",
    "module_attribute": "this leads to a module an answer may not use: call the function you need from torch, "
                        "math or numpy",
    "code_from_data": "compute the value in your code instead of loading, compiling or evaluating it",
    "getattr": "getattr(obj, name) -> write obj.name",
    "setattr": "setattr(obj, name, value) -> return the value, or keep it in a variable or dict of your own",
    "delattr": "delete nothing that is not yours: keep your own values in a variable or dict",
    "exec": "write the code itself in the cell",
    "open": "no files or keyboard input: take values as function arguments",
    "namespace": "use your variables by name",
    "kernel": "remove it: an answer only computes",
    "memoryview": "use a tensor, a list or bytes",
    "builds_class": "type(name, bases, namespace) -> write a class statement (without dunder methods)",
    "dunder": "x.__len__() -> len(x), x.__getitem__(i) -> x[i], x.__setitem__(i, v) -> x[i] = v; other dunders "
              "reach the interpreter: use the public API",
    "private": "use the public API (tensor.grad, not tensor._grad)",
    "frame": "frames and code objects reach the tests: remove it",
    "dunder_string": "write the names in code: no dunder names inside strings or keyword arguments",
    "string_annotation": "write the annotation as an expression (x: float), or leave it out",
    "assigns_attribute": "keep the value in a variable of your own, or on an object your function created",
    "rebinds": "choose another name for your own variable",
    "changes": "copy it first (mine = name.clone(), list(name) or dict(name)) and change the copy",
    "global": "declare global only names of your own",
    "subclass": "return plain torch.Tensor values: torch.tensor(...), not a subclass",
    "defines_dunder": "write an ordinary method or function instead",
    "raw_memory": "compare objects with `is` and storages with ==; an answer never computes with an address",
    "mode": "torch's function and dispatch modes change what the tests compute: compute the value itself",
    "subclass_helper": "write a class of your own: the notebook's helpers are the tests'",
    "magic": "remove it: answers may use only %time and %timeit (without -v), and no ! shell commands or ? help",
}
BUILTIN_ADVICE = {"getattr": "getattr", "setattr": "setattr", "delattr": "delattr", "exec": "exec", "eval": "exec",
                  "compile": "exec", "open": "open", "input": "open", "globals": "namespace",
                  "locals": "namespace", "vars": "namespace", "get_ipython": "kernel", "breakpoint": "kernel",
                  "exit": "kernel", "quit": "kernel", "help": "kernel", "memoryview": "memoryview"}


def module_allowed(name: str) -> bool:
    """Whether an answer may use the module of this dotted name: an allowed root, nothing private, no extension
    point."""
    parts = name.split(".")
    return parts[0] in ALLOWED_IMPORTS and not any(part.startswith("_") for part in parts) \
        and not any(name == point or name.startswith(point + ".") for point in EXTENSION_POINTS)


def derive_reachable_names() -> dict[str, list[str]]:
    """Read from the allowed modules themselves: the attribute names under which they hold (or, for submodules
    imported on first use, will hold) a module an answer may not use, and the names of their tensor classes.
    Meant for a fresh interpreter: which submodules are loaded depends on what was imported before."""
    for root in sorted(ALLOWED_IMPORTS):  # the allowed roots, as an answer would import them
        __import__(root)
    torch = sys.modules["torch"]
    allowed = [module for name, module in sorted(sys.modules.items())
               if isinstance(module, types.ModuleType) and module_allowed(name)]
    modes = (sys.modules["torch.overrides"].TorchFunctionMode,
             sys.modules["torch.utils._python_dispatch"].TorchDispatchMode)
    leads_out, leads_in, allowed_modules, tensor_classes, mode_classes = set(), set(), set(), set(), set()
    for module in allowed:
        allowed_modules.add(module.__name__)
        for name, value in vars(module).items():
            if isinstance(value, types.ModuleType):
                (leads_in if module_allowed(value.__name__) else leads_out).add(name)
            elif isinstance(value, type) and issubclass(value, torch.Tensor):
                tensor_classes.add(name)
            elif isinstance(value, type) and issubclass(value, modes):
                mode_classes.add(name)
        for submodule in pkgutil.iter_modules(getattr(module, "__path__", [])):
            full_name = f"{module.__name__}.{submodule.name}"
            (leads_in if module_allowed(full_name) else leads_out).add(submodule.name)
            if module_allowed(full_name):
                allowed_modules.add(full_name)
    # A name that is also an attribute of the values answers work with (ndarray.copy, Tensor.dist) cannot be
    # told apart from that attribute by its name alone: it is judged by the module it is read from.
    ordinary = set().union(*(dir(kind) for kind in (torch.Tensor, torch.nn.Module, torch.Generator,
                                                     sys.modules["numpy"].ndarray, dict, list, set, tuple, str)))
    leads_out = {name for name in leads_out if not name.startswith("_")}
    return {"module_attributes": sorted(leads_out),
            # torch.nn.utils is allowed, torch.utils is not: such names are judged by the module they reach.
            "ambiguous_module_attributes": sorted(leads_out & leads_in),
            "ordinary_attributes": sorted((leads_out & ordinary) - RAW_MEMORY_ATTRIBUTES),
            "allowed_modules": sorted(allowed_modules),
            "tensor_classes": sorted(tensor_classes),
            # torch.autograd.graph.TorchDispatchMode: modes decide what every torch call returns while entered.
            "mode_classes": sorted(mode_classes)}


@functools.cache
def reachable_names() -> dict[str, frozenset[str]]:
    """``derive_reachable_names`` from a fresh interpreter of this environment, once per process (about 1 s)."""
    output = subprocess.run([sys.executable, "-m", __name__], capture_output=True, text=True, check=True).stdout
    return {key: frozenset(names) for key, names in json.loads(output).items()}


def student_rules() -> str:
    """The rules as students read them (notebooks, README), from the same sets the checker uses."""
    def listed(names, order=sorted) -> str:
        return ", ".join(f"`{name}`" for name in order(names))

    already_imported = ["torch", "math", "numpy"]
    return "\n".join([
        f"- Import only {listed(already_imported, list)} (already imported) and "
        f"{listed(ALLOWED_IMPORTS - set(already_imported))}, and from them no module they contain "
        "(not `from torch import library`, not `from numpy import ctypeslib`) and no `*`.",
        f"- Do not call {listed(FORBIDDEN_BUILTINS)} or `type(name, bases, namespace)`, nor what loads, compiles "
        f"or evaluates code or data: {listed(CODE_FROM_DATA - FORBIDDEN_BUILTINS)} (`torch.load`, `numpy.load` "
        "...). Write annotations as expressions, not strings, and call `.format` only on a literal string. Of "
        f"IPython's magics use only {listed((f'%{name}' for name in ALLOWED_MAGICS), list)} (not `%timeit -v`); no "
        "`!` shell commands, no `?` help.",
        "- No `_private` or `__dunder__` attributes, names, keywords or strings, except "
        f"{listed(f'tensor.{name}' for name in ALLOWED_PRIVATE_ATTRIBUTES)} and the container methods "
        f"{listed(CONTAINER_METHODS)} on your own objects; no frame or code attributes (`gi_frame`, `f_globals`, "
        "`tb_frame`, `co_code` ...) and no attribute that leads to another module (`torch.os`, `torch.utils`, "
        "`array.ctypes`). Nothing that views raw memory (`numpy.lib.stride_tricks`, "
        f"{listed(RAW_MEMORY_FUNCTIONS)}) and no arithmetic with addresses (`id(x) + 8`, `t.data_ptr() - base`); "
        "comparing them is fine.",
        "- Do not assign or delete attributes of modules or of objects you did not create (`torch.allclose = ...`).",
        "- Do not rebind or change the notebook's own names (its imports, its helpers, the variables its tests "
        "use); `global` only for names of your own.",
        "- No classes that subclass `torch.Tensor`, `torch.nn.Parameter`, a torch mode (`TorchDispatchMode`) or a "
        "class of the notebook, pass `metaclass=` or define dunder methods (`def __eq__`) other than "
        f"{listed(DEFINABLE_METHODS, list)}; no classes built at run time (`bases=` or `namespace=` to "
        "`make_dataclass`, `type(SomeClass)`, `type(x)(...)`).",
    ])


STUDENT_RULES = student_rules()


@dataclass(frozen=True)
class Finding:
    cell: str
    line: int
    rule: str
    code: str
    advice: str = ""

    def __str__(self) -> str:
        return f"{self.cell} line {self.line}: {self.rule} ({self.code})"


def bound_names(tree: ast.AST) -> set[str]:
    """Names a cell binds at its top level (assignments, imports, definitions)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def used_names(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


@functools.cache
def _ipython_transformer():
    # Imported on first use: the fresh interpreter of reachable_names never needs IPython.
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def as_python(source: str) -> str:
    """A cell's source as the kernel runs it: IPython's syntax (``%time``, ``!ls``, ``f?``) turned into the calls of
    ``get_ipython()`` it stands for, plain Python unchanged (line numbers are kept for line magics)."""
    if not any(mark in source for mark in "%!?"):
        return source
    try:
        return _ipython_transformer().transform_cell(source)
    except Exception:  # what IPython cannot transform, the kernel cannot run either: the cell fails its tests
        return source


def parse(source: str) -> ast.AST | None:
    try:
        return syntax.parse(as_python(source))
    except SyntaxError:
        return None


def magic_call(node: ast.Call) -> tuple[str, str, str | None] | None:
    """``(name, line, cell)`` of a magic as IPython's transformer writes it:
    ``get_ipython().run_line_magic('time', 'f(1)')`` or ``get_ipython().run_cell_magic('time', '', 'body')``."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr in MAGIC_RUNNERS and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython"
            and not func.value.args and not func.value.keywords and not node.keywords
            and len(node.args) == (2 if func.attr == "run_line_magic" else 3)
            and all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in node.args)):
        return None
    values = [arg.value for arg in node.args]
    return values[0], values[1], values[2] if len(values) == 3 else None


def timed_code(name: str, line: str) -> str | None:
    """The code an allowed magic's line runs (after %timeit's timing options); None for any other magic or
    option."""
    if name not in ALLOWED_MAGICS:
        return None
    if name == "timeit":
        while (option := TIMEIT_OPTIONS.match(line)) is not None:
            line = line[option.end():]
    return None if line.lstrip().startswith("-") else line


def root_of(node: ast.AST) -> ast.AST:
    """The object an attribute or item chain starts from: ``grads`` in ``grads[i].data``."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def is_address(node: ast.AST) -> bool:
    """``id(x)`` or ``t.data_ptr()``: an address, which an answer may compare but not compute with."""
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "id")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "data_ptr"))


class AnswerChecker(ast.NodeVisitor):
    """Walks one answer cell and collects its findings."""

    def __init__(self, cell: str, source: str, protected: set[str]):
        self.cell = cell
        self.lines = source.splitlines()
        self.protected = protected
        self.reachable = reachable_names()
        # Module names the cell's own imports bind (``from torch import nn``), besides the notebook's.
        self.modules = dict(CONVENTIONAL_IMPORTS)
        self.findings: list[Finding] = []
        self.local_scopes: list[set[str]] = []
        self.function_scopes: list[set[str]] = []  # what a nested function sees of its enclosing functions
        self.in_class_body = False  # directly in a class statement's body (``__rmul__ = __mul__``)
        self.own: set[str] = set()  # module-level names the cell binds only to objects it creates (own_names)

    def flag(self, node: ast.AST, rule: str, kind: str) -> None:
        line = getattr(node, "lineno", 1)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.findings.append(Finding(self.cell, line, rule, code[:120], ADVICE[kind]))

    def is_own(self, node: ast.AST) -> bool:
        """Whether a chain starts from a module-level name of the cell's own, not hidden by a local one."""
        root = root_of(node)
        return isinstance(root, ast.Name) and root.id in self.own and not self.is_local(node)

    def creates(self, value: ast.AST, classes: set[str]) -> bool:
        """Whether an expression makes a new object: a literal, or a call of a module's function (torch.tensor),
        of a class the cell defines, or of a method of a new object (torch.zeros(3).requires_grad_())."""
        if isinstance(value, (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.DictComp,
                              ast.SetComp)):
            return True
        if not isinstance(value, ast.Call):
            return False
        root = root_of(value.func)
        if isinstance(root, ast.Name):
            return root.id in self.modules or (root.id in classes and root.id not in self.protected)
        return self.creates(root, classes)

    def own_names(self, tree: ast.Module) -> set[str]:
        """Module-level names every top-level binding of which is a new object (``leaf = torch.tensor(...)``):
        the answer may set their attributes (``leaf.grad = None``), as a function may set its locals'."""
        classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        bindings: dict[str, list[bool]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                bindings.setdefault(node.id, []).append(False)
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                created = bindings[node.targets[0].id]
                created[created.index(False)] = self.creates(node.value, classes)
        return {name for name, created in bindings.items() if all(created) and name not in self.protected}

    def is_local(self, node: ast.AST) -> bool:
        """Whether a chain starts from a name the enclosing function (or lambda) binds itself."""
        root = root_of(node)
        return isinstance(root, ast.Name) and bool(self.local_scopes) and root.id in self.local_scopes[-1]

    def module_path(self, node: ast.AST) -> str | None:
        """``torch.nn.utils`` for ``nn.utils`` after ``from torch import nn``; None unless a chain of names from a
        module."""
        if isinstance(node, ast.Name):
            return None if self.local_scopes and node.id in self.local_scopes[-1] else self.modules.get(node.id)
        if isinstance(node, ast.Attribute):
            path = self.module_path(node.value)
            return f"{path}.{node.attr}" if path else None
        return None

    def leads_out(self, node: ast.Attribute) -> bool:
        """Whether an attribute names a module the answer may not use (``torch.os``, ``torch.utils``)."""
        if node.attr not in self.reachable["module_attributes"]:
            return False
        path = self.module_path(node)
        if node.attr in self.reachable["ordinary_attributes"]:
            return path is not None and path not in self.reachable["allowed_modules"]
        if node.attr in self.reachable["ambiguous_module_attributes"]:
            return path not in self.reachable["allowed_modules"]
        return True

    def reaches_protected(self, node: ast.AST) -> str | None:
        """The protected name a chain starts from, unless a local variable of that name hides it."""
        root = root_of(node)
        if isinstance(root, ast.Name) and root.id in self.protected and not self.is_local(node):
            return root.id
        return None

    # -- imports -------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not module_allowed(alias.name):
                self.flag(node, f"imports {alias.name}", "import")
                continue
            bound = alias.asname or alias.name.split(".")[0]
            self.modules[bound] = alias.name if alias.asname else bound
            if not self.local_scopes and bound in self.protected and CONVENTIONAL_IMPORTS.get(bound) != alias.name:
                self.flag(node, f"rebinds {bound}", "rebinds")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or not module_allowed(module):
            self.flag(node, f"imports from {module or '.'}", "import")
            return
        for alias in node.names:
            if alias.name == "*":
                self.flag(node, f"imports * from {module}", "star_import")
            elif alias.name.startswith("_") or not module_allowed(f"{module}.{alias.name}") \
                    or (alias.name in self.reachable["module_attributes"]
                        and f"{module}.{alias.name}" not in self.reachable["allowed_modules"]):
                self.flag(node, f"imports {alias.name} from {module}", "module_attribute")
            elif alias.name in FORBIDDEN_BUILTINS | CODE_FROM_DATA:
                self.flag(node, f"imports {alias.name} from {module}", "code_from_data")
            elif alias.name in RAW_MEMORY_FUNCTIONS:
                self.flag(node, f"imports {alias.name} from {module}", "raw_memory")
            elif alias.name in self.reachable["mode_classes"]:
                self.flag(node, f"imports {alias.name} from {module}", "mode")
            elif not self.local_scopes and (alias.asname or alias.name) in self.protected:
                self.flag(node, f"rebinds {alias.asname or alias.name}", "rebinds")
            else:
                self.modules[alias.asname or alias.name] = f"{module}.{alias.name}"

    # -- names, attributes, items ----------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_BUILTINS:
            self.flag(node, f"uses {node.id}", BUILTIN_ADVICE[node.id])
        elif node.id in CODE_FROM_DATA:
            self.flag(node, f"uses {node.id}", "code_from_data")
        elif node.id == "type":
            self.flag(node, "uses type other than as type(value)", "builds_class")
        elif node.id in self.reachable["mode_classes"] and node.id not in self.protected:
            self.flag(node, f"uses {node.id}", "mode")
        elif node.id.startswith("__") and not (self.in_class_body and node.id in DEFINABLE_METHODS):
            self.flag(node, f"uses {node.id}", "dunder")
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and not self.local_scopes and node.id in self.protected:
            self.flag(node, f"rebinds {node.id}, which the tests use", "rebinds")
        if isinstance(node.ctx, (ast.Store, ast.Del)) and not self.local_scopes:
            self.modules.pop(node.id, None)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr in CONTAINER_METHODS and not self.reaches_protected(node.value):
            pass  # grads.__setitem__(i, g) does what grads[i] = g does
        elif DUNDER.fullmatch(attr):
            self.flag(node, f"uses the attribute {attr}", "dunder")
        elif attr.startswith("_") and attr not in ALLOWED_PRIVATE_ATTRIBUTES:
            self.flag(node, f"uses the attribute {attr}", "private")
        elif attr in FRAME_ATTRIBUTES:
            self.flag(node, f"uses the attribute {attr}", "frame")
        elif self.leads_out(node):
            self.flag(node, f"uses the attribute {attr}", "module_attribute")
        elif attr in CODE_FROM_DATA:
            self.flag(node, f"uses the attribute {attr}", "code_from_data")
        elif attr in RAW_MEMORY_FUNCTIONS:
            self.flag(node, f"uses the attribute {attr}", "raw_memory")
        elif attr in self.reachable["mode_classes"]:
            self.flag(node, f"uses the attribute {attr}", "mode")
        if isinstance(node.ctx, (ast.Store, ast.Del)) and not self.is_local(node) and not self.is_own(node):
            self.flag(node, f"assigns the attribute {attr} of an object it did not create", "assigns_attribute")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        # m = torch.nn: attributes read from m are judged as read from torch.nn.
        path = self.module_path(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name) and path and not self.local_scopes:
                self.modules[target.id] = path

    def visit_Subscript(self, node: ast.Subscript) -> None:
        protected = self.reaches_protected(node.value)
        if isinstance(node.ctx, (ast.Store, ast.Del)) and protected:
            self.flag(node, f"changes {protected}, which the tests use", "changes")
        self.generic_visit(node)

    def visit_magic(self, node: ast.Call, name: str, line: str, cell: str | None) -> None:
        """An allowed magic's code is checked as the answer's own, at module level (where IPython runs it)."""
        code = timed_code(name, line)
        if code is None:
            self.flag(node, f"uses the magic %{name}", "magic")
            return
        # A cell magic's body starts on the line after it; a line magic's code is on its own line.
        for text, first_line in ((code, node.lineno), (cell, node.lineno + 1)):
            tree = parse(text) if text else None
            if tree is None:
                continue
            ast.increment_lineno(tree, first_line - 1)
            scopes = self.local_scopes, self.function_scopes, self.in_class_body
            self.local_scopes, self.function_scopes, self.in_class_body = [], [], False
            for statement in tree.body:
                self.visit(statement)
            self.local_scopes, self.function_scopes, self.in_class_body = scopes

    def visit_Call(self, node: ast.Call) -> None:
        magic = magic_call(node)
        if magic is not None:
            self.visit_magic(node, *magic)
            return
        if isinstance(node.func, ast.Name) and node.func.id == "type":
            if len(node.args) + len(node.keywords) != 1:
                self.flag(node, "builds a class with type()", "builds_class")
            elif node.args and (self.reaches_protected(node.args[0]) or self.module_path(node.args[0])):
                # the type of a class is its metaclass, which builds classes: the type of a value is all an answer
                # needs
                self.flag(node, f"takes the type of {ast.unparse(node.args[0])}", "builds_class")
        else:
            self.visit(node.func)
        if isinstance(node.func, ast.Call) and isinstance(node.func.func, ast.Name) and node.func.func.id == "type":
            self.flag(node, "calls what type() returned", "builds_class")
        if isinstance(node.func, ast.Attribute) and node.func.attr in FORMATTING_METHODS and not (
                isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
            self.flag(node, f"calls {node.func.attr} on a string built at run time", "dunder_string")
        for keyword in node.keywords:
            if keyword.arg and DUNDER.fullmatch(keyword.arg):
                self.flag(node, f"passes the keyword {keyword.arg}", "dunder_string")
            elif keyword.arg in CLASS_BUILDING_KEYWORDS:
                self.flag(node, f"builds a class at run time ({keyword.arg}=)", "builds_class")
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            self.visit(argument)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        for side in (node.left, node.right):
            if is_address(side):
                self.flag(node, f"computes with a memory address ({ast.unparse(side)})", "raw_memory")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and DUNDER.search(node.value):
            self.flag(node, f"names {DUNDER.search(node.value).group()} in a string", "dunder_string")

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.protected:
                self.flag(node, f"declares global {name}, which the tests use", "global")

    # -- definitions -----------------------------------------------------------------------------
    def check_annotation(self, annotation: ast.AST | None) -> None:
        if annotation is None:
            return
        if any(isinstance(part, ast.Constant) and isinstance(part.value, str) for part in ast.walk(annotation)):
            self.flag(annotation, "writes an annotation as a string", "string_annotation")
        self.visit(annotation)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.target)
        self.check_annotation(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    def _visit_scope(self, node, arguments: ast.arguments | None, in_class: bool = False) -> None:
        if node.name.startswith("__") and not (in_class and node.name in DEFINABLE_METHODS):
            self.flag(node, f"defines {node.name}", "defines_dunder")
        if not self.local_scopes and node.name in self.protected:
            self.flag(node, f"rebinds {node.name}, which the tests use", "rebinds")
        for decorator in node.decorator_list:
            self.visit(decorator)
        names = bound_names(ast.Module(body=node.body, type_ignores=[]))
        if arguments is not None:
            every_argument = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                              *(arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None)]
            names |= {arg.arg for arg in every_argument}
            for arg in every_argument:
                self.check_annotation(arg.annotation)
            self.check_annotation(node.returns)
            for default in [*arguments.defaults, *arguments.kw_defaults]:
                if default is not None:
                    self.visit(default)
        # A name declared global inside the function is not the function's own.
        names -= {name for statement in ast.walk(ast.Module(body=node.body, type_ignores=[]))
                  if isinstance(statement, ast.Global) for name in statement.names}
        is_function = arguments is not None
        if is_function and self.function_scopes:
            names |= self.function_scopes[-1]  # a closure's free names are its enclosing function's locals
        self.local_scopes.append(names)
        if is_function:
            self.function_scopes.append(names)
        enclosing_in_class_body, self.in_class_body = self.in_class_body, not is_function
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and not is_function:
                self._visit_scope(statement, statement.args, in_class=True)
            else:
                self.visit(statement)
        self.in_class_body = enclosing_in_class_body
        if is_function:
            self.function_scopes.pop()
        self.local_scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_scope(node, node.args)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            text = ast.unparse(base)
            last = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
            if last is None or last in self.reachable["tensor_classes"] or "Tensor" in text or "Parameter" in text:
                self.flag(node, f"subclasses {text}", "subclass")
            elif self.reaches_protected(base) and self.module_path(base) is None:
                self.flag(node, f"subclasses {text}, a helper of the notebook", "subclass_helper")
            self.visit(base)
        for keyword in node.keywords:
            self.flag(node, f"passes {keyword.arg} to a class statement", "builds_class")
        self._visit_scope(node, None)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        arguments = node.args
        for default in [*arguments.defaults, *arguments.kw_defaults]:
            if default is not None:
                self.visit(default)
        names = {arg.arg for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                     *(a for a in (arguments.vararg, arguments.kwarg) if a)]}
        self.local_scopes.append(names | (self.function_scopes[-1] if self.function_scopes else set()))
        self.visit(node.body)
        self.local_scopes.pop()


def check_answer(cell: str, source: str, protected: set[str]) -> list[Finding]:
    """Findings for one answer cell; a cell that does not parse has none (it simply fails its tests)."""
    tree = parse(source)
    if tree is None:
        return []
    checker = AnswerChecker(cell, source, protected)
    checker.own = checker.own_names(tree)
    checker.visit(tree)
    return checker.findings


def answer_findings(answers: dict[str, str], protected: set[str]) -> list[Finding]:
    """Every finding of a submission's answers (source by grade id): what the grader and ``make validate`` report."""
    return [finding for cell, source in answers.items() for finding in check_answer(cell, source, protected)]


def protected_names(locked_sources: list[str], test_sources: list[str]) -> set[str]:
    """Names bound by the locked cells that the test cells read, plus every import and definition."""
    locked, definitions = set(), set()
    for source in locked_sources:
        tree = parse(source)
        if tree is None:
            continue
        locked |= bound_names(tree)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                definitions.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                definitions |= bound_names(node)
    read_by_tests = set().union(*(used_names(tree) for tree in map(parse, test_sources) if tree is not None))
    return (locked & read_by_tests) | definitions


def notebook_protected_names(notebook) -> set[str]:
    """``protected_names`` of an instructor notebook: its locked code cells against its test cells."""
    # Imported here: assemble imports nbformat (2 s), which the fresh interpreter of reachable_names does not need.
    from .assemble import is_answer, nbgrader_meta

    code = [cell for cell in notebook.cells if cell.cell_type == "code" and not is_answer(cell)]
    return protected_names([cell.source for cell in code if not nbgrader_meta(cell).get("grade")],
                           [cell.source for cell in code if nbgrader_meta(cell).get("grade")])


if __name__ == "__main__":
    print(json.dumps(derive_reachable_names()))
