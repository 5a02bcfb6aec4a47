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


def notebook_protected_names(notebook) -> set[str]:
    """``protected_names`` of an instructor notebook: its locked code cells against its test cells."""
    # Imported here: assemble imports nbformat (2 s), which the fresh interpreter of reachable_names does not need.
    from .assemble import is_answer, nbgrader_meta

    code = [cell for cell in notebook.cells if cell.cell_type == "code" and not is_answer(cell)]
    return protected_names([cell.source for cell in code if not nbgrader_meta(cell).get("grade")],
                           [cell.source for cell in code if nbgrader_meta(cell).get("grade")])
