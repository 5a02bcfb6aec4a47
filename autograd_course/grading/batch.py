"""One batch of ``make autograde`` (``autograde``): each submission prepared, run by the pool, judged and recorded.

``TrustedAutograder`` is one assignment's batch, from ``prepare`` (read, assemble, check the answers against the
policy) to ``finish`` (judge the values outside, write the gradebook and the outcome); ``grade_batch`` runs every
pending submission of every assignment through a pool (``schedule``), writing from this thread alone.
"""

import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from tqdm import tqdm
from traitlets.config.loader import PyFileConfigLoader

from . import student_ids
from .answer_checker import answer_findings
from .assemble import Rejected, assemble, is_answer, nbgrader_meta, read_submission
from .cells import cell_digest
from .diskspace import RESERVE_BYTES, check_room, folder_bytes, stop_when_full
from .findings import Finding, guard_finding
from .gradebook_writer import GradebookWriter, rooted_sqlite_url
from .integrity import write_integrity_report
from .judge import Judge
from .late_penalty import LatePenalty
from .outcomes import FINAL, Outcome, OutcomeStore, digest_of, submitted_notebook, submitted_students
from .phases import PhaseClock, TimingsFile
from .protected import notebook_check_names, notebook_protected_names
from .transport import from_json, to_json
from .sandbox import Sandbox
from .worker import Job, Result


@dataclass
class Prepared:
    """A submission on its way through a worker, with what the grader already knows about it."""

    job: Job
    digest: str
    notes: list[str]
    findings: list[Finding]
    clock: PhaseClock = field(default_factory=PhaseClock)  # where its grading time went, run included once back


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
        self.outcomes = OutcomeStore.of(self.root, assignment)
        self.outcomes_dir = self.outcomes.folder
        self.submitted = self.root / self.coursedir.submitted_directory
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
        return submitted_students(self.submitted, self.assignment)

    def submission_path(self, student: str) -> Path:
        return submitted_notebook(self.submitted, student, self.assignment)

    def pending(self, students: list[str] | None = None, force: bool = False) -> tuple[list[Outcome], list[str]]:
        """Outcomes already recorded for unchanged submissions, and the students still to grade."""
        done, todo = self.outcomes.to_grade(self.submitted, self.assignment, students, force)
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
        job = Job(student, to_json(assembly.notebook), self.student_files(path.parent), self.shipped,
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
        notebook = from_json(result.notebook)
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
