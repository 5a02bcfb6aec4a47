"""The pre-commit checks (.pre-commit-config.yaml), enforced by `make test` too, so that a contributor without
pre-commit installed still finds out: ruff's findings, outputs where nbstripout would strip them."""

import subprocess
import sys

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
