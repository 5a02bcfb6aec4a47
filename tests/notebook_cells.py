"""Facts about nbgrader cells that several tests need."""

import re

import nbformat

SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|\Z)", re.MULTILINE)


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def grade_cells(notebook) -> list:
    return [cell for cell in notebook.cells if nbgrader(cell).get("grade")]


def answer_cells(notebook) -> list:
    return [cell for cell in notebook.cells if nbgrader(cell).get("solution")]


def exercise_of(cell) -> str:
    """'ex2' for the cells of exercise 2 (ids ex2_answer, ex2_tests ...)."""
    return nbgrader(cell)["grade_id"].split("_")[0]


def answered(student_path, source_path, exercises=None):
    """The student notebook with the source's solutions typed into the answer cells of ``exercises`` (all if None)."""
    student = nbformat.read(student_path, as_version=4)
    solutions = {nbgrader(cell)["grade_id"]: cell.source for cell in answer_cells(nbformat.read(source_path, as_version=4))}
    for cell in answer_cells(student):
        if exercises is None or exercise_of(cell) in exercises:
            cell.source = SOLUTION_MARKER.sub("", solutions[nbgrader(cell)["grade_id"]])
    return student
