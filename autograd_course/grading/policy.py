"""What an answer cell may do, checked on its source before anything runs.

Every exercise is answered with torch, math and numpy, so the policy is narrow and easy to
state to students: no other imports; no exec, eval, open, getattr and friends; no private or
dunder attributes; no assigning attributes of modules or of objects the notebook created; no
rebinding a name the tests rely on; no classes that subclass tensors or define dunder methods.
A finding is not proof of cheating, but a test that ran after it cannot be trusted, so the
grader scores such a submission 0 and lists the finding (cell, line, code) for a person to review.
"""

import ast
from dataclasses import dataclass

from .assemble import is_answer, nbgrader_meta

ALLOWED_IMPORTS = {"torch", "math", "numpy", "functools", "itertools", "collections", "typing", "dataclasses"}
FORBIDDEN_NAMES = {"exec", "eval", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals",
                   "vars", "breakpoint", "input", "get_ipython", "exit", "quit", "memoryview", "help"}
# Module attributes that lead to the interpreter, the operating system or the kernel.
FORBIDDEN_ATTRIBUTES = {"os", "sys", "subprocess", "builtins", "ctypes", "gc", "inspect", "importlib", "library",
                        "ops", "overrides", "cpp_extension", "modules", "IPython", "socket", "signal", "shutil"}
ALLOWED_PRIVATE_ATTRIBUTES = {"_version"}
# Re-importing a module under the name the setup cell gave it binds the same object: harmless.
CONVENTIONAL_IMPORTS = {"torch": "torch", "math": "math", "numpy": "numpy", "np": "numpy"}


@dataclass(frozen=True)
class Finding:
    cell: str
    line: int
    rule: str
    code: str

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


def parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


class AnswerChecker(ast.NodeVisitor):
    """Walks one answer cell and collects its findings."""

    def __init__(self, cell: str, source: str, protected: set[str]):
        self.cell = cell
        self.lines = source.splitlines()
        self.protected = protected
        self.findings: list[Finding] = []
        self.local_scopes: list[set[str]] = []

    def flag(self, node: ast.AST, rule: str) -> None:
        line = getattr(node, "lineno", 1)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.findings.append(Finding(self.cell, line, rule, code[:120]))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] not in ALLOWED_IMPORTS:
                self.flag(node, f"imports {alias.name}")
            elif not self.local_scopes and (alias.asname or alias.name.split(".")[0]) in self.protected \
                    and CONVENTIONAL_IMPORTS.get(alias.asname or alias.name) != alias.name:
                self.flag(node, f"rebinds {alias.asname or alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (node.module or "").split(".")[0] not in ALLOWED_IMPORTS or node.level:
            self.flag(node, f"imports from {node.module}")
        elif not self.local_scopes:
            for alias in node.names:
                if (alias.asname or alias.name) in self.protected:
                    self.flag(node, f"rebinds {alias.asname or alias.name}")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_NAMES or node.id.startswith("__"):
            self.flag(node, f"uses {node.id}")
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and not self.local_scopes and node.id in self.protected:
            self.flag(node, f"rebinds {node.id}, which the tests use")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if (node.attr.startswith("_") and node.attr not in ALLOWED_PRIVATE_ATTRIBUTES) \
                or node.attr in FORBIDDEN_ATTRIBUTES:
            self.flag(node, f"uses the attribute {node.attr}")
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            local = isinstance(root, ast.Name) and self.local_scopes and root.id in self.local_scopes[-1]
            if not local:
                self.flag(node, f"assigns the attribute {node.attr} of an object it did not create")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.flag(node, "declares global names")

    visit_Nonlocal = visit_Global

    def _visit_scope(self, node, arguments: ast.arguments | None) -> None:
        if node.name.startswith("__"):
            self.flag(node, f"defines {node.name}")
        if not self.local_scopes and node.name in self.protected:
            self.flag(node, f"rebinds {node.name}, which the tests use")
        for decorator in node.decorator_list:
            self.visit(decorator)
        names = bound_names(ast.Module(body=node.body, type_ignores=[]))
        if arguments is not None:
            names |= {arg.arg for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
            names |= {arg.arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None}
            for default in [*arguments.defaults, *arguments.kw_defaults]:
                if default is not None:
                    self.visit(default)
        self.local_scopes.append(names)
        for statement in node.body:
            self.visit(statement)
        self.local_scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_scope(node, node.args)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            text = ast.unparse(base)
            if "Tensor" in text or "Parameter" in text:
                self.flag(node, f"subclasses {text}")
            self.visit(base)
        self._visit_scope(node, None)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.local_scopes.append({arg.arg for arg in node.args.args})
        self.visit(node.body)
        self.local_scopes.pop()


def check_answer(cell: str, source: str, protected: set[str]) -> list[Finding]:
    """Findings for one answer cell; a cell that does not parse has none (it simply fails its tests)."""
    tree = parse(source)
    if tree is None:
        return []
    checker = AnswerChecker(cell, source, protected)
    checker.visit(tree)
    return checker.findings


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
    code = [cell for cell in notebook.cells if cell.cell_type == "code" and not is_answer(cell)]
    return protected_names([cell.source for cell in code if not nbgrader_meta(cell).get("grade")],
                           [cell.source for cell in code if nbgrader_meta(cell).get("grade")])
