"""Every source notebook passes its tests; every student version fails each graded test until answered."""

import subprocess
import sys

import nbformat

from autograd_course.validate import validate
from conftest import COURSE
from notebook_cells import grade_cells


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
    passing = run_validate(COURSE.source_notebook("01_chain_rule"))
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert passing.stdout.startswith("PASS")

    failing = run_validate(COURSE.student_notebook("01_chain_rule"))
    assert failing.returncode == 1
    assert "NotImplementedError" in failing.stdout


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
    assert message[0].startswith("AnswerMismatch: chain_rule_derivative(5.47): expected 0.3055, got tensor(0.0279).")
    assert message[1].strip().startswith("Hint: multiply the three local derivatives")
