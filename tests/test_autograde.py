"""nbgrader's own autograde, unchanged, on a throw-away course: scores in the gradebook are exactly what was earned.

One nbgrader process generates every assignment and one grades every submission (each start of nbgrader costs
seconds). Each assignment gets one submission with only its first exercise answered: its score shows both that an
answer earns its exercise's points and that an unanswered exercise earns none.
"""

import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograd_course.course import Course
from conftest import ASSIGNMENTS, COURSE
from grading_course import nbgrader_api, submit
from autograd_course.grading.simulate import exercise_points
from notebook_cells import answered, grade_cells, nbgrader

HARD_CODER, HARD_CODED_ASSIGNMENT = "hard-coder", "01_chain_rule"


def first_exercise_points(source) -> tuple[str, float]:
    first, points = next(iter(exercise_points(source).items()))
    return first, points


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Course:
    root = tmp_path_factory.mktemp("grading")
    shutil.copy(COURSE.root / "nbgrader_config.py", root)
    shutil.copytree(COURSE.source_dir, root / "source")
    course = Course(root)
    nbgrader_api(root, ASSIGNMENTS)
    for assignment_id in ASSIGNMENTS:
        first, _ = first_exercise_points(course.source_notebook(assignment_id))
        submit(root, "partial", answered(course.student_notebook(assignment_id),
                                         course.source_notebook(assignment_id), {first}), assignment_id)
    hard_coded = answered(course.student_notebook(HARD_CODED_ASSIGNMENT), course.source_notebook(HARD_CODED_ASSIGNMENT))
    answer = next(cell for cell in hard_coded.cells if cell.id == "ex1_answer")
    answer.source = "def chain_rule_derivative(x):\n    return torch.tensor(0.3055)"  # right at 5.47 only
    submit(root, HARD_CODER, hard_coded, HARD_CODED_ASSIGNMENT)
    nbgrader_api(root, [f"{assignment_id}/partial" for assignment_id in ASSIGNMENTS]
                 + [f"{HARD_CODED_ASSIGNMENT}/{HARD_CODER}"])
    return course


def cell_scores(course: Course, assignment_id: str, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", "autograd-course") as gradebook:
        return {grade.name: grade.score for grade in
                gradebook.find_submission_notebook(assignment_id, assignment_id, student).grades}


def test_autograde_scores_exactly_what_was_earned(graded, assignment_id):
    source = graded.source_notebook(assignment_id)
    first, partial_points = first_exercise_points(source)
    points = {nbgrader(cell)["grade_id"]: nbgrader(cell)["points"]
              for cell in grade_cells(nbformat.read(source, as_version=4))}
    with Gradebook(f"sqlite:///{graded.root / 'gradebook.db'}", "autograd-course") as gradebook:
        max_score = gradebook.find_assignment(assignment_id).max_score
        score = gradebook.find_submission(assignment_id, "partial").score
    assert max_score == sum(points.values())
    assert 0 < score == partial_points < max_score
    assert cell_scores(graded, assignment_id, "partial") == {
        grade_id: points[grade_id] if grade_id.startswith(f"{first}_") else 0 for grade_id in points}


def test_hard_coded_visible_answer_loses_the_hidden_tests(graded):
    """Hidden tests exist only in the gradebook's copy of the test cell: autograde must put them back."""
    assert cell_scores(graded, HARD_CODED_ASSIGNMENT, HARD_CODER) == {"ex1_tests": 0, "ex2_tests": 3}
