"""How the grader and the guard name a cell and follow its statements.

A cell is named by the digest of its stripped source, the same on both sides of the sandbox: the grader computes
it from the notebook, the guard from IPython's linecache copy of the code it is asked to run.
"""

import ast
import hashlib


def cell_digest(source: str) -> str:
    """How grader and guard name a cell: the hash of its stripped source (IPython's linecache copy of it)."""
    return hashlib.sha256(source.strip().encode()).hexdigest()


def end_marker(source: str, nonce: str) -> str:
    """A test cell as the grader runs it: its source, then a last statement the guard recognises."""
    return f"{source.rstrip()}\npass  # the grader's end of this test, {nonce}\n"


def is_cell_file(filename: str) -> bool:
    """Whether a code object's file is one of IPython's cells."""
    return "/ipykernel_" in filename or filename.startswith("<ipython-input")


def first_line(code) -> int | None:
    return min((line for line, *_ in code.co_positions() if line), default=None)


def statement_lines(source: str) -> list[int]:
    """Where each top-level statement of a cell starts (decorators included), as IPython runs them."""
    lines = []
    for node in ast.parse(source).body:
        decorators = getattr(node, "decorator_list", [])
        lines.append(min([node.lineno, *(decorator.lineno for decorator in decorators)]))
    return lines
