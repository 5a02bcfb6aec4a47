"""The answer rules, stated in every notebook in the same words: a cell written from the grader's own policy.

The cell follows the exercises' introduction. ``make build`` brings it up to date before releasing, so the
rules a student reads are the rules ``make validate`` and the grader check; a test fails while any is stale.
"""

import nbformat

from .course import Course
from .grading.policy import STUDENT_RULES
from .navigation import locked_markdown_cell

CELL_ID = "answer-rules"
AFTER_CELL_ID = "exercises-intro"
RULES_TEXT = ("**Rules for answers.** Answers may call the functions the locked cells above define, and must keep "
              "to the rules below. The grader checks them before it runs anything, and "
              "`make validate` (or the *Validate* button) shows any problem, with what to write instead, "
              "before you hand in. A notebook that breaks one scores 0 until your instructor has looked at it.\n\n"
              + STUDENT_RULES)


def update(course: Course, assignment_id: str) -> bool:
    """Put the rules cell right after the exercises' introduction; True when the file changed."""
    path = course.source_notebook(assignment_id)
    notebook = nbformat.read(path, as_version=4)
    kept = [cell for cell in notebook.cells if cell.get("id") != CELL_ID]
    position = next(i for i, cell in enumerate(kept) if cell.get("id") == AFTER_CELL_ID) + 1
    wanted = [*kept[:position], locked_markdown_cell(RULES_TEXT, CELL_ID), *kept[position:]]
    if [(cell.get("id"), cell.source) for cell in wanted] == [(cell.get("id"), cell.source) for cell in notebook.cells]:
        return False
    notebook.cells = wanted
    nbformat.write(notebook, path)
    return True
