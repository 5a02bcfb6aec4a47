"""Scores into nbgrader's gradebook and autograded folder, as nbgrader's own autograde writes them.

The graded notebook goes to ``autograded/<student>/<id>/`` with the student's other files, and its scores through
nbgrader's ``SaveAutoGrades`` steps, committed once per notebook; a rejected submission's grades are set to 0. Only
the grader's own thread writes, so SQLite has one writer.
"""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades

from ..release import record_in_gradebook
from .flagged import flag_in_gradebook
from .late_penalty import LatePenalty, penalised_score


def rooted_sqlite_url(db_url: str, root: Path) -> str:
    """nbgrader_config.py's relative ``sqlite:///gradebook.db`` means a file in the course folder, wherever we run."""
    prefix = "sqlite:///"
    path = db_url.removeprefix(prefix)
    return f"{prefix}{root / path}" if db_url.startswith(prefix) and not path.startswith("/") else db_url


def copy_other_files(submitted_dir: Path, target: Path) -> None:
    """The student's regular files but notebooks into ``target``, as nbgrader's autograde copies them, without
    following links: a link to /etc/shadow or to / would copy what the student cannot read or the whole disk, and a
    FIFO would stop the batch."""
    for folder, subfolders, files in os.walk(submitted_dir):  # does not descend into linked folders
        subfolders[:] = [name for name in subfolders if name != ".ipynb_checkpoints"]
        for name in files:
            path = Path(folder, name)
            if not name.endswith(".ipynb") and path.is_file() and not path.is_symlink():
                copied = target / path.relative_to(submitted_dir)
                copied.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, copied)


class SaveAutoGradesOnce(SaveAutoGrades):
    """nbgrader's ``SaveAutoGrades`` in an open gradebook, committing the notebook's scores once: nbgrader's opens a
    gradebook of its own and commits after every cell, and each commit is an fsync (about 20 ms here)."""

    def __init__(self, gradebook: Gradebook, **kwargs):
        super().__init__(**kwargs)
        self.open_gradebook = gradebook

    def preprocess(self, nb, resources):
        ids = resources["nbgrader"]
        self.notebook_id, self.assignment_id, self.student_id = ids["notebook"], ids["assignment"], ids["student"]
        # SaveAutoGrades' cell steps find rows through self.gradebook and commit through self.gradebook.db: here,
        # the commits only flush, and the one commit comes after the last cell.
        self.gradebook = SimpleNamespace(find_grade=self.open_gradebook.find_grade,
                                         find_comment=self.open_gradebook.find_comment,
                                         db=SimpleNamespace(commit=self.open_gradebook.db.flush))
        nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
        self.open_gradebook.db.commit()
        return nb, resources


class GradebookWriter:
    """One assignment's rows in nbgrader's gradebook, and its autograded folders."""

    def __init__(self, root: Path, coursedir: CourseDirectory, assignment: str, late: LatePenalty):
        self.root = root
        self.late = late
        self.coursedir = coursedir
        self.assignment = assignment
        self.db_url = rooted_sqlite_url(coursedir.db_url, root)
        self.course_id = coursedir.course_id
        self.open_gradebook: Gradebook | None = None

    @contextmanager
    def transaction(self):
        """The batch's one gradebook, committed at the end of each use (rolled back on an error), each use in a
        session of its own, as if the gradebook had just been opened.

        One gradebook, not one per use: SQLAlchemy compiles a query once per engine, and nbgrader's ``Gradebook``
        makes a new engine each time (both were most of a submission's gradebook write). No transaction stays open
        between uses, so formgrader can write to the gradebook while a batch is graded.
        """
        if self.open_gradebook is None:
            self.open_gradebook = Gradebook(self.db_url, self.course_id)
        try:
            yield self.open_gradebook
            self.open_gradebook.db.commit()
        finally:
            self.open_gradebook.db.remove()  # rolls back what was not committed; the engine and its queries stay

    def close(self) -> None:
        if self.open_gradebook is not None:
            self.open_gradebook.close()
            self.open_gradebook = None

    def ensure_assignment_in_gradebook(self) -> None:
        with self.transaction() as gradebook:
            try:
                gradebook.find_notebook(self.assignment, self.assignment)
                return
            except MissingEntry:
                pass
        record_in_gradebook(self.root, self.assignment)

    def student_ids(self) -> list[str]:
        with self.transaction() as gradebook:
            return [student.id for student in gradebook.students]

    def autograded_dir(self, student: str) -> Path:
        return self.root / self.coursedir.autograded_directory / student / self.assignment

    def open_submission(self, gradebook: Gradebook, student: str, submitted_dir: Path):
        gradebook.update_or_create_student(student)
        # nbgrader builds a new submission's rows before adding them to the session: a flush meanwhile (a relationship
        # it reads) only warns (SAWarning, "not in session") on the instructor's terminal, then adds them all the same.
        with gradebook.db.no_autoflush:
            return gradebook.update_or_create_submission(self.assignment, student,
                                                         **self.late.submission_fields(student, submitted_dir))

    def save_grades(self, student: str, notebook, submitted_dir: Path, flagged: bool = False) -> tuple[float, float]:
        """Write the graded notebook and its scores (and formgrader's flag for a flagged one); its score after any
        late penalty, and the most it could have scored."""
        target = self.autograded_dir(student)
        shutil.rmtree(target, ignore_errors=True)
        # As nbgrader's autograde does: the student's other files (timestamp.txt, the exchange's
        # submission_secret.txt that release_feedback needs) go along with the graded notebook.
        target.mkdir(parents=True)
        copy_other_files(submitted_dir, target)
        nbformat.write(notebook, target / f"{self.assignment}.ipynb")
        resources = {"nbgrader": {"notebook": self.assignment, "assignment": self.assignment, "student": student,
                                  "db_url": self.db_url}}
        with self.transaction() as gradebook:
            self.open_submission(gradebook, student, submitted_dir)
            SaveAutoGradesOnce(gradebook).preprocess(notebook, resources)
            if flagged:
                flag_in_gradebook(gradebook, self.assignment, student)
        self.late.assign(notebook, resources)
        return self.scores(student)

    def save_rejection(self, student: str, submitted_dir: Path) -> tuple[float, float]:
        with self.transaction() as gradebook:
            submission = self.open_submission(gradebook, student, submitted_dir)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score, grade.needs_manual_grade = 0, False
        shutil.rmtree(self.autograded_dir(student), ignore_errors=True)
        return self.scores(student)

    def scores(self, student: str) -> tuple[float, float]:
        with self.transaction() as gradebook:
            submission = gradebook.find_submission(self.assignment, student)
            return penalised_score(submission), submission.max_score

    def late_notes(self, student: str) -> list[str]:
        with self.transaction() as gradebook:
            return self.late.notes(gradebook, self.assignment, student)
