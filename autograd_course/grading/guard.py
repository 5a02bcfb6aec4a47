"""The kernel side of trusted grading: an audit hook installed before any student code runs, and its evidence.

Each graded kernel, forked by the kernel host (``kernel_host``), calls ``install()`` before
ipykernel starts. ``install`` remembers what the tests rely on and adds a ``sys.addaudithook``
hook, which no Python code can remove. The hook writes one JSON line per record on a pipe that
only the grader reads (file descriptor ``COURSE_GUARD_FD``). Its parts, each a module:

- ``cells``: how grader and guard name a cell (its digest) and mark a test cell's end;
- ``provenance``: whose code it is, the instructor's or the submission's;
- ``channel``: the sealed records (a key only BLAKE2's C state holds, a MAC chained over every record) and
  their verification by the grader;
- ``audit_events``: the events judged as the submission's (``tamper``, ``escape``, ``deserialize``);
- ``boundaries``: the evidence that instructor cells started and test cells ran to their end, and
- ``watches`` (on ``snapshots``): what is watched whole between cells.

The grader awards a test cell's points only if its ``ran`` record arrived, once and in notebook
order; a test cell that reported success without one is a finding (``evidence.judge_evidence``).

This is a tripwire inside one Python process, not a security boundary: the boundary is the
bubblewrap sandbox. What is out of its reach is listed in README, "Grading you can trust".
"""

import _thread
import importlib
import os
import sys

from .audit_events import ESCAPE_EVENTS, INNERMOST_EVENTS, PLAIN_PICKLE_GLOBALS, REFUSED_EVENTS, EventJudge
from .boundaries import CellWatch
from .channel import Reporter
from .provenance import Provenance
from .watches import COURSE_TEST_MODULES


class Guard:
    """The audit hook: each event it cares about, handed to the part that judges it, with this thread's own
    events ignored meanwhile.

    Its parts: ``Provenance`` (whose code it is), ``Reporter`` (the sealed channel's kernel end), ``EventJudge``
    (tampering, escapes, deserializing) and ``CellWatch`` (cells, their evidence and what is watched between
    them).
    """

    def __init__(self, channel: int, trusted_cells: set[str], tests: set[str], folder: str,
                 read_only_roots: tuple[str, ...], shipped_files: set[str], dispatcher: str, protected: set[str]):
        trusted_cells = trusted_cells | tests
        self.read_only_roots = read_only_roots
        self.busy_thread = None
        self.provenance = Provenance(trusted_cells, read_only_roots)
        self.reporter = Reporter(channel, self.provenance)
        self.events = EventJudge(self.reporter, self.provenance, folder, read_only_roots, shipped_files)
        self.cells = CellWatch(self.reporter, self.provenance, trusted_cells, tests, dispatcher, protected)

    def audit_hook(self, event: str, args: tuple) -> None:
        if self.busy_thread == _thread.get_ident():
            return
        if event == "exec":
            self.in_guard(self.cells.exec, args[0])
        elif event in REFUSED_EVENTS or event.startswith("ctypes."):
            self.in_guard(self.events.refuse, event)
        elif event == "pickle.find_class":
            if (args[0], args[1]) not in PLAIN_PICKLE_GLOBALS:
                self.in_guard(self.events.pickle, args)
        elif event == "open":
            if not (type(args[0]) is str and args[0].startswith(self.read_only_roots)
                    and not any(flag in str(args[1]) for flag in "wax+")):
                self.in_guard(self.events.anywhere, event, args)
        elif event in INNERMOST_EVENTS:
            self.in_guard(self.events.innermost, event, args)
        elif event in ESCAPE_EVENTS:
            self.in_guard(self.events.anywhere, event, args)

    def in_guard(self, judge, *args) -> None:
        """Run a judgement with this thread's events ignored (the guard's own imports, compiles and reads)."""
        self.busy_thread = _thread.get_ident()
        try:
            judge(*args)
        finally:
            self.busy_thread = None


def install(dispatcher: str) -> Guard:
    """Import what the tests use, snapshot it, then hook every audit event of this process.

    ``dispatcher`` is ``watches.dispatcher_registrations()`` as the kernel host computed it, before any fork.
    """
    import math  # noqa: F401 - snapshotted
    import numpy  # noqa: F401
    import numpy.testing  # noqa: F401
    import torch  # noqa: F401
    import torch.testing  # noqa: F401

    for module_name in COURSE_TEST_MODULES:
        importlib.import_module(module_name)

    def names(variable: str) -> set[str]:
        return set(filter(None, os.environ.pop(variable, "").split(",")))

    roots = tuple(sorted(names("COURSE_GUARD_READ_ONLY")))
    guard = Guard(int(os.environ.pop("COURSE_GUARD_FD")), names("COURSE_GUARD_TRUSTED"), names("COURSE_GUARD_TESTS"),
                  os.path.realpath(os.getcwd()), roots, names("COURSE_GUARD_SHIPPED"), dispatcher,
                  names("COURSE_GUARD_PROTECTED"))
    sys.addaudithook(guard.audit_hook)
    return guard
