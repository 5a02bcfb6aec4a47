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
import hashlib
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from tqdm import tqdm
from traitlets.config.loader import PyFileConfigLoader

from . import reachable, student_ids
from .answer_checker import answer_findings
from .assemble import Rejected, assemble, is_answer, nbgrader_meta, read_submission
from .cells import cell_digest
from .diskspace import RESERVE_BYTES, DiskFull, check_room, folder_bytes, stop_when_full
from .findings import Finding, guard_finding
from .gradebook_writer import GradebookWriter, rooted_sqlite_url
from .integrity import write_integrity_report
from .judge import Judge
from .late_penalty import LatePenalty
from .outcomes import FINAL, Outcome, OutcomeStore
from .phases import PhaseClock, TimingsFile
from .protected import notebook_check_names, notebook_protected_names
from .sandbox import Sandbox, SandboxUnavailable, Unconfined
from .schedule import DaskPool, LocalPool
from .worker import Job, Result


@dataclass
class Prepared:
    """A submission on its way through a worker, with what the grader already knows about it."""

    job: Job
    digest: str
    notes: list[str]
    findings: list[Finding]
    clock: PhaseClock = field(default_factory=PhaseClock)  # where its grading time went, run included once back


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


class TrustedAutograder:
    """One assignment's batch: what grading one submission after another needs, from ``prepare`` (before its run)
    to ``finish`` (after it). Its outcomes are kept by ``OutcomeStore``, its scores by ``GradebookWriter``."""

    def __init__(self, root: Path, assignment: str, sandbox: Sandbox, cell_timeout: int = 60):
        self.root = root.resolve()
        self.assignment = assignment
        self.sandbox = sandbox
        self.cell_timeout = cell_timeout
        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        self.coursedir = CourseDirectory(config=config, root=str(self.root))
        self.db_url = rooted_sqlite_url(self.coursedir.db_url, self.root)
        self.late = LatePenalty(config, self.root)
        self.gradebook = GradebookWriter(self.root, self.coursedir, assignment, self.late)
        self.outcomes_dir = self.root / "grading" / assignment
        self.outcomes = OutcomeStore(self.outcomes_dir)
        source_dir = self.root / self.coursedir.source_directory / assignment
        release_dir = self.root / self.coursedir.release_directory / assignment
        self.source = nbformat.read(source_dir / f"{assignment}.ipynb", as_version=4)
        self.release = nbformat.read(release_dir / f"{assignment}.ipynb", as_version=4)
        self.shipped = {str(path.relative_to(release_dir)): path.read_bytes() for path in release_dir.rglob("*")
                        if path.is_file() and path.suffix != ".ipynb"}
        self.judge = Judge.for_assignment(assignment, self.source)
        self.kernel_versions = self.judge.kernel_versions if self.judge else {}
        self.trusted_cells = {cell_digest(self.kernel_versions.get(cell_digest(cell.source), cell.source))
                              for cell in self.source.cells if cell.cell_type == "code" and not is_answer(cell)}
        self.protected = notebook_protected_names(self.source)
        self.checks = notebook_check_names(self.source)

    # -- the batch -------------------------------------------------------------------------------
    def students(self) -> list[str]:
        submitted = self.root / self.coursedir.submitted_directory
        return sorted(folder.parent.name for folder in submitted.glob(f"*/{self.assignment}") if folder.is_dir())

    def submission_path(self, student: str) -> Path:
        return self.root / self.coursedir.submitted_directory / student / self.assignment / f"{self.assignment}.ipynb"

    def pending(self, students: list[str] | None = None, force: bool = False) -> tuple[list[Outcome], list[str]]:
        """Outcomes already recorded for unchanged submissions, and the students still to grade."""
        done, todo = [], []
        for student in students or self.students():
            previous = None if student_ids.refusal(student) else self.outcomes.recorded(student)
            if not force and previous and previous.status in FINAL \
                    and previous.digest == digest_of(self.submission_path(student)):
                done.append(previous)
            else:
                todo.append(student)
        if students is None:
            done += self.unsafe_gradebook_ids()
        return done, todo

    def unsafe_gradebook_ids(self) -> list[Outcome]:
        """Ids in the gradebook without a submission folder that are not safe, each as a rejection naming it (the
        ones with a folder are refused when their submission is prepared)."""
        submitted = set(self.students())
        return [Outcome(student, self.assignment, "rejected", "", reason=refused)
                for student in self.gradebook.student_ids()
                if student not in submitted and (refused := student_ids.gradebook_refusal(student))]

    def check_room(self, student: str | None = None) -> None:
        """Room in the course folder for the gradebook, the outcomes and ``student``'s autograded copy."""
        needed = RESERVE_BYTES + (folder_bytes(self.submission_path(student).parent) if student else 0)
        gradebook = [Path(self.db_url.removeprefix("sqlite:///"))] if self.db_url.startswith("sqlite:///") else []
        check_room([*gradebook, self.outcomes_dir, self.root / self.coursedir.autograded_directory], needed)

    # -- one submission: prepared here, run by a worker, finished here ----------------------------
    def prepare(self, student: str, clock: PhaseClock | None = None) -> Prepared | Outcome:
        """Assemble and check a submission; a notebook that cannot be read is rejected on the spot."""
        clock = clock if clock is not None else PhaseClock()
        if refused := student_ids.refusal(student):  # before any path or gradebook row is made from it
            return Outcome(student, self.assignment, "rejected", "", reason=refused)
        path = self.submission_path(student)
        digest = digest_of(path)
        try:
            submitted = read_submission(path)
        except Rejected as rejection:
            score, max_score = self.gradebook.save_rejection(student, path.parent)
            return Outcome(student, self.assignment, "rejected", digest, score, max_score, reason=str(rejection))
        with clock.phase("assembly"):
            assembly = assemble(submitted, self.source, self.release)
        with clock.phase("policy check"):
            findings = answer_findings(assembly.answers, self.protected, self.checks)
        job = Job(student, nbformat.writes(assembly.notebook), self.student_files(path.parent), self.shipped,
                  self.trusted_cells, self.cell_timeout, self.assignment, self.kernel_versions,
                  frozenset(self.protected))
        return Prepared(job, digest, assembly.notes, findings, clock)

    def student_files(self, submitted_dir: Path) -> dict[str, bytes]:
        """The student's own files (not notebooks, nothing resolving outside their folder): the worker writes
        the shipped files over them."""
        files = {}
        for path in sorted(submitted_dir.rglob("*")):
            name = path.relative_to(submitted_dir)
            if path.is_file() and path.resolve().is_relative_to(submitted_dir.resolve()) and path.suffix != ".ipynb" \
                    and ".ipynb_checkpoints" not in name.parts and path.stat().st_size <= self.sandbox.file_size_limit:
                files[str(name)] = path.read_bytes()
        return files

    def finish(self, prepared: Prepared, result: Result) -> Outcome:
        """Judge a run and write its grades (the grader's thread only: one gradebook writer)."""
        student, clock = prepared.job.student, prepared.clock
        notebook = nbformat.reads(result.notebook, as_version=4)
        findings = self.findings_of(prepared, result, notebook)
        notes = prepared.notes + ([result.stopped] if result.stopped else [])
        if findings:
            self.void_tests(notebook, findings)
        with clock.phase("gradebook write"):
            score, max_score = self.gradebook.save_grades(student, notebook, self.submission_path(student).parent,
                                                          flagged=bool(findings))
            notes += self.gradebook.late_notes(student)
        status = "flagged" if findings else "graded"
        return Outcome(student, self.assignment, status, prepared.digest, score, max_score, notes=notes,
                       findings=findings)

    def findings_of(self, prepared: Prepared, result: Result, notebook) -> list[Finding]:
        """Every finding of a run, once each: the policy's, from outside the sandbox, the guard's, and the values
        judged here (which ``self.judge`` writes into ``notebook``)."""
        with prepared.clock.phase("judge values outside"):
            judged = self.judge.judge(notebook) if self.judge else []
        return list(dict.fromkeys(prepared.findings + result.changed_shipped + result.exceeded + result.evidence
                                  + [guard_finding(report, result.cell_names) for report in result.reports]
                                  + judged))

    def failed(self, student: str, error: BaseException) -> Outcome:
        """The grader itself failed on this submission: recorded as an error, retried by the next run."""
        reason = "".join(traceback.format_exception_only(error)).strip().splitlines()[-1]
        return Outcome(student, self.assignment, "error", digest_of(self.submission_path(student)), reason=reason)

    @staticmethod
    def void_tests(notebook, findings: list[Finding]) -> None:
        message = "the tests of this notebook cannot be trusted: " + "; ".join(map(str, findings[:5]))
        for cell in notebook.cells:
            if nbgrader_meta(cell).get("grade") and cell.cell_type == "code":
                cell.outputs.append(new_output("error", ename="IntegrityFlag", evalue=message,
                                               traceback=[f"IntegrityFlag: {message}"]))

    def write_integrity_report(self) -> Path:
        flagged = [outcome for student in self.students() if (outcome := self.outcomes.recorded(student))
                   and outcome.status == "flagged"]
        return write_integrity_report(self.outcomes_dir / "integrity.md", self.assignment, flagged)


def pending_work(graders: list[TrustedAutograder], students: list[str] | None = None,
                 force: bool = False) -> tuple[list[Outcome], list[tuple[TrustedAutograder, str]]]:
    """The outcomes recorded already for unchanged submissions, and every submission still to grade."""
    done, work = [], []
    for grader in graders:
        grader.check_room()
        grader.gradebook.ensure_assignment_in_gradebook()
        recorded, todo = grader.pending(students, force)
        done += recorded
        work += [(grader, student) for student in todo]
    return done, work


def grade_batch(graders: list[TrustedAutograder], pool, done: list[Outcome], work: list[tuple[TrustedAutograder, str]],
                progress: bool = True, timings: TimingsFile | None = None) -> list[Outcome]:
    """Grade the submissions of ``work`` (``pending_work``); outcomes are recorded as results arrive.

    Jobs are prepared lazily in this thread while the pool runs earlier ones, and every gradebook
    write (rejections, scores) happens here too, so SQLite has exactly one writer. ``timings`` gets where each
    submission that ran spent its time (``phases``).
    """
    outcomes: list[Outcome] = list(done)
    by_assignment = {grader.assignment: grader for grader in graders}
    prepared: dict[tuple[str, str], Prepared] = {}
    bar = tqdm(total=len(work), unit="notebook", desc="grading", disable=not progress or not work, file=sys.stderr,
               dynamic_ncols=True)

    def keep(outcome: Outcome) -> None:
        with stop_when_full():
            by_assignment[outcome.assignment].outcomes.record(outcome)
        outcomes.append(outcome)
        bar.update()

    def jobs():
        for grader, student in work:
            clock = PhaseClock()
            try:
                with clock.span("prepare"), stop_when_full():
                    with clock.phase("room check"):
                        grader.check_room(student)
                    ready = grader.prepare(student, clock)
            except Exception as error:  # one unreadable submission must not stop the batch
                keep(grader.failed(student, error))
                continue
            if isinstance(ready, Outcome):
                keep(ready)
            else:
                prepared[grader.assignment, student] = ready
                yield ready.job

    for job, result in pool.run(jobs()):
        grader = by_assignment[job.assignment]
        ready = prepared.pop((job.assignment, job.student))
        clock = ready.clock
        try:
            if isinstance(result, BaseException):
                raise result
            clock.merge(result.timings)
            with clock.span("finish"), stop_when_full():
                with clock.phase("room check"):
                    grader.check_room(job.student)
                outcome = grader.finish(ready, result)
                with clock.phase("outcome record"):
                    keep(outcome)
        except Exception as error:
            keep(grader.failed(job.student, error))
            continue
        if timings:
            timings.write(job.assignment, job.student, clock)
    bar.close()
    for grader in graders:
        grader.write_integrity_report()
    return outcomes


def summary(outcomes: list[Outcome], seconds: float | None = None, workers: int = 1) -> str:
    rows = [f"{'assignment':<28} {'student':<24} {'status':<9} {'score':>11}  reason or findings"]
    for outcome in sorted(outcomes, key=lambda o: (o.assignment, o.student)):
        detail = outcome.reason or "; ".join(map(str, outcome.findings[:2])) or "; ".join(outcome.notes[:2])
        rows.append(f"{outcome.assignment:<28} {outcome.student:<24} {outcome.status:<9} "
                    f"{outcome.score:>5g} / {outcome.max_score:<3g}  {detail[:100]}")
    counts = {status: sum(o.status == status for o in outcomes) for status in (*FINAL, "error")}
    rows.append(", ".join(f"{count} {status}" for status, count in counts.items()))
    if seconds is not None:
        rows.append(f"{len(outcomes)} submissions in {seconds:.1f} s with {workers} worker(s)")
    return "\n".join(rows)


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
    graders = [TrustedAutograder(args.root, assignment, sandbox, args.cell_timeout) for assignment in args.assignment]
    started = time.perf_counter()
    try:
        done, work = pending_work(graders, args.student, args.force)
        # No more kernel hosts than submissions to run: each takes seconds of CPU to start (torch, IPython), which a
        # batch of one (formgrader's autograde button, make autograde for one student) would pay for nothing.
        pool = DaskPool(args.scheduler, sandbox) if args.scheduler else LocalPool(
            sandbox, min(args.workers or os.cpu_count() or 1, len(work)))
        try:
            outcomes = grade_batch(graders, pool, done, work, progress=not args.no_progress,
                                   timings=TimingsFile(args.timings, fresh=True) if args.timings else None)
        finally:
            pool.close()
    except DiskFull as error:
        print(f"Stopped: the course folder is full ({error}). Every grade recorded so far is kept; free some space "
              f"and run the same command again to grade the rest.", file=sys.stderr)
        return 3
    finally:
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
