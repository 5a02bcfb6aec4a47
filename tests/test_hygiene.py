"""The pre-commit checks (.pre-commit-config.yaml), enforced by `make test` too, so that a contributor without
pre-commit installed still finds out: ruff's findings, outputs where nbstripout would strip them."""

import re
import subprocess
import sys

from code_structure import import_cycles, long_classes, private_torch_names
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


# Private torch names the checks may use (``module name``), each with why a torch rename costs no student a
# point. Empty: every check reaches torch through its public API (rules.TORCH_FUNC_PACKAGE finds torch.func's
# package from its functions).
PRIVATE_TORCH_ALLOWED: dict[str, str] = {}


def test_checks_use_no_private_torch_name():
    """The checks run inside the student's call: a private torch name that an upgrade renames would fail every
    answer, correct ones too, as "your code raised AttributeError". The grader's own machinery (grading/, which
    watches torch's C hooks from outside the answers) is not a check."""
    found = [entry for entry in private_torch_names(COURSE.root / "autograd_course")
             if not entry.startswith("autograd_course.grading.")]
    assert [entry for entry in found if re.sub(r":\d+", "", entry) not in PRIVATE_TORCH_ALLOWED] == []


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


def test_private_torch_names_are_seen_in_attributes_imports_and_strings(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "uses.py").write_text(
        "import torch\nimport torch._dynamo\nfrom torch.amp import _helpers\n"
        "kind = torch._C._functorch.TransformType\nprefix = 'torch._functorch.apis'\n"
        "public = torch.func.jacrev.__module__, torch.nn.functional.relu, 'torch.func and _private text'\n")
    assert private_torch_names(package) == ["pkg.uses:2 torch._dynamo", "pkg.uses:3 torch.amp._helpers",
                                            "pkg.uses:4 torch._C", "pkg.uses:5 torch._functorch"]
