"""``ast.parse`` for a process whose threads parse at the same time (the grader: one thread prepares jobs and
checks answers against the policy while grading slots run notebooks).

CPython 3.11 before 3.11.8 keeps one recursion counter per interpreter for turning a parse tree into ``ast``
objects (gh-106905). When a thread switch lets another thread parse in the middle of that conversion (a garbage
collection that runs a finalizer is enough), the first parse fails with "SystemError: AST constructor recursion
depth mismatch": a submission graded as an error for no fault of its own. One lock makes the parses take turns.
"""

import ast
import threading

_ONE_AT_A_TIME = threading.Lock()


def parse(source: str) -> ast.Module:
    """``ast.parse(source)``, never at the same time as another thread's (raises SyntaxError as it does)."""
    with _ONE_AT_A_TIME:
        return ast.parse(source)
