"""Every source notebook passes its tests; every student version fails each graded test until answered."""

import os
import subprocess
import sys

import nbformat
from jupyter_core.paths import jupyter_config_path
from nbgrader.apps import NbGrader
from nbgrader.validator import Validator

from autograd_course.validate import POLICY_ERROR, policy_findings, validate
from conftest import COURSE
from misconceptions import Correct, Flagged, load, with_answers
from notebook_cells import answered, grade_cells

TCP_WARNING = "without encryption"


def test_source_passes_every_test(assignment_id):
    assert validate(COURSE.source_notebook(assignment_id)) == {}


def test_student_version_fails_every_graded_test(assignment_id):
    path = COURSE.student_notebook(assignment_id)
    results = validate(path)
    graded = grade_cells(nbformat.read(path, as_version=4))
    assert set(results) == {"failed"}
    assert [cell["source"] for cell in results["failed"]] == [cell.source.strip() for cell in graded]
    assert all("NotImplementedError" in cell["raw_error"] for cell in results["failed"])


def run_validate(*paths):
    return subprocess.run([sys.executable, "-m", "autograd_course.validate", *map(str, paths)],
                          capture_output=True, text=True)


def test_validate_command_exit_code_means_pass_or_fail(tmp_path):
    passing = subprocess.run(["make", "-s", "validate", f"NOTEBOOK={COURSE.source_notebook('01_chain_rule')}"],
                             cwd=COURSE.root, capture_output=True, text=True)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "PASS" in passing.stdout
    assert TCP_WARNING not in passing.stdout + passing.stderr  # validation kernels use IPC sockets

    failing = run_validate(COURSE.student_notebook("01_chain_rule"))
    assert failing.returncode == 1
    assert "NotImplementedError" in failing.stdout
    assert TCP_WARNING not in failing.stdout + failing.stderr


def test_validate_command_reports_an_unreadable_notebook_and_goes_on(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ this is not json")
    result = run_validate(broken, COURSE.source_notebook("01_chain_rule"))
    assert result.returncode == 1
    first, second = result.stdout.splitlines()[:2]
    assert first.startswith(f"ERROR {broken}: cannot be validated: ")
    assert second.startswith("PASS ")


def test_wrong_answer_gets_a_teaching_message(tmp_path):
    notebook = nbformat.read(COURSE.source_notebook("01_chain_rule"), as_version=4)
    answer = next(cell for cell in notebook.cells if cell.id == "ex1_answer")
    answer.source = answer.source.replace(" * 2 * x", "")  # forgets the inner derivative dy/dx = 2x
    path = tmp_path / "wrong.ipynb"
    nbformat.write(notebook, path)

    result = run_validate(path)
    assert result.returncode == 1
    message = result.stdout.split("fails:\n", 1)[1].strip().splitlines()
    assert message[0].startswith("AnswerMismatch: chain_rule_derivative(5.47): expected 0.30553, got 0.027927.")
    assert message[1].strip().startswith("Hint: the inner factor dy/dx = 2x is missing")


def notebook_with_answer(tmp_path, answer_id: str, source: str):
    """01_chain_rule as a student hands it in, one answer replaced, in a folder named after the assignment."""
    notebook = nbformat.read(COURSE.source_notebook("01_chain_rule"), as_version=4)
    next(cell for cell in notebook.cells if cell.id == answer_id).source = source
    folder = tmp_path / "01_chain_rule"
    folder.mkdir()
    path = folder / "01_chain_rule.ipynb"
    nbformat.write(notebook, path)
    return path


PATCHING_EX1 = """def chain_rule_derivative(x):
    x = torch.tensor(x)
    method = getattr(torch, 'exp')
    return method(torch.sin(x**2)) * torch.cos(x**2) * 2 * x
"""


def test_validate_command_reports_the_graders_findings_with_advice(tmp_path):
    result = run_validate(notebook_with_answer(tmp_path, "ex1_answer", PATCHING_EX1))
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    at = lines.index("    ex1_answer line 3: uses getattr (method = getattr(torch, 'exp'))")
    assert lines[at + 1] == "        instead: getattr(obj, name) -> write obj.name"
    assert "  test cell ex1_tests did not run: fix the findings above first" in lines
    assert TCP_WARNING not in result.stdout + result.stderr


def test_jupyterlab_validate_button_shows_the_findings(tmp_path, monkeypatch):
    """The button's server handler loads nbgrader's configuration from the folder JupyterLab runs in (the
    repository, with make lab) and validates with nbgrader's own Validator."""
    path = notebook_with_answer(tmp_path, "ex1_answer", PATCHING_EX1)
    monkeypatch.chdir(COURSE.root)
    app = NbGrader()
    app.config_file_paths.append([os.getcwd(), *jupyter_config_path()])
    app.load_config_file()
    failed = Validator(config=app.config).validate(str(path))["failed"]
    graded = grade_cells(nbformat.read(path, as_version=4))
    assert [cell["source"] for cell in failed] == [cell.source.strip() for cell in graded]
    for cell in failed:
        assert cell["raw_error"].startswith(POLICY_ERROR)
        assert "ex1_answer line 3: uses getattr" in cell["raw_error"]
        assert "instead: getattr(obj, name) -> write obj.name" in cell["raw_error"]


def test_make_validate_finds_what_grading_finds_in_the_misconception_corpus(assignment_id):
    """Grading records no finding for any case of the corpus but its broken rules (test_misconceptions); make
    validate's policy agrees on every one, and passes the correct answers of 01 outright."""
    reference = answered(COURSE.student_notebook(assignment_id), COURSE.source_notebook(assignment_id))
    folder = COURSE.root / "notebooks" / assignment_id  # named after the assignment, as a student's folder is
    for case in load(assignment_id):
        rules = [finding.rule for finding in policy_findings(with_answers(reference, case), folder)]
        if isinstance(case, Flagged):
            assert any(case.finding in rule for rule in rules), (case.name, rules)
        else:
            assert rules == [], case.name


def test_make_validate_passes_the_correct_answers_of_01(tmp_path):
    reference = answered(COURSE.student_notebook("01_chain_rule"), COURSE.source_notebook("01_chain_rule"))
    for case in load("01_chain_rule"):
        if isinstance(case, Correct):
            folder = tmp_path / case.name / "01_chain_rule"
            folder.mkdir(parents=True)
            nbformat.write(with_answers(reference, case), folder / "01_chain_rule.ipynb")
            assert validate(folder / "01_chain_rule.ipynb") == {}, case.name
