"""What an answer cell may do, checked on its source before anything runs: the rules, as sets and as text.

Every exercise is answered with torch, math and numpy, so the policy is narrow and easy to state to students
(``STUDENT_RULES``, built from the same sets the checker uses): no other modules, whether imported, imported from an
allowed module or reached as an attribute; no exec, eval, getattr and other calls that run code or reach objects by
a computed name; no private or dunder attributes except the container methods on the student's own objects, and no
private names but the answers' own; no assigning attributes of modules or of objects the notebook created; no
rebinding or changing a name the tests rely on; no classes that subclass tensors, define dunder methods (but
construction, arithmetic and the container methods) or are built with ``type()``. A finding is not proof of
cheating, but a test that ran after it cannot be trusted, so the grader scores such a submission 0 and lists the
finding (cell, line, code) for a person to review. ``make validate`` reports the same findings, each with what to
write instead.

The checker is ``answer_checker`` (``check_answer``, ``answer_findings``); which attribute names lead from an
allowed module to a forbidden one is read from the modules themselves (``reachable``); the names the tests rely
on are ``protected``.
"""

import re
import types

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
# The container methods, too: the rules allow them on the answer's own objects, used (x[i], len(x)) or defined.
DEFINABLE_METHODS = ("__init__", "__repr__", *(f"__{prefix}{operation}__" for operation in ("add", "sub", "mul",
                                                 "truediv", "pow") for prefix in ("", "r")), "__neg__", "__pos__", "__abs__",
                     *sorted(CONTAINER_METHODS))
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
    "private_name": "use names your answers define, and the notebook's public ones: IPython's _, _oh, _i1 ... and "
                    "the notebook's _private names are not for answers",
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
    "tests_check": "compute the answer yourself: the check_ functions are the tests', and what they say comes from "
                   "the expected values",
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
        "- No `_private` or `__dunder__` attributes, except "
        f"{listed(f'tensor.{name}' for name in ALLOWED_PRIVATE_ATTRIBUTES)} and the container methods "
        f"{listed(CONTAINER_METHODS)} on your own objects (`x[i]`, `len(x)`, or `def __getitem__` in a class of "
        "yours); no `__dunder__` names, keywords or strings, and no `_private` names or keywords but those your "
        "answers define (`_lift`, `for _ in ...`; not IPython's `_`, `_oh`, `_i1`); no frame or code attributes (`gi_frame`, `f_globals`, "
        "`tb_frame`, `co_code` ...) and no attribute that leads to another module (`torch.os`, `torch.utils`, "
        "`array.ctypes`). Nothing that views raw memory (`numpy.lib.stride_tricks`, "
        f"{listed(RAW_MEMORY_FUNCTIONS)}) and no arithmetic with addresses (`id(x) + 8`, `t.data_ptr() - base`); "
        "comparing them is fine.",
        "- Do not assign or delete attributes of modules or of objects you did not create (`torch.allclose = ...`).",
        "- Do not rebind or change the notebook's own names (its imports, its helpers, the variables its tests "
        "use); `global` only for names of your own. Do not call or read the tests' checks (the `check_...` "
        "functions the setup cell imports).",
        "- No classes that subclass `torch.Tensor`, `torch.nn.Parameter`, a torch mode (`TorchDispatchMode`) or a "
        "class of the notebook, pass `metaclass=` or define dunder methods (`def __eq__`) other than "
        f"{listed(DEFINABLE_METHODS, list)}; no classes built at run time (`bases=` or `namespace=` to "
        "`make_dataclass`, `type(SomeClass)`, `type(x)(...)`).",
    ])


STUDENT_RULES = student_rules()
