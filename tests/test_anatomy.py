"""Every notebook has the same anatomy, the nbgrader cells it needs, and a figure."""

import re

import nbformat

from conftest import COURSE
from notebook_cells import answer_cells, exercise_of, grade_cells, nbgrader

SECTIONS = ["## 1 Goals", "## 2 Concept", "## 3 Worked examples", "## 4 Exercises", "## 5 Pitfalls", "## 6 Summary"]
HIDDEN = "### BEGIN HIDDEN TESTS"


def source(assignment_id):
    return nbformat.read(COURSE.source_notebook(assignment_id), as_version=4)


def test_sections_in_order(assignment_id):
    markdown = "\n".join(cell.source for cell in source(assignment_id).cells if cell.cell_type == "markdown")
    positions = [markdown.find(f"\n{heading}\n") for heading in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), f"sections missing or out of order: {SECTIONS}"


def test_every_cell_but_answers_is_locked(assignment_id):
    notebook = source(assignment_id)
    unlocked = [cell.id for cell in notebook.cells
                if not nbgrader(cell).get("solution") and not (nbgrader(cell).get("locked") or nbgrader(cell).get("grade"))]
    assert not unlocked, f"cells a student could edit: {unlocked}"
    ids = [nbgrader(cell).get("grade_id") for cell in notebook.cells]
    assert None not in ids and len(ids) == len(set(ids))


def test_at_least_two_exercises_with_points_and_hidden_tests(assignment_id):
    notebook = source(assignment_id)
    answers = {exercise_of(cell) for cell in answer_cells(notebook)}
    tested = {exercise_of(cell) for cell in grade_cells(notebook)
              if nbgrader(cell)["points"] > 0 and HIDDEN in cell.source and re.search(r"\b(expect|check)_\w+\(", cell.source)}
    assert len(answers) >= 2 and answers == tested, f"exercises {sorted(answers)}, with tested points {sorted(tested)}"
    assert all(not nbgrader(cell).get("grade") for cell in answer_cells(notebook)), "answers are graded by test cells"


def test_student_version_hides_hidden_tests_and_solutions(assignment_id):
    text = COURSE.student_notebook(assignment_id).read_text()
    assert HIDDEN not in text and "BEGIN SOLUTION" not in text


def test_reference_run_draws_a_figure_and_writes_nothing_to_stderr(assignment_id):
    outputs = [out for cell in nbformat.read(COURSE.solution_notebook(assignment_id), as_version=4).cells
               for out in cell.get("outputs", [])]
    assert any("image/png" in out.get("data", {}) for out in outputs)
    assert not [out for out in outputs if out.get("name") == "stderr"]


def test_reference_run_prints_no_memory_address(assignment_id):
    """An address (a repr like '<... at 0x7f...>') changes on every run, so nbval could never replay it."""
    for cell in nbformat.read(COURSE.solution_notebook(assignment_id), as_version=4).cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") + out.get("data", {}).get("text/plain", "") + out.get("evalue", "")
            assert not re.search(r"\b0x[0-9a-f]{6,}", text), f"{cell.id} prints an address"
