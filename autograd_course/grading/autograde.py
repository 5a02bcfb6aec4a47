"""``make autograde ASSIGNMENT=<id>``: grade every submission in a sandbox, into nbgrader's gradebook.

For each ``submitted/<student>/<id>/<id>.ipynb`` the grader assembles the notebook to grade
(answers from the student, everything else from ``source/``), checks the answers against the
integrity policy, runs the notebook in a sandboxed, audited kernel, judges the values a judged
notebook's checks sent out against expected values computed here (``judge``), writes
``autograded/<student>/<id>/`` and the scores through nbgrader's own ``SaveAutoGrades``, and
records one outcome per submission in ``grading/<id>/<student>.json``: graded, flagged
(integrity finding: scored 0, listed in ``grading/<id>/integrity.md``) or rejected (with the
reason). An outcome is written only after its grades are committed, so a batch stopped at any
point (even by ``kill -9``) is finished by running the command again; a submission whose file
has not changed since its outcome was recorded is not graded twice.

Usage: python -m autograd_course.grading.autograde ASSIGNMENT [ASSIGNMENT ...] [--student ID ...] [--force]
       [--unsafe] [--workers N | --scheduler ADDRESS]
"""

import argparse
import os
import sys
import time
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from . import reachable
from .diskspace import DiskFull
from .outcomes import OutcomeStore
from .phases import TimingsFile
from .sandbox import Sandbox, SandboxUnavailable, Unconfined
from .schedule import DaskPool, LocalPool


def submissions_to_run(root: Path, config, assignments: list[str], students: list[str] | None, force: bool) -> int:
    """How many submissions the batch will run at most, read before grading's own imports (``OutcomeStore.to_grade``
    in nbgrader's submitted directory, ``c.CourseDirectory.submitted_directory``, "submitted" unless configured)."""
    submitted = root / config.CourseDirectory.get("submitted_directory", "submitted")
    return sum(len(OutcomeStore.of(root, assignment).to_grade(submitted, assignment, students, force)[1])
               for assignment in assignments)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="+", help="one or more assignment ids")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--force", action="store_true", help="grade again even when an outcome is recorded")
    parser.add_argument("--unsafe", action="store_true",
                        help="grade without a sandbox (student code runs with your permissions)")
    parser.add_argument("--cell-timeout", type=int, default=60, help="seconds one cell may run")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: one per core)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the submissions on this dask.distributed scheduler instead of locally")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--timings", type=Path, metavar="FILE",
                        help="write where each submission's grading time went, one JSON line each (make bench)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder")
    args = parser.parse_args(argv)
    # nbgrader creates a gradebook by running alembic, a script next to this Python.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # The sandbox's limits are traitlets (c.Sandbox.storage_limit = ...) in the course's nbgrader_config.py.
    config = PyFileConfigLoader("nbgrader_config.py", path=str(args.root)).load_config()
    sandbox = Unconfined(config=config) if args.unsafe else Sandbox(config=config)
    try:
        sandbox.check_available()
    except SandboxUnavailable as error:
        print(f"Refusing to grade: {error}.\nStudent code would run with your permissions. If you accept that, "
              f"run again with --unsafe (make autograde ... UNSAFE=1).", file=sys.stderr)
        return 2
    if args.unsafe:
        print("Warning: grading WITHOUT a sandbox (--unsafe).", file=sys.stderr)
    reachable.prefetch()  # the answer policy's names, derived while the kernel hosts start
    started = time.perf_counter()
    # The kernel hosts first, no more of them than submissions: each takes seconds of CPU to start (torch, IPython),
    # which a batch of one (formgrader's autograde button) would pay for nothing, and grading's own imports below
    # (torch, nbgrader: seconds more) overlap their start.
    slots = min(args.workers or os.cpu_count() or 1,
                submissions_to_run(args.root, config, args.assignment, args.student, args.force))
    pool = DaskPool(args.scheduler, sandbox) if args.scheduler else LocalPool(sandbox, max(1, slots))
    graders = []
    try:
        from .batch import TrustedAutograder, grade_batch, pending_work, summary

        graders = [TrustedAutograder(args.root, assignment, sandbox, args.cell_timeout)
                   for assignment in args.assignment]
        done, work = pending_work(graders, args.student, args.force)
        outcomes = grade_batch(graders, pool, done, work, progress=not args.no_progress,
                               timings=TimingsFile(args.timings, fresh=True) if args.timings else None)
    except DiskFull as error:
        print(f"Stopped: the course folder is full ({error}). Every grade recorded so far is kept; free some space "
              f"and run the same command again to grade the rest.", file=sys.stderr)
        return 3
    finally:
        pool.close()
        for grader in graders:
            grader.gradebook.close()
    if args.timings:
        TimingsFile(args.timings).write_batch(time.perf_counter() - started, getattr(pool, "host_starts", []))
    print(summary(outcomes, time.perf_counter() - started, pool.size))
    for grader in graders:
        print(f"Integrity report: {grader.outcomes_dir / 'integrity.md'}")
    return 1 if any(outcome.status == "error" for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
