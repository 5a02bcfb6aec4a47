"""One answer cell under check: where its findings go, and what the names in its code refer to (the notebook's
protected names, modules, the cell's own objects, the locals of the function being read)."""

import ast

from .answer_code import root_of
from .findings import Finding
from .policy import ADVICE, CONVENTIONAL_IMPORTS
from .reachable import reachable_names


class CheckedCell(ast.NodeVisitor):
    """The state the answer checker's rules share while they walk one cell, and how they resolve names."""

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
        self.answer_names: set[str] = set()  # every name the submission's answers define (check_answer)
        self.checks: set[str] = set()  # the tests' checks the notebook imports (protected.check_names)

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

    def binds_in_a_function(self, name: str) -> bool:
        """Whether an enclosing function (or lambda) binds ``name`` itself: a closure reads that binding."""
        return any(name in scope for scope in self.local_scopes)

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
