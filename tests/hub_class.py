"""A class on a real JupyterHub for the hub tests: ``make hub``'s own code, with account names of its own.

Every account and group the class makes starts with a prefix no real ``make hub`` uses: ``PREFIX`` for
tests/test_hub.py and ``BROWSER_PREFIX`` (the same after a ``b``, so that neither starts the other) for the browser
round trip. ``PREFIX`` is ``ht`` and three hex digits of a hash of the test run and worker (pytest-xdist's run id and
worker name; else the process id), so that neither two workers nor two test runs on one machine (a CI run beside a
developer's) share accounts; the environment variable HUB_TEST_PREFIX names another (a few lowercase letters and
digits): ``HUB_TEST_PREFIX=ht28h pytest tests/test_hub.py``. A class refuses to start if accounts or groups with its
prefix exist already. Its state lives in a world-traversable temporary folder (the students' servers reach the exchange
inside it), and it is stopped and purged (accounts, groups, state) when the tests are done. Root only: it makes Unix
accounts.
"""

import grp
import hashlib
import os
import pwd
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograd_course.hub.layout import HubLayout
from autograd_course.hub.processes import accepts


def run_prefix(letters: str) -> str:
    """``letters`` and three hex digits of this worker of this test run: a module's fixture runs on every worker its
    tests go to, and another run (CI beside a developer's) may be making accounts on the same machine."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid())) + os.environ.get("PYTEST_XDIST_WORKER", "")
    return letters + hashlib.sha256(run.encode()).hexdigest()[:3]


def refuse_taken(prefix: str) -> None:
    taken = names_with_prefix(prefix)
    assert not taken, (f"accounts or groups with the test prefix {prefix!r} exist already ({', '.join(taken)}): "
                       "another test run is using them, or a stopped one left them (userdel and groupdel them)")


def names_with_prefix(prefix: str) -> list[str]:
    return sorted({entry.pw_name for entry in pwd.getpwall() if entry.pw_name.startswith(prefix)}
                  | {entry.gr_name for entry in grp.getgrall() if entry.gr_name.startswith(prefix)})


PREFIX = os.environ.get("HUB_TEST_PREFIX", run_prefix("ht"))
if not re.fullmatch(r"[a-z][a-z0-9]{0,4}", PREFIX):  # 5 (and b) fit Unix's 32 in the longest group
    raise ValueError(f"HUB_TEST_PREFIX={PREFIX!r}: 1 to 5 lowercase letters and digits, starting with a letter")
BROWSER_PREFIX = f"b{PREFIX}"


def four_free_ports() -> int:
    """A port whose next three are free too (the hub uses port to port + 3: proxy, its API, hub API, service)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 65000 and not any(listening(port + offset) for offset in (1, 2, 3)):
            return port
    raise RuntimeError("no four consecutive free ports")


def listening(port: int) -> bool:
    return accepts("127.0.0.1", port)


@dataclass
class RunningClass:
    layout: HubLayout
    passwords: dict[str, str]
    first_output: str

    def hub(self, *args: str) -> subprocess.CompletedProcess:
        return hub_command(self.layout, *args)


def hub_command(layout: HubLayout, action: str, *args: str) -> subprocess.CompletedProcess:
    options = ["--state", str(layout.state)]
    if action == "start":
        options += ["--port", str(layout.port), "--students", str(layout.students), "--graders", str(layout.graders),
                    "--prefix", layout.prefix]
    return subprocess.run([sys.executable, "-m", "autograd_course.hub", action, *options, *args],
                          capture_output=True, text=True, timeout=600)


def printed_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^  (\S+)\s+(\S+)$", output, re.MULTILINE))


def as_user(user: str, command: str) -> subprocess.CompletedProcess:
    """``command`` in ``user``'s login shell, as in their JupyterLab terminal."""
    return subprocess.run(["su", "-", user, "-c", command], capture_output=True, text=True, timeout=600)


@contextmanager
def running_class(students: int = 2, prefix: str = PREFIX, graders: int = 1) -> Iterator[RunningClass]:
    if os.geteuid() != 0:
        pytest.skip("make hub makes Unix accounts: root only")
    refuse_taken(prefix)
    state = Path(tempfile.mkdtemp(prefix="hubtest-", dir="/tmp"))
    layout = HubLayout(state, students=students, graders=graders, port=four_free_ports(), prefix=prefix)
    try:
        started = hub_command(layout, "start")
        assert started.returncode == 0, started.stdout + started.stderr
        yield RunningClass(HubLayout.load(state), printed_passwords(started.stdout), started.stdout)
    finally:
        stopped = hub_command(layout, "stop", "--purge")
        print(stopped.stdout, stopped.stderr)
        log = state / "jupyterhub.log"
        if log.exists():
            print("--- hub log (last lines) ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        left = names_with_prefix(prefix)
        if sys.exc_info()[0] is None:  # else the error that ended the class is the one to see
            assert stopped.returncode == 0 and not left, f"make hub-stop --purge left {left}: {stopped.stderr}"
