"""Points are judged outside the kernel: a pass the kernel forged earns nothing, and no hidden test enters it.

The attacks of issue 20 (raw memory, modes pushed between boundaries) end with the kernel's checks doing nothing
while the student's wrong answer runs. Here the kernel's checks are replaced the same way, by the course's own
set-up cell (which the guard trusts, so only judging outside can catch it): the real, sandboxed grader must still
give the wrong answer nothing, because the values it returned, judged outside the kernel, are wrong.
"""

import nbformat
import pytest

from autograd_course.exercises.chain_rule import composite
from autograd_course.grading.batch import TrustedAutograder
from autograd_course.grading.cells import cell_digest
from autograd_course.grading.sandbox import Unconfined
from autograd_course.grading.test_calls import HIDDEN_BLOCK
from autograd_course.numeric import central_difference
from grading_course import ASSIGNMENT, findings_said, grade, gradebook_scores, make_course, outcome, solved, submit

WRONG = "def chain_rule_derivative(x):\n    return torch.tensor(0.0)"
# The kernel's check_chain_rule, replaced: it still observes and sends what the answer returned, but never fails.
SILENCED = """
from autograd_course.cases import Check
import autograd_course.exercises.chain_rule as checks
check_chain_rule = Check("check_chain_rule", checks.observe_chain_rule, lambda seen, *inputs, **options: None)
"""
# ... and it sends the visible case's expected value, the only one the kernel can compute, for every case.
FORGED = SILENCED + """
def forged(answer, point):
    return {"got": checks.central_difference(checks.composite, 5.47).float(), "backward_passes": 0, "calls": ""}
check_chain_rule = Check("check_chain_rule", forged, lambda seen, *inputs, **options: None)
"""


def with_setup(root, extra: str) -> None:
    """The course's own set-up cell, followed by ``extra`` (so the guard trusts it as the instructor's)."""
    path = root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    next(cell for cell in notebook.cells if cell.id == "setup").source += "\n" + extra
    nbformat.write(notebook, path)


def ex1_tests(root, student: str):
    graded = nbformat.read(root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return next(cell for cell in graded.cells if cell.id == "ex1_tests")


@pytest.mark.parametrize("replacement", [SILENCED, FORGED], ids=["check-silenced", "values-forged"])
def test_a_pass_the_kernel_forged_earns_nothing(tmp_path, replacement):
    root = make_course(tmp_path)
    with_setup(root, replacement)
    notebook = solved(root)
    next(cell for cell in notebook.cells if cell.id == "ex1_answer").source = WRONG
    submit(root, "forger", notebook)
    result = grade(root)
    assert result.returncode == 0, result.stdout + result.stderr
    recorded, cell = outcome(root, "forger"), ex1_tests(root, "forger")
    messages = [output.evalue for output in cell.outputs if output.output_type == "error"]
    if replacement is SILENCED:  # the visible case: the kernel said pass for a value that is wrong
        assert recorded["status"] == "flagged" and gradebook_scores(root) == {"forger": 0}
        assert "ex1_tests: the kernel reported it passed, but a visible case fails when its values are judged outside " \
               "it" in findings_said(recorded)
        assert messages[0].startswith("chain_rule_derivative(5.47): expected 0.30553, got 0.")
    else:  # right at 5.47, where the kernel could compute it; the hidden inputs it could not
        assert recorded["status"] == "graded" and gradebook_scores(root) == {"forger": 3}
        assert messages == ["chain_rule_derivative(0.3): expected 0.65377, got 0.30553.\n"
                            "Hint: your formula must hold at every x, not only at 5.47"]
    assert not any("values+json" in str(output) for output in cell.outputs)


def test_no_hidden_test_source_or_expected_value_reaches_the_kernel(tmp_path):
    """What the kernel can see: the sources of the cells it runs (each as the grader runs it) and the files."""
    root = make_course(tmp_path)
    submit(root, "ada", solved(root))
    grader = TrustedAutograder(root, ASSIGNMENT, Unconfined())
    job = grader.prepare("ada").job
    run = [job.kernel_versions.get(cell_digest(cell.source), cell.source)
           for cell in nbformat.reads(job.notebook, as_version=4).cells if cell.cell_type == "code"]
    seen_by_kernel = "\n".join(run) + "".join(content.decode(errors="replace") for content in
                                              [*job.files.values(), *job.shipped.values()])
    hidden_blocks = [block.group(1) for cell in grader.source.cells for block in HIDDEN_BLOCK.finditer(cell.source)]
    assert len(hidden_blocks) == 2
    assert "HIDDEN" not in seen_by_kernel and "otherwise" not in seen_by_kernel
    assert "your formula must hold at every x" not in seen_by_kernel
    for point in (0.3, -1.7, 0.0, 2.0, 4.1):
        expected = float(central_difference(composite, point))
        assert abs(expected) < 1e-9 or f"{expected:.5g}" not in seen_by_kernel and repr(expected) not in seen_by_kernel
        assert f"check_chain_rule.record(chain_rule_derivative, {point!r})" in seen_by_kernel  # the input, at call time
    assert all(cell_digest(source) in job.trusted_cells for source in run if "check_" in source)
