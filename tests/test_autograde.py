"""nbgrader's own autograde on a throw-away course: scores in the gradebook are exactly what was earned."""

import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograd_course.course import Course
from conftest import COURSE
from notebook_cells import answered, exercise_of, grade_cells, nbgrader


@pytest.fixture(scope="module")
def grading_course(tmp_path_factory) -> Course:
    root = tmp_path_factory.mktemp("grading")
    shutil.copy(COURSE.root / "nbgrader_config.py", root)
    shutil.copytree(COURSE.source_dir, root / "source")
    return Course(root)


def nbgrader_cli(course: Course, *args):
    subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=course.root, check=True)


def submit(course: Course, student: str, assignment_id: str, notebook) -> None:
    folder = course.root / "submitted" / student / assignment_id
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{assignment_id}.ipynb")


def test_autograde_scores_exactly_what_was_earned(grading_course, assignment_id):
    nbgrader_cli(grading_course, "generate_assignment", assignment_id, "--force")
    student_version = grading_course.student_notebook(assignment_id)
    source = grading_course.source_notebook(assignment_id)
    graded = grade_cells(nbformat.read(source, as_version=4))
    first_exercise = exercise_of(graded[0])
    partial_points = sum(nbgrader(cell)["points"] for cell in graded if exercise_of(cell) == first_exercise)

    submit(grading_course, "complete", assignment_id, answered(student_version, source))
    submit(grading_course, "untouched", assignment_id, nbformat.read(student_version, as_version=4))
    submit(grading_course, "partial", assignment_id, answered(student_version, source, {first_exercise}))
    nbgrader_cli(grading_course, "autograde", assignment_id)

    with Gradebook(f"sqlite:///{grading_course.root / 'gradebook.db'}", "autograd-course") as gradebook:
        max_score = gradebook.find_assignment(assignment_id).max_score
        scores = {student: gradebook.find_submission(assignment_id, student).score
                  for student in ("complete", "untouched", "partial")}
    assert max_score == sum(nbgrader(cell)["points"] for cell in graded)
    assert scores == {"complete": max_score, "untouched": 0, "partial": partial_points}
    assert 0 < partial_points < max_score


def test_hard_coded_visible_answer_loses_the_hidden_tests(grading_course):
    """Hidden tests exist only in the gradebook's copy of the test cell: autograde must put them back."""
    assignment_id = "01_chain_rule"
    nbgrader_cli(grading_course, "generate_assignment", assignment_id, "--force")
    notebook = answered(grading_course.student_notebook(assignment_id), grading_course.source_notebook(assignment_id))
    answer = next(cell for cell in notebook.cells if cell.id == "ex1_answer")
    answer.source = "def chain_rule_derivative(x):\n    return torch.tensor(0.3055)"  # right at 5.47 only
    submit(grading_course, "hard_coder", assignment_id, notebook)
    nbgrader_cli(grading_course, "autograde", assignment_id, "--student=hard_coder")

    with Gradebook(f"sqlite:///{grading_course.root / 'gradebook.db'}", "autograd-course") as gradebook:
        grades = {grade.name: grade.score for grade in
                  gradebook.find_submission_notebook(assignment_id, assignment_id, "hard_coder").grades}
    assert grades == {"ex1_tests": 0, "ex2_tests": 3}
