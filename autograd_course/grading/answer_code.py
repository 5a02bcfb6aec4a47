"""An answer cell's code as the kernel runs it, and what its syntax tree says: bound and used names, magics,
the root of a chain of attributes, addresses."""

import ast
import functools

from . import syntax
from .policy import ALLOWED_MAGICS, MAGIC_RUNNERS, TIMEIT_OPTIONS


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


def defined_names(tree: ast.AST) -> set[str]:
    """Every name a cell binds, in any scope: its variables, functions, classes, imports, arguments, exceptions and
    match captures (an answer's own ``_private`` names)."""
    names = set(bound_names(tree))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
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
