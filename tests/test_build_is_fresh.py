"""notebooks/ and solutions/ are exactly what `make build` makes from source/."""

import json

import nbformat

from autograd_course.release import release_student_version
from conftest import ASSIGNMENTS, COURSE


def cells_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook.cells


def test_every_assignment_is_built():
    built = lambda folder: sorted(p.name for p in folder.iterdir() if p.is_dir())  # noqa: E731
    assert ASSIGNMENTS, "source/ holds no assignment"
    assert built(COURSE.release_dir) == ASSIGNMENTS
    assert built(COURSE.solutions_dir) == ASSIGNMENTS


def test_student_version_is_what_nbgrader_generates(course_copy, assignment_id):
    release_student_version(course_copy, assignment_id)
    fresh = json.loads(course_copy.student_notebook(assignment_id).read_text())
    committed = json.loads(COURSE.student_notebook(assignment_id).read_text())
    assert committed == fresh, f"notebooks/{assignment_id} is stale: run `make build`"


def test_solution_is_the_source_with_outputs(assignment_id):
    assert cells_without_outputs(COURSE.solution_notebook(assignment_id)) == cells_without_outputs(
        COURSE.source_notebook(assignment_id)), f"solutions/{assignment_id} is stale: run `make build`"


def test_solution_records_outputs(assignment_id):
    cells = nbformat.read(COURSE.solution_notebook(assignment_id), as_version=4).cells
    assert any(cell.get("outputs") for cell in cells), f"solutions/{assignment_id} was never executed"


def test_source_and_student_versions_carry_no_outputs(assignment_id):
    for path in (COURSE.source_notebook(assignment_id), COURSE.student_notebook(assignment_id)):
        cells = nbformat.read(path, as_version=4).cells
        assert not [cell.id for cell in cells if cell.get("outputs")], f"{path} must be stored without outputs"
