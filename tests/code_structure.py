"""The shape of a Python package read from its source: how long its classes are, and what imports what.

Imports are read wherever they are written (a function's deferred import is still a dependency), and resolved to
the package's own modules; anything outside the package is left out.
"""

import ast
import re
from pathlib import Path


def modules_of(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of a package folder (a package is its ``__init__``)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def long_classes(package: Path, limit: int) -> list[str]:
    """``module.Class (n lines)`` for every class longer than ``limit`` lines, decorators and docstring included."""
    found = []
    for name, path in modules_of(package).items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                start = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
                if node.end_lineno - start + 1 > limit:
                    found.append(f"{name}.{node.name} ({node.end_lineno - start + 1} lines)")
    return found


def imports_of(package: Path) -> dict[str, set[str]]:
    """Each module of the package -> the package's modules it imports."""
    modules = modules_of(package)
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = name.split(".") if is_package else name.split(".")[:-1]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else node.module
                imported.add(base)
                imported |= {f"{base}.{alias.name}" for alias in node.names}
        # A dotted import reaches the module itself, not its parent packages' own code beyond their __init__.
        graph[name] = {module for module in imported if module in modules and module != name}
    return graph


def import_cycles(package: Path) -> list[list[str]]:
    """The package's import cycles, each as the modules around it (one per strongly connected component)."""
    graph = imports_of(package)
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


TORCH_PRIVATE_TEXT = re.compile(r"\btorch(?:\.\w+)+")


def private_prefix(name: str) -> str | None:
    """``torch._C`` for ``torch._C._functorch.TransformType``: a torch path up to its first private part (``_C``,
    ``__x``; a dunder such as ``__module__`` is public); None for a public path or anything not torch's."""
    parts = name.split(".")
    for index, part in enumerate(parts[1:], start=1):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[:index + 1]) if parts[0] == "torch" else None
    return None


def dotted(node: ast.AST) -> str | None:
    """``torch._C._functorch`` for that chain of attributes from a name; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        root = dotted(node.value)
        return f"{root}.{node.attr}" if root else None
    return None


def private_torch_names(package: Path) -> list[str]:
    """``module:line name`` for every private torch name a package's source uses: an attribute chain from torch
    (``torch._C``, ``torch.cuda._utils``), an import of one, or a module path written in a string
    (``"torch._functorch"``, as a prefix of frames' module names)."""
    found = []
    for name, path in modules_of(package).items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                names = [dotted(node)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [match.group(0) for match in TORCH_PRIVATE_TEXT.finditer(node.value)]
            else:
                continue
            found += [f"{name}:{node.lineno} {prefix}" for each in names if each and (prefix := private_prefix(each))]
    return sorted(set(found))
