import os
import shutil
from pathlib import Path

import pytest

from autograd_course.arithmetic import REPRODUCIBLE_ARITHMETIC
from autograd_course.course import Course, this_course
from work_units import WorkUnitScheduling, start_rank

# Before anything imports torch: MKL reads it at its first call, and every kernel a test starts inherits it.
os.environ.update(REPRODUCIBLE_ARITHMETIC)

COURSE = this_course()
ASSIGNMENTS = COURSE.assignment_ids()


def pytest_generate_tests(metafunc):
    if "assignment_id" in metafunc.fixturenames:
        metafunc.parametrize("assignment_id", ASSIGNMENTS)


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory) -> Course:
    """A throw-away instructor course directory: the config and source/, nothing generated."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE.root / "nbgrader_config.py", root)
    shutil.copytree(COURSE.source_dir, root / "source")
    return Course(Path(root))


def pytest_collection_modifyitems(items):
    """Every worker collects the same order, and the units are handed out in it (--no-loadscope-reorder)."""
    items.sort(key=lambda item: start_rank(item.nodeid))


def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadfile`` (make test), the work units of tests/work_units.py."""
    if config.getoption("dist") == "loadfile":
        return WorkUnitScheduling(config, log)
    return None
