"""``make autograde ASSIGNMENT=<id>``: grade every submission in a sandbox, into nbgrader's gradebook.

For each ``submitted/<student>/<id>/<id>.ipynb`` the grader assembles the notebook to grade
(answers from the student, everything else from ``source/``), checks the answers against the
integrity policy, runs the notebook in a sandboxed, audited kernel, writes
``autograded/<student>/<id>/`` and the scores through nbgrader's own ``SaveAutoGrades``, and
records one outcome per submission in ``grading/<id>/<student>.json``: graded, flagged
(integrity finding: scored 0, listed in ``grading/<id>/integrity.md``) or rejected (with the
reason). An outcome is written only after its grades are committed, so a batch stopped at any
point (even by ``kill -9``) is finished by running the command again; a submission whose file
has not changed since its outcome was recorded is not graded twice.

Usage: python -m autograd_course.grading.autograde ASSIGNMENT [--student ID ...] [--force] [--unsafe]
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import SaveAutoGrades
from traitlets.config.loader import PyFileConfigLoader

from ..release import record_in_gradebook
from .assemble import Rejected, assemble, is_answer, nbgrader_meta, read_submission
from .execute import execute
from .guard import cell_digest
from .policy import check_answer, notebook_protected_names
from .sandbox import Sandbox, SandboxUnavailable, Unconfined

FINAL = ("graded", "flagged", "rejected")


@dataclass
class Outcome:
    student: str
    assignment: str
    status: str
    digest: str
    score: float = 0.0
    max_score: float = 0.0
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


def rooted_sqlite_url(db_url: str, root: Path) -> str:
    """nbgrader_config.py's relative ``sqlite:///gradebook.db`` means a file in the course folder, wherever we run."""
    prefix = "sqlite:///"
    path = db_url.removeprefix(prefix)
    return f"{prefix}{root / path}" if db_url.startswith(prefix) and not path.startswith("/") else db_url


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


class TrustedAutograder:
    """One assignment's batch: everything needed to grade one submission after another."""

    def __init__(self, root: Path, assignment: str, sandbox: Sandbox, cell_timeout: int = 60):
        self.root = root.resolve()
        self.assignment = assignment
        self.sandbox = sandbox
        self.cell_timeout = cell_timeout
        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        self.coursedir = CourseDirectory(config=config, root=str(self.root))
        self.db_url = rooted_sqlite_url(self.coursedir.db_url, self.root)
        self.course_id = self.coursedir.course_id
        self.outcomes_dir = self.root / "grading" / assignment
        source_dir = self.root / self.coursedir.source_directory / assignment
        release_dir = self.root / self.coursedir.release_directory / assignment
        self.source = nbformat.read(source_dir / f"{assignment}.ipynb", as_version=4)
        self.release = nbformat.read(release_dir / f"{assignment}.ipynb", as_version=4)
        self.shipped = {path.relative_to(release_dir): path for path in release_dir.rglob("*")
                        if path.is_file() and path.suffix != ".ipynb"}
        self.trusted_cells = {cell_digest(cell.source) for cell in self.source.cells
                              if cell.cell_type == "code" and not is_answer(cell)}
        self.protected = notebook_protected_names(self.source)

    # -- the batch -------------------------------------------------------------------------------
    def students(self) -> list[str]:
        submitted = self.root / self.coursedir.submitted_directory
        return sorted(folder.parent.name for folder in submitted.glob(f"*/{self.assignment}") if folder.is_dir())

    def submission_path(self, student: str) -> Path:
        return self.root / self.coursedir.submitted_directory / student / self.assignment / f"{self.assignment}.ipynb"

    def recorded(self, student: str) -> Outcome | None:
        path = self.outcomes_dir / f"{student}.json"
        try:
            return Outcome(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def grade_all(self, students: list[str] | None = None, force: bool = False) -> list[Outcome]:
        self.ensure_assignment_in_gradebook()
        outcomes = []
        for student in students or self.students():
            previous = self.recorded(student)
            if not force and previous and previous.status in FINAL \
                    and previous.digest == digest_of(self.submission_path(student)):
                outcomes.append(previous)
                continue
            try:
                outcome = self.grade(student)
            except Exception:  # a grader failure must not stop the batch; the next run retries it
                outcome = Outcome(student, self.assignment, "error", digest_of(self.submission_path(student)),
                                  reason=traceback.format_exc(limit=3).strip().splitlines()[-1])
            self.record(outcome)
            outcomes.append(outcome)
        self.write_integrity_report()
        return outcomes

    def record(self, outcome: Outcome) -> None:
        self.outcomes_dir.mkdir(parents=True, exist_ok=True)
        target = self.outcomes_dir / f"{outcome.student}.json"
        partial = target.with_suffix(".json.partial")
        partial.write_text(json.dumps(asdict(outcome), indent=1))
        os.replace(partial, target)

    # -- one submission --------------------------------------------------------------------------
    def grade(self, student: str) -> Outcome:
        path = self.submission_path(student)
        digest = digest_of(path)
        try:
            submitted = read_submission(path)
        except Rejected as rejection:
            score, max_score = self.save_rejection(student, path.parent)
            return Outcome(student, self.assignment, "rejected", digest, score, max_score, reason=str(rejection))
        assembly = assemble(submitted, self.source, self.release)
        findings = [str(finding) for grade_id, source in assembly.answers.items()
                    for finding in check_answer(grade_id, source, self.protected)]
        with tempfile.TemporaryDirectory(prefix=f"grade-{self.assignment}-") as scratch:
            folder = Path(scratch) / "work"
            self.prepare_folder(folder, path.parent)
            run = execute(assembly.notebook, folder, self.sandbox, slot=0, trusted_cells=self.trusted_cells,
                          shipped_files={str(name) for name in self.shipped}, cell_timeout=self.cell_timeout,
                          log_path=Path(scratch) / "kernel.log")
            findings += self.changed_shipped_files(folder)
        cell_names = {cell_digest(cell.source): cell.get("id", "a cell") for cell in assembly.notebook.cells
                      if cell.cell_type == "code"}
        findings = list(dict.fromkeys(findings + [self.describe_report(report, cell_names)
                                                  for report in run.reports]))
        notes = assembly.notes + ([run.stopped] if run.stopped else [])
        if findings:
            self.void_tests(assembly.notebook, findings)
        score, max_score = self.save_grades(student, assembly.notebook, path.parent)
        status = "flagged" if findings else "graded"
        return Outcome(student, self.assignment, status, digest, score, max_score, notes=notes, findings=findings)

    def prepare_folder(self, folder: Path, submitted_dir: Path) -> None:
        """The kernel's only view of the course: the student's own files, then the shipped files over them."""
        shutil.copytree(submitted_dir, folder, symlinks=False, ignore_dangling_symlinks=True,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        for name, shipped in self.shipped.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(shipped, folder / name)

    def changed_shipped_files(self, folder: Path) -> list[str]:
        """Compared after the run, from outside: writes from C code (torch.save) escape the audit hook."""
        changed = []
        for name, shipped in self.shipped.items():
            copy = folder / name
            if not copy.is_file() or copy.is_symlink() or copy.read_bytes() != shipped.read_bytes():
                changed.append(f"after the run: modifies shipped file {name}")
        return changed

    @staticmethod
    def describe_report(report: dict, cell_names: dict[str, str]) -> str:
        """'ex1_answer line 2: escape open ...', or 'found when ex1_tests ran: tamper replaced torch.isclose'."""
        if report.get("cell"):
            where = cell_names.get(report["cell"], "an answer cell")
            where += f" line {report['line']}" if report.get("line") else ""
        else:
            where = f"found when {cell_names.get(report.get('next_cell'), 'a cell')} ran"
        return f"{where}: {report.get('kind')} {report.get('event')} {report.get('detail', '')}".strip()

    @staticmethod
    def void_tests(notebook, findings: list[str]) -> None:
        message = "the tests of this notebook cannot be trusted: " + "; ".join(findings[:5])
        for cell in notebook.cells:
            if nbgrader_meta(cell).get("grade") and cell.cell_type == "code":
                cell.outputs.append(new_output("error", ename="IntegrityFlag", evalue=message,
                                               traceback=[f"IntegrityFlag: {message}"]))

    # -- nbgrader's gradebook and folders ----------------------------------------------------------
    def ensure_assignment_in_gradebook(self) -> None:
        with Gradebook(self.db_url, self.course_id) as gradebook:
            try:
                gradebook.find_notebook(self.assignment, self.assignment)
                return
            except MissingEntry:
                pass
        record_in_gradebook(self.root, self.assignment)

    def autograded_dir(self, student: str) -> Path:
        return self.root / self.coursedir.autograded_directory / student / self.assignment

    def open_submission(self, gradebook: Gradebook, student: str, submitted_dir: Path):
        gradebook.update_or_create_student(student)
        timestamp = self.coursedir.get_existing_timestamp(str(submitted_dir))
        if timestamp:
            return gradebook.update_or_create_submission(self.assignment, student, timestamp=timestamp)
        return gradebook.update_or_create_submission(self.assignment, student)

    def save_grades(self, student: str, notebook, submitted_dir: Path) -> tuple[float, float]:
        target = self.autograded_dir(student)
        shutil.rmtree(target, ignore_errors=True)
        # As nbgrader's autograde does: the student's other files (timestamp.txt, the exchange's
        # submission_secret.txt that release_feedback needs) go along with the graded notebook.
        shutil.copytree(submitted_dir, target, symlinks=False, ignore_dangling_symlinks=True,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        nbformat.write(notebook, target / f"{self.assignment}.ipynb")
        with Gradebook(self.db_url, self.course_id) as gradebook:
            self.open_submission(gradebook, student, submitted_dir)
        resources = {"nbgrader": {"notebook": self.assignment, "assignment": self.assignment, "student": student,
                                  "db_url": self.db_url}}
        SaveAutoGrades().preprocess(notebook, resources)
        return self.scores(student)

    def save_rejection(self, student: str, submitted_dir: Path) -> tuple[float, float]:
        with Gradebook(self.db_url, self.course_id) as gradebook:
            submission = self.open_submission(gradebook, student, submitted_dir)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score, grade.needs_manual_grade = 0, False
            gradebook.db.commit()
        shutil.rmtree(self.autograded_dir(student), ignore_errors=True)
        return self.scores(student)

    def scores(self, student: str) -> tuple[float, float]:
        with Gradebook(self.db_url, self.course_id) as gradebook:
            submission = gradebook.find_submission(self.assignment, student)
            return submission.score, submission.max_score

    def write_integrity_report(self) -> Path:
        flagged = [outcome for student in self.students() if (outcome := self.recorded(student))
                   and outcome.status == "flagged"]
        lines = [f"# Integrity report: {self.assignment}", "",
                 "Submissions whose code tried something the tests cannot allow. Each was scored 0;",
                 "review the lines below and regrade by hand in formgrader where the finding is innocent.", ""]
        for outcome in flagged:
            lines += [f"## {outcome.student}", "", *(f"- {finding}" for finding in outcome.findings), ""]
        if not flagged:
            lines.append("No findings.")
        self.outcomes_dir.mkdir(parents=True, exist_ok=True)
        report = self.outcomes_dir / "integrity.md"
        report.write_text("\n".join(lines) + "\n")
        return report


def summary(outcomes: list[Outcome]) -> str:
    rows = [f"{'student':<24} {'status':<9} {'score':>11}  reason or findings"]
    for outcome in outcomes:
        detail = outcome.reason or "; ".join(outcome.findings[:2]) or "; ".join(outcome.notes[:2])
        rows.append(f"{outcome.student:<24} {outcome.status:<9} {outcome.score:>5g} / {outcome.max_score:<3g}  "
                    f"{detail[:100]}")
    counts = {status: sum(o.status == status for o in outcomes) for status in (*FINAL, "error")}
    rows.append(", ".join(f"{count} {status}" for status, count in counts.items()))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--force", action="store_true", help="grade again even when an outcome is recorded")
    parser.add_argument("--unsafe", action="store_true",
                        help="grade without a sandbox (student code runs with your permissions)")
    parser.add_argument("--cell-timeout", type=int, default=60, help="seconds one cell may run")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder")
    args = parser.parse_args(argv)
    # nbgrader creates a gradebook by running alembic, a script next to this Python.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    sandbox = Unconfined() if args.unsafe else Sandbox()
    try:
        sandbox.check_available()
    except SandboxUnavailable as error:
        print(f"Refusing to grade: {error}.\nStudent code would run with your permissions. If you accept that, "
              f"run again with --unsafe (make autograde ... UNSAFE=1).", file=sys.stderr)
        return 2
    if args.unsafe:
        print("Warning: grading WITHOUT a sandbox (--unsafe).", file=sys.stderr)
    grader = TrustedAutograder(args.root, args.assignment, sandbox, args.cell_timeout)
    outcomes = grader.grade_all(args.student, args.force)
    print(summary(outcomes))
    print(f"Integrity report: {grader.outcomes_dir / 'integrity.md'}")
    return 1 if any(outcome.status == "error" for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
