"""How make test's xdist workers share the suite: one work unit per file, except where one file is minutes of work.

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


def work_unit(nodeid: str) -> str:
    path, _, rest = nodeid.partition("::")
    if path in SPLIT_BY_ASSIGNMENT:
        parameters = rest.partition("[")[2]
        named = [assignment for assignment in ASSIGNMENTS if assignment in parameters]
        if named:
            return f"{path}[{named[0]}]"
    return path


class WorkUnitScheduling(LoadFileScheduling):
    """``--dist loadfile`` with the files of ``SPLIT_BY_ASSIGNMENT`` cut into one unit per assignment."""

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)
