"""The pre-commit checks (.pre-commit-config.yaml), enforced by `make test` too, so that a contributor without
pre-commit installed still finds out: ruff's findings, outputs where nbstripout would strip them."""

import subprocess
import sys

from code_structure import import_cycles, long_classes
from conftest import COURSE


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=COURSE.root, capture_output=True, text=True)


def test_ruff_finds_nothing():
    """Python files and source/ notebooks, with the rules in pyproject.toml (mistakes, not style): what pre-commit runs."""
    result = run("ruff", "check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_source_and_student_notebooks_are_what_nbstripout_leaves():
    notebooks = sorted(str(path.relative_to(COURSE.root))
                       for folder in (COURSE.source_dir, COURSE.release_dir) for path in folder.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in path.parts)
    assert notebooks
    result = run("nbstripout", "--verify", "--keep-id", *notebooks)
    assert result.returncode == 0, f"run `nbstripout --keep-id` on these:\n{result.stdout}{result.stderr}"


def test_pre_commit_config_is_valid():
    result = run("pre_commit", "validate-config", ".pre-commit-config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_class_of_the_grader_is_over_150_lines():
    """nbgrader-like granularity: the grader's classes each do one job (the trusted grader's, the guard's ...)."""
    assert long_classes(COURSE.root / "autograd_course" / "grading", 150) == []


def test_the_course_package_imports_one_way():
    assert import_cycles(COURSE.root / "autograd_course") == []


def test_structure_checks_see_long_classes_and_cycles(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .. import top\n")
    (package / "top.py").write_text("import json\n\n\ndef later():\n    from .sub import deep\n")
    (package / "sub" / "deep.py").write_text("class Short:\n    pass\n\n\nclass Long:\n" + "    x = 1\n" * 150)
    (package / "alone.py").write_text("from pkg.sub.deep import Short\n")
    assert long_classes(package, 150) == ["pkg.sub.deep.Long (151 lines)"]
    # sub imports top, and top (in a function) sub.deep, which is sub's own: the cycle is sub and top
    assert import_cycles(package) == [["pkg.sub", "pkg.top"]]
