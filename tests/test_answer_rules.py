"""Every notebook states the answer rules in the same words, written from the policy the grader enforces."""

import re

import nbformat

from autograd_course.answer_rules import AFTER_CELL_ID, CELL_ID, RULES_TEXT, update
from autograd_course.grading.policy import STUDENT_RULES
from conftest import ASSIGNMENTS, COURSE


def test_rules_cells_are_up_to_date(course_copy):
    stale = [assignment_id for assignment_id in ASSIGNMENTS if update(course_copy, assignment_id)]
    assert not stale, f"answer-rules cells out of date in {stale}: run `make build`"


def test_student_version_states_the_policy_right_after_the_exercises_introduction(assignment_id):
    cells = nbformat.read(COURSE.student_notebook(assignment_id), as_version=4).cells
    position = next(i for i, cell in enumerate(cells) if cell.get("id") == AFTER_CELL_ID)
    rules = cells[position + 1]
    assert (rules.id, rules.cell_type, rules.source) == (CELL_ID, "markdown", RULES_TEXT)
    assert rules.metadata["nbgrader"]["locked"] and STUDENT_RULES in RULES_TEXT


def test_no_other_cell_states_rules_of_its_own(assignment_id):
    """The old per-notebook wordings ("no `import` statements", "Use `torch` only") contradicted the policy."""
    cells = nbformat.read(COURSE.source_notebook(assignment_id), as_version=4).cells
    prose = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown" and cell.get("id") != CELL_ID)
    assert not re.search(r"no `?import`?( statements)?|answers may use `torch`|use `torch` only", prose, re.I)
