"""How make test's xdist workers share the suite: one work unit per file, except where one file is minutes of work,
and the longest units first.

A unit stays on one worker, so that the fixtures of its file are built once. The files of ``SPLIT_BY_ASSIGNMENT``
would keep one worker busy for minutes while the other idles at the end: each of their tests whose id names an
assignment belongs to that assignment's unit (with the fixture work of that assignment only), the rest to the
file's. xdist's own ``--dist loadgroup`` marks cannot do it under pytest 9 (xdist 3.8 rewrites ``item._nodeid``,
which pytest 9 no longer reads), and the controller that hands out the units sees test ids only, not marks.
"""

from xdist.scheduler import LoadFileScheduling

from autograd_course.course import this_course

SPLIT_BY_ASSIGNMENT = ("tests/test_misconceptions.py", "tests/test_cpu_paths.py")
ASSIGNMENTS = this_course().assignment_ids()
# Minutes each (a grading course built and graded, a hub, a browser): started first, so that no worker is left with one
# of them at the end while the other idles. pytest 9 collects in path order whatever order the paths are given in.
LONGEST_FIRST = ("tests/test_parallel_grading.py", "tests/browser/test_hub_round_trip.py", "tests/test_trusted_grading.py",
                 "tests/test_private_exchange.py", "tests/test_trusted_autograde_config.py",
                 "tests/browser/test_report_in_browser.py", "tests/test_autograde.py", *SPLIT_BY_ASSIGNMENT)


def work_unit(nodeid: str) -> str:
    path, _, rest = nodeid.partition("::")
    if path in SPLIT_BY_ASSIGNMENT:
        parameters = rest.partition("[")[2]
        named = [assignment for assignment in ASSIGNMENTS if assignment in parameters]
        if named:
            return f"{path}[{named[0]}]"
    return path


def start_rank(nodeid: str) -> int:
    """A stable sort by it: the files of ``LONGEST_FIRST`` in that order, then the rest as collected."""
    path = nodeid.partition("::")[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


class WorkUnitScheduling(LoadFileScheduling):
    """``--dist loadfile`` with the files of ``SPLIT_BY_ASSIGNMENT`` cut into one unit per assignment."""

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)
