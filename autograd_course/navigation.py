"""The "previous / index / next" cell at the end of every assignment, written from the course order.

Run ``python -m autograd_course.navigation`` after adding or renaming a notebook (``make build``
does it first); a test fails while any navigation cell is stale.
"""

import argparse
import re
from pathlib import Path

import nbformat

from .course import Course, this_course

CELL_ID = "navigation"
INDEX = "index.ipynb"


def title_of(course: Course, assignment_id: str) -> str:
    """The notebook's heading without its number: '# 05 · Turning …' gives 'Turning …'."""
    first_line = nbformat.read(course.source_notebook(assignment_id), as_version=4).cells[0].source.splitlines()[0]
    return re.sub(r"^#\s*\d+\s*·\s*", "", first_line).strip()


def link(course: Course, assignment_id: str) -> str:
    return f"[{assignment_id[:2]} · {title_of(course, assignment_id)}](../{assignment_id}/{assignment_id}.ipynb)"


def navigation_text(course: Course, assignment_id: str) -> str:
    order = course.assignment_ids()
    position = order.index(assignment_id)
    parts = [f"← Previous: {link(course, order[position - 1])}" if position > 0 else "← Start of the course",
             f"[Learning path](../{INDEX})",
             f"Next: {link(course, order[position + 1])} →" if position + 1 < len(order) else "End of the course →"]
    return "---\n" + " · ".join(parts)


def locked_markdown_cell(text: str, cell_id: str) -> nbformat.NotebookNode:
    """A read-only markdown cell that ``make build`` writes: students cannot edit it, nbgrader does not grade it."""
    cell = nbformat.v4.new_markdown_cell(text, id=cell_id)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": cell_id, "locked": True, "schema_version": 3,
                                 "solution": False}
    return cell


def update(course: Course, assignment_id: str) -> bool:
    """Make the notebook end with its navigation cell; True when the file changed."""
    path = course.source_notebook(assignment_id)
    notebook = nbformat.read(path, as_version=4)
    wanted = navigation_text(course, assignment_id)
    kept = [cell for cell in notebook.cells if cell.get("id") != CELL_ID]
    if len(kept) == len(notebook.cells) - 1 and notebook.cells[-1].get("id") == CELL_ID \
            and notebook.cells[-1].source == wanted:
        return False
    notebook.cells = [*kept, locked_markdown_cell(wanted, CELL_ID)]
    nbformat.write(notebook, path)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="course folder (default: this repository)")
    args = parser.parse_args(argv)
    course = Course(args.root) if args.root else this_course()
    for assignment_id in course.assignment_ids():
        if update(course, assignment_id):
            print(f"navigation updated: {course.source_notebook(assignment_id)}")


if __name__ == "__main__":
    main()
