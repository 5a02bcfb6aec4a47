"""``make validate NOTEBOOK=path``: nbgrader's validator, with an exit code that means something.

``nbgrader validate`` prints failures but always exits 0 (nbgrader issue #1908), so neither a
student's script nor GitHub Classroom can tell a pass from a fail. This command runs the same
validator and exits 1 when any notebook has a failing test or an edited locked cell.

Usage: python -m autograd_course.validate NOTEBOOK [NOTEBOOK ...]
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbgrader.validator import Validator

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def validate(notebook: Path) -> dict:
    """nbgrader's verdict: {} when every test passes, else lists under 'failed', 'changed', 'type_changed'."""
    return Validator().validate(str(notebook))


UNANSWERED = "Hint: an answer cell above this test still raises NotImplementedError; replace it with your code."


def teaching_lines(raw_error: str) -> str:
    """The end of a traceback: the exception line that carries the test's message."""
    lines = [line for line in ANSI_ESCAPE.sub("", raw_error).splitlines() if line.strip()]
    exception_at = max((i for i, line in enumerate(lines) if re.match(r"^\w+(Error|Exception|Mismatch)\b", line)),
                       default=len(lines) - 1)
    message = lines[exception_at:]
    if message and message[0].startswith("NotImplementedError"):
        message.append(UNANSWERED)
    return "\n".join(message)


def cell_names(notebook: Path) -> dict[str, str]:
    """nbgrader's results name a cell by its source; students know it by its grade id."""
    cells = nbformat.read(notebook, as_version=4).cells
    return {cell.source.strip(): cell.metadata.get("nbgrader", {}).get("grade_id", "?") for cell in cells}


def report(notebook: Path, results: dict) -> str:
    if not results:
        return f"PASS {notebook}: every test passes."
    lines = [f"FAIL {notebook}"]
    for cell in results.get("type_changed", []):
        lines.append(f"  a cell was changed from {cell['old_type']} to {cell['new_type']}; change it back:\n"
                     f"    {cell['source'][:80]}")
    for cell in results.get("changed", []):
        lines.append(f"  a locked cell was edited; restore it:\n    {cell['source'][:80]}")
    names = cell_names(notebook)
    for cell in results.get("failed", []):
        lines.append(f"  test cell {names.get(cell['source'], '?')} fails:\n    "
                     + teaching_lines(cell["raw_error"]).replace("\n", "\n    "))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = False
    for notebook in args.notebooks:
        try:
            results = validate(notebook)
        except Exception as error:  # unreadable JSON, a missing file, a kernel that would not start ...
            print(f"ERROR {notebook}: cannot be validated: {type(error).__name__}: {error}")
            failed = True
            continue
        print(report(notebook, results))
        failed |= bool(results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
