"""Facts about nbgrader cells that several tests need."""

from autograd_course.grading.assemble import nbgrader_meta as nbgrader
from autograd_course.grading.simulate import SOLUTION_MARKER, answer_cells, answered, exercise_of  # noqa: F401


def grade_cells(notebook) -> list:
    return [cell for cell in notebook.cells if nbgrader(cell).get("grade")]
