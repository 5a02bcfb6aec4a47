"""Where the course keeps its notebooks: one folder per assignment, one notebook per folder."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Course:
    """A course directory laid out as nbgrader_config.py describes it."""

    root: Path

    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "notebooks"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    def assignment_ids(self) -> list[str]:
        """Every assignment in source/, in course order (ids start with their number)."""
        return sorted(
            folder.name
            for folder in self.source_dir.iterdir()
            if (folder / f"{folder.name}.ipynb").is_file()
        )

    def source_notebook(self, assignment_id: str) -> Path:
        return self.source_dir / assignment_id / f"{assignment_id}.ipynb"

    def student_notebook(self, assignment_id: str) -> Path:
        return self.release_dir / assignment_id / f"{assignment_id}.ipynb"

    def solution_notebook(self, assignment_id: str) -> Path:
        return self.solutions_dir / assignment_id / f"{assignment_id}.ipynb"


def this_course() -> Course:
    """The course this package was installed from (an editable install of the repository)."""
    return Course(Path(__file__).resolve().parent.parent)
