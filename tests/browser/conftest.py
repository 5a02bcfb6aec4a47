"""A JupyterLab server on a throw-away copy of the course, Debian's Chromium, and a screenshot per step.

Playwright launches /usr/bin/chromium (Debian's package, installed by `make system-packages`), never a
browser of its own: `playwright install` needs a download that CI cannot make. Every server runs in a
temporary copy of the course with its own Jupyter config, settings, workspaces and nbgrader exchange,
so nothing in the working tree or the user's ~/.jupyter is read or written.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from autograd_course.course import Course, this_course
from grading_course import nbgrader_api

COURSE = this_course()
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = COURSE.root / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
# Generous: the machines that run this are shared, and a kernel start plus a torch import can be slow there.
SERVER_START_SECONDS = 180
UI_TIMEOUT_MS = 60_000
expect.set_options(timeout=UI_TIMEOUT_MS)


# --- the browser -------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    if not CHROMIUM.is_file():
        message = (f"no Chromium at {CHROMIUM}: run `make system-packages` as root (Debian package chromium), "
                   "or set CHROMIUM to a Chromium binary")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    headless = browser_type_launch_args.get("headless", True)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM),
            "args": (["--headless"] if headless else []) + CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(UI_TIMEOUT_MS)
    return page


class Screenshots:
    """``screenshot("step-name")`` saves screenshots/<test>/<NN>-step-name.png: one picture per step."""

    def __init__(self, page: Page, folder: Path):
        self.page, self.folder, self.taken = page, folder, []

    def __call__(self, step: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        self.page.screenshot(path=path)
        assert path.stat().st_size > 0, f"empty screenshot {path}"
        self.taken.append(path)
        return path


@pytest.fixture
def screenshot(page: Page, request) -> Screenshots:
    folder = SCREENSHOTS / request.node.originalname
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Screenshots(page, folder)


# --- the course and its server -------------------------------------------------------------------------------

def copy_course(destination: Path) -> Course:
    """What an instructor's course directory holds under version control: config, source/, notebooks/."""
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    destination.mkdir(parents=True)
    shutil.copy(COURSE.root / "nbgrader_config.py", destination)
    shutil.copytree(COURSE.source_dir, destination / "source", ignore=ignore)
    shutil.copytree(COURSE.release_dir, destination / "notebooks", ignore=ignore)
    return Course(destination)


def point_totals(course: Course) -> dict[str, float]:
    """Each assignment's total points: the sum of its graded cells' nbgrader points, as generate_assignment records."""
    totals = {}
    for assignment_id in course.assignment_ids():
        cells = [cell for notebook in sorted((course.source_dir / assignment_id).glob("*.ipynb"))
                 for cell in json.loads(notebook.read_text())["cells"]]
        totals[assignment_id] = sum(cell["metadata"]["nbgrader"].get("points", 0) for cell in cells
                                    if cell["metadata"].get("nbgrader", {}).get("grade"))
    return totals


def generate_assignments(course: Course) -> None:
    """What formgrader's Generate button does for each assignment: student version + gradebook record."""
    nbgrader_api(course.root, course.assignment_ids())


@dataclass(frozen=True)
class JupyterLab:
    course: Course
    url: str
    token: str
    log: Path

    def lab_url(self, path: str = "") -> str:
        return f"{self.url}/lab/tree/{path}?token={self.token}" if path else f"{self.url}/lab?token={self.token}"

    def request(self, method: str, path: str, timeout: float = 10):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


@contextmanager
def running_jupyterlab(course: Course, state: Path) -> Iterator[JupyterLab]:
    """``jupyter lab`` on localhost in ``course.root`` (its cwd too: nbgrader reads nbgrader_config.py from there)."""
    for folder in ("config", "runtime", "settings", "workspaces", "exchange"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    # The server's own nbgrader config, as a deployment would have in /etc/jupyter: where the exchange is.
    (state / "config" / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.Exchange.root = {str(state / 'exchange')!r}\n")
    env = {**os.environ,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # kernel "python3"
           "JUPYTER_CONFIG_DIR": str(state / "config"), "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
           "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={course.root}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses root without it; CI runs as root
    log = state / "jupyterlab.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=course.root, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    lab = JupyterLab(course, f"http://127.0.0.1:{port}", token, log)
    try:
        wait_until_ready(lab, process)
        yield lab
    finally:
        stop(lab, process)
        # Shown by pytest only when a test failed: what the server said.
        print(f"--- {log} (last lines) ---\n{log_tail(log)}")


def wait_until_ready(lab: JupyterLab, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log_tail(lab.log)}")
        try:
            if lab.request("GET", "/api/status", timeout=5) == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_SECONDS} s:\n{log_tail(lab.log)}")


def stop(lab: JupyterLab, process: subprocess.Popen) -> None:
    """Shut down through the API (which stops the kernels too); signal the server's process group if it hangs."""
    if process.poll() is None:
        try:
            lab.request("POST", "/api/shutdown", timeout=10)
            process.wait(timeout=30)
        except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
            pass
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        os.killpg(process.pid, sig)  # the group this fixture started (start_new_session=True)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture
def student_lab(tmp_path) -> Iterator[JupyterLab]:
    """A fresh server per test, so that no kernel or saved answer carries over from another test."""
    with running_jupyterlab(copy_course(tmp_path / "course"), tmp_path / "jupyter") as lab:
        yield lab


@pytest.fixture(scope="module")
def instructor_lab(tmp_path_factory) -> Iterator[JupyterLab]:
    """A server on a course whose gradebook the instructor filled: every assignment in source/ generated."""
    root = tmp_path_factory.mktemp("instructor")
    course = copy_course(root / "course")
    generate_assignments(course)
    with running_jupyterlab(course, root / "jupyter") as lab:
        yield lab
