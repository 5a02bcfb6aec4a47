"""The names the tests rely on, which an answer may not rebind or change."""

import ast

from .answer_code import bound_names, parse, used_names


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


# The package of every notebook's checks: what a locked cell imports from it is the tests' (check_chain_rule ...).
CHECKS_PACKAGE = "autograd_course.exercises"


def check_names(locked_sources: list[str]) -> set[str]:
    """The names the locked cells import from the checks' package: an answer that calls one reads the expected
    values (the message of a failing case, or which guesses pass), which the tests compute from its inputs."""
    names = set()
    for tree in map(parse, locked_sources):
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(CHECKS_PACKAGE):
                names.update(alias.asname or alias.name for alias in node.names)
    return names


def locked_code(notebook) -> list[str]:
    """The sources of an instructor notebook's locked code cells (neither answers nor tests)."""
    # Imported here: assemble imports nbformat (2 s), which the fresh interpreter of reachable_names does not need.
    from .assemble import is_answer, nbgrader_meta

    return [cell.source for cell in notebook.cells
            if cell.cell_type == "code" and not is_answer(cell) and not nbgrader_meta(cell).get("grade")]


def notebook_check_names(notebook) -> set[str]:
    """``check_names`` of an instructor notebook."""
    return check_names(locked_code(notebook))


def notebook_protected_names(notebook) -> set[str]:
    """``protected_names`` of an instructor notebook: its locked code cells against its test cells."""
    # Imported here: assemble imports nbformat (2 s), which the fresh interpreter of reachable_names does not need.
    from .assemble import is_answer, nbgrader_meta

    code = [cell for cell in notebook.cells if cell.cell_type == "code" and not is_answer(cell)]
    return protected_names([cell.source for cell in code if not nbgrader_meta(cell).get("grade")],
                           [cell.source for cell in code if nbgrader_meta(cell).get("grade")])
