"""Every exercise rejects the mistakes students make, with a hint naming each, accepts every correct answer, and
flags every broken answer rule as make validate does.

Each assignment's corpus (tests/corpus/<id>.py) is graded in one batch by the real, sandboxed grader; scores are read
from nbgrader's gradebook and messages from the autograded notebooks.
"""

from collections import Counter

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograd_course.validate import policy_findings
from conftest import ASSIGNMENTS, COURSE
from grading_course import findings_said, grade, make_course, outcome, solved, submit
from misconceptions import Correct, Flagged, Mistake, exercise, exercises_of, load, with_answers
from notebook_cells import grade_cells, nbgrader

CORPORA = {assignment: load(assignment) for assignment in ASSIGNMENTS}
CASES = [(assignment, case) for assignment, cases in CORPORA.items() for case in cases]
MIN_MISTAKES, MIN_CORRECT = 5, 3
REFERENCE = "reference"  # the source's own answers, graded in the same batch


class GradedCorpora:
    """Grades an assignment's corpus, with its reference answers, in one batch of its own when first asked: each
    assignment is an xdist work unit of its own (tests/work_units.py), so that the corpora spread over the workers."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.roots = {}

    def root(self, assignment: str):
        if assignment not in self.roots:
            course_root = make_course(self.tmp_path_factory.mktemp(f"corpus-{assignment}"), assignment, shipped=False)
            reference = solved(course_root, assignment)
            submit(course_root, REFERENCE, reference, assignment)
            for case in CORPORA[assignment]:
                submit(course_root, case.name, with_answers(reference, case), assignment)
            result = grade(course_root, assignment=assignment, cell_timeout=60)
            assert result.returncode == 0, result.stdout + result.stderr
            self.roots[assignment] = course_root
        return self.roots[assignment]


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> GradedCorpora:
    return GradedCorpora(tmp_path_factory)


def cell_scores(root, assignment: str, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "autograd-course") as gradebook:
        submission = gradebook.find_submission_notebook(assignment, assignment, student)
        return {grade.name: grade.score for grade in submission.grades}


def cell_message(root, assignment: str, student: str, grade_id: str) -> str:
    path = root / "autograded" / student / assignment / f"{assignment}.ipynb"
    cell = next(cell for cell in nbformat.read(path, as_version=4).cells if nbgrader(cell).get("grade_id") == grade_id)
    return "\n".join(output.get("evalue", "") + "".join(output.get("traceback", [])) + output.get("text", "")
                     for output in cell.outputs)


def test_corpus_names_are_unique_student_ids():
    for assignment, cases in CORPORA.items():
        names = [case.name for case in cases]
        assert len(set(names)) == len(names), assignment
        assert all(name.replace("-", "").isalnum() and name.islower() for name in names), assignment


@pytest.mark.parametrize("assignment", [assignment for assignment in ASSIGNMENTS if CORPORA[assignment]])
def test_every_exercise_has_enough_mistakes_and_correct_answers(assignment):
    source = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
    exercises = {exercise(nbgrader(cell)["grade_id"]) for cell in grade_cells(source)}
    mistakes = Counter(exercise(case.fails) for case in CORPORA[assignment] if isinstance(case, Mistake))
    correct = Counter(ex for case in CORPORA[assignment] if isinstance(case, Correct) for ex in exercises_of(case))
    for ex in sorted(exercises):
        assert mistakes[ex] >= MIN_MISTAKES, f"{assignment} {ex}: {mistakes[ex]} misconceptions"
        assert correct[ex] >= MIN_CORRECT, f"{assignment} {ex}: {correct[ex]} correct answers"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_answers_earn_full_marks_without_findings(graded, assignment):
    """No false alarms: the audit and the policy leave the reference answers of every notebook alone."""
    recorded = outcome(graded.root(assignment), REFERENCE, assignment)
    assert (recorded["status"], recorded["findings"], recorded["score"]) == ("graded", [], recorded["max_score"])
    assert recorded["max_score"] > 0


@pytest.mark.parametrize("assignment, case", CASES, ids=[f"{assignment}-{case.name}" for assignment, case in CASES])
def test_case_scores_as_it_should_with_its_hint(graded, assignment, case):
    root = graded.root(assignment)
    recorded = outcome(root, case.name, assignment)
    if isinstance(case, Flagged):
        assert (recorded["status"], recorded["score"]) == ("flagged", 0), recorded
        path = root / "submitted" / case.name / assignment / f"{assignment}.ipynb"
        validated = [str(finding) for finding in policy_findings(nbformat.read(path, as_version=4), path.parent)]
        # grading runs a flagged notebook too, and may find more there (values its checks did not expect)
        assert set(validated) <= set(findings_said(recorded)), "make validate finds what grading does not"
        assert any(case.finding in finding for finding in validated), f"{case.name}: {case.finding!r} not in {validated}"
        return
    assert (recorded["status"], recorded["findings"]) == ("graded", []), recorded
    scores = cell_scores(root, assignment, case.name)
    source = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    points = {nbgrader(cell)["grade_id"]: nbgrader(cell)["points"] for cell in grade_cells(source)}
    if isinstance(case, Correct):
        assert scores == points
        return
    message = cell_message(root, assignment, case.name, case.fails)
    assert scores[case.fails] == 0, f"{case.name} ({case.why}) passed {case.fails}"
    assert case.hint in message, f"{case.name}: hint {case.hint!r} not in {message!r}"
    assert {cell: score for cell, score in scores.items() if cell != case.fails} == {
        cell: score for cell, score in points.items() if cell != case.fails}
