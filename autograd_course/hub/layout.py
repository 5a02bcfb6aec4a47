"""Where a hub keeps its state and who its accounts are: one JSON file in the state folder, read by every part."""

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

COURSE_ID = "autograd-course"
LAYOUT_FILE = "layout.json"


@dataclass(frozen=True)
class HubLayout:
    """One class on one machine. ``prefix`` is put before every account and group name (tests use their own)."""

    state: Path
    students: int = 3
    graders: int = 1
    ip: str = "127.0.0.1"
    port: int = 8000
    prefix: str = ""
    course_id: str = COURSE_ID
    venv: Path = field(default_factory=lambda: Path(sys.prefix))

    # -- who -------------------------------------------------------------------------------------------
    @property
    def instructor(self) -> str:
        return f"{self.prefix}instructor"

    @property
    def grader_names(self) -> list[str]:
        """The people who grade: ``instructor``, then ``instructor2`` ... ``instructor<graders>``."""
        return [self.instructor, *(f"{self.instructor}{number}" for number in range(2, self.graders + 1))]

    @property
    def grading_account(self) -> str:
        """The account the course's formgrader service runs as (nbgrader's ``grader-<course>``); nobody logs in as it."""
        return f"{self.prefix}grader-{self.course_id}"

    @property
    def student_names(self) -> list[str]:
        return [f"{self.prefix}student{number}" for number in range(1, self.students + 1)]

    @property
    def instructors_group(self) -> str:
        """JupyterHub's and Unix's group of the course's graders (nbgrader's ``formgrade-<course>`` convention)."""
        return f"{self.prefix}formgrade-{self.course_id}"

    @property
    def students_group(self) -> str:
        return f"{self.prefix}nbgrader-{self.course_id}"

    @property
    def files_group(self) -> str:
        """The Unix group sharing the course folder and the submissions: the graders and the grading account. Not a
        hub group, so the grading account cannot log in."""
        return f"{self.prefix}grading-{self.course_id}"

    @property
    def service_name(self) -> str:
        """The JupyterHub service running the course's formgrader, named after the course as nbgrader's demo does."""
        return self.course_id

    # -- where -----------------------------------------------------------------------------------------
    @property
    def exchange_root(self) -> Path:
        return self.state / "exchange"

    @property
    def course_exchange(self) -> Path:
        return self.exchange_root / self.course_id

    @staticmethod
    def home(user: str) -> Path:
        return Path("/home") / user

    def course_root(self) -> Path:
        """The course folder (nbgrader_config.py and source/, as in this repository), in the grading account's home."""
        return self.home(self.grading_account) / self.course_id

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    # The hub's internal ports follow the public one, so that one number configures a hub.
    @property
    def proxy_api_port(self) -> int:
        return self.port + 1

    @property
    def hub_api_port(self) -> int:
        return self.port + 2

    @property
    def service_port(self) -> int:
        return self.port + 3

    @property
    def service_url(self) -> str:
        """The formgrader service through the hub, as graders reach it."""
        return f"{self.url}/services/{self.service_name}"

    # -- stored ----------------------------------------------------------------------------------------
    def save(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        values = {name: str(value) if isinstance(value, Path) else value for name, value in asdict(self).items()}
        (self.state / LAYOUT_FILE).write_text(json.dumps(values, indent=1) + "\n")

    @classmethod
    def load(cls, state: Path) -> "HubLayout":
        values = json.loads((Path(state) / LAYOUT_FILE).read_text())
        return cls(**{**values, "state": Path(values["state"]), "venv": Path(values["venv"])})
