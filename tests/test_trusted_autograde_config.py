"""nbgrader's own autograde configured to grade through the trusted grader (autograd_course.hub.trusted): what
formgrader's Autograde button calls (NbGraderAPI.autograde) scores in the sandbox, and without a sandbox nbgrader
refuses with a message naming make autograde instead of running student code itself."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from adversarial_corpus import CASES
from grading_course import ASSIGNMENT, gradebook_scores, make_course, nbgrader_api, solved, submit

TRUSTED = "\nfrom autograd_course.hub.trusted import use_trusted_grader\nuse_trusted_grader(c)\n"


def trusted_course(root: Path) -> Path:
    make_course(root, shipped=False)
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(TRUSTED)
    nbgrader_api(root, [ASSIGNMENT])  # formgrader's Generate: the assignment in the gradebook
    return root


def case(name: str):
    return next(case for case in CASES if case.name == name)


def test_formgraders_autograde_scores_in_the_sandbox(tmp_path):
    root = trusted_course(tmp_path)
    for student, name in (("ada", "honest_complete"), ("mallory", "patch_torch_allclose")):
        submit(root, student, case(name).build(solved(root), root))
    nbgrader_api(root, [f"{ASSIGNMENT}/ada", f"{ASSIGNMENT}/mallory"])
    assert gradebook_scores(root) == {"ada": 6.0, "mallory": 0.0}  # plain nbgrader gives mallory 6: allclose patched
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "autograd-course") as gradebook:
        flagged = {student: gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).flagged
                   for student in ("ada", "mallory")}
    assert flagged == {"ada": False, "mallory": True}  # formgrader's Flagged? column
    graded = nbformat.read(root / "autograded" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    outputs = [output for cell in graded.cells for output in cell.get("outputs", [])]
    assert any(output.get("ename") == "IntegrityFlag" and "allclose" in output.get("evalue", "")
               for output in outputs), "the finding is not in the graded notebook formgrader shows"


def test_without_a_sandbox_nbgrader_autograde_refuses_and_names_make_autograde(tmp_path):
    root = trusted_course(tmp_path)
    submit(root, "ada", solved(root))
    no_bubblewrap = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # nbgrader's tools, but no bwrap
    run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"], cwd=root,
                         env=no_bubblewrap, capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    assert "make autograde" in run.stderr and "bubblewrap" in run.stderr, run.stderr[-2000:]
    assert not (root / "autograded" / "ada" / ASSIGNMENT).exists(), "nbgrader graded it itself"
