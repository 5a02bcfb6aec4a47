"""``make hub`` / ``make hub-stop``: a class on a JupyterHub on this machine (run as root).

``python -m autograd_course.hub start [--students N] [--graders N] [--state DIR] [--port P] [--ip IP] [--prefix P]``
makes the groups and accounts (printing each new account's password once), the course in the grading account's home
with 01_chain_rule released to the private exchange, every student in the gradebook, and starts the hub (and with it
the course's formgrader service, run as the grading account) in the background; run again,
it changes nothing that exists and starts the hub only if it is not running. ``stop [--state DIR] [--purge]``
ends the hub, the proxy and every user's server; ``--purge`` also removes the accounts, groups and state.
"""

import argparse
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..course import this_course
from . import accounts
from .exchange import FEEDBACK_HOMES, prepare_course_folder
from .layout import LAYOUT_FILE, HubLayout
from .processes import accepts, end_process_group, end_servers, until
from .runtime import environment_for_everyone

DEFAULT_STATE = Path("/var/lib/autograd-course-hub")
FIRST_ASSIGNMENT = "01_chain_rule"
START_SECONDS = 120


class HubError(RuntimeError):
    """Something make hub cannot do here; the message says what to do instead."""


def as_user(user: str, command: str, cwd: Path) -> subprocess.CompletedProcess:
    """``command`` in ``user``'s login shell, as a student would type it in a terminal."""
    return subprocess.run(["su", "-", user, "-c", f"cd {cwd} && {command}"], capture_output=True, text=True)


def release_first_assignment(layout: HubLayout) -> None:
    """01_chain_rule generated and released by the grading account (as its formgrader would), every student in the
    gradebook (once)."""
    course, grader = layout.course_root(), layout.grading_account
    if not (layout.course_exchange / "outbound" / FIRST_ASSIGNMENT).is_dir() \
            or not (layout.course_exchange / FEEDBACK_HOMES).is_dir():
        for step in ("generate_assignment", "release_assignment"):
            done = as_user(grader, f"nbgrader {step} {FIRST_ASSIGNMENT} --force --log-level=WARN", course)
            if done.returncode != 0:
                raise HubError(f"nbgrader {step} as {grader} failed:\n{done.stdout}{done.stderr}")
    for student in accounts.members(layout.students_group):
        added = as_user(grader, f"nbgrader db student add {student} --log-level=WARN", course)
        if added.returncode != 0:
            raise HubError(f"nbgrader db student add {student} failed:\n{added.stdout}{added.stderr}")


def running_pid(layout: HubLayout) -> int | None:
    try:
        pid = int((layout.state / "jupyterhub.pid").read_text())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/hub/api", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_hub(layout: HubLayout) -> None:
    if running_pid(layout) and answers(layout.url):
        print(f"The hub is already running at {layout.url}")
        return
    log = layout.state / "jupyterhub.log"
    env = {**os.environ, "AUTOGRAD_HUB_STATE": str(layout.state),
           "PATH": f"{layout.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("a") as output:
        process = subprocess.Popen([str(layout.venv / "bin" / "jupyterhub"), "-f",
                                    str(Path(__file__).with_name("jupyterhub_config.py"))],
                                   cwd=layout.state, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while not answers(layout.url):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise HubError(f"JupyterHub did not start (log: {log}):\n{tail}")
        time.sleep(0.5)


def start(layout: HubLayout) -> tuple[HubLayout, dict[str, str]]:
    """Everything make hub does; the layout (with the environment the class runs) and the new accounts' passwords."""
    if os.geteuid() != 0:
        raise HubError("make hub makes Unix accounts and runs each user's JupyterLab as that user: run it as root "
                       "(sudo make hub) on a Debian or Ubuntu machine")
    layout.state.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.state, 0o711)  # users reach the exchange inside; only root reads the hub's database and secret
    layout = dataclasses.replace(layout, venv=environment_for_everyone(layout.state))
    layout.save()
    for group in groups(layout):
        accounts.ensure_group(group)
    accounts.ensure_account(layout.grading_account, layout.files_group, with_password=False)
    accounts.share_home(layout.grading_account, layout.files_group)
    accounts.configure_account(layout, layout.grading_account, instructor=True)
    passwords = {}
    students = sorted({*layout.student_names, *accounts.members(layout.students_group)})  # and those added later
    graders = sorted({*layout.grader_names, *accounts.members(layout.instructors_group)})
    for user, user_groups in [*((grader, (layout.instructors_group, layout.files_group)) for grader in graders),
                              *((student, (layout.students_group,)) for student in students)]:
        if (password := accounts.ensure_account(user, *user_groups)) is not None:
            passwords[user] = password
        accounts.configure_account(layout, user, instructor=user in graders)
    accounts.copy_course(layout, this_course().root)
    prepare_course_folder(layout.exchange_root, layout.course_id, layout.grading_account, layout.files_group)
    release_first_assignment(layout)
    start_hub(layout)
    return layout, passwords


def groups(layout: HubLayout) -> tuple[str, ...]:
    return layout.instructors_group, layout.students_group, layout.files_group


def people(layout: HubLayout) -> tuple[str, ...]:
    """Every account a class has: its graders, its students and the grading account."""
    return *layout.grader_names, *layout.student_names, layout.grading_account


def stop(layout: HubLayout, purge: bool = False) -> None:
    """End the hub (which stops the proxy and every user's server), then whatever is left of its process group and
    of the servers; it returns once the hub's ports are closed."""
    if (pid := running_pid(layout)) is not None:
        os.kill(pid, signal.SIGTERM)
        until(lambda: running_pid(layout) != pid, seconds=30, every=0.5)
        end_process_group(pid)  # the hub started its own session: its group is its pid
        # The public port as configured; the proxy's API and the hub's API listen on 127.0.0.1 (jupyterhub_config).
        addresses = ((layout.ip, layout.port), ("127.0.0.1", layout.proxy_api_port), ("127.0.0.1", layout.hub_api_port))
        until(lambda: not any(accepts(ip, port) for ip, port in addresses), seconds=15)
    end_servers([user for user in people(layout) if accounts.exists(user)])
    if purge:
        failed = []
        for user in people(layout):
            try:
                accounts.remove_account(user)
            except RuntimeError as error:  # the others are removed all the same
                failed.append(str(error))
        for group in groups(layout):
            accounts.remove_group(group)
        if failed:
            raise HubError("; ".join(failed) + f" (the state in {layout.state} is kept: run the same stop again)")
        shutil.rmtree(layout.state, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="the hub's state folder")
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--graders", type=int, default=1, help="instructor, then instructor2 ... instructorN")
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="the hub's port (it also uses the next three)")
    parser.add_argument("--prefix", default="", help="put before every account and group name")
    parser.add_argument("--purge", action="store_true", help="stop: remove the accounts, groups and state too")
    args = parser.parse_args(argv)
    state = args.state.resolve()
    try:
        if args.action == "stop":
            if not (state / LAYOUT_FILE).exists():
                print(f"No hub state in {state}: nothing to stop.")
                return 0
            stop(HubLayout.load(state), args.purge)
            print("The hub is stopped." + (" Accounts, groups and state removed." if args.purge else ""))
            return 0
        layout = HubLayout(state, args.students, args.graders, args.ip, args.port, args.prefix)
        layout, passwords = start(layout)
    except HubError as error:
        print(f"make hub: {error}", file=sys.stderr)
        return 2
    print(f"The class's hub: {layout.url}  (state: {layout.state}; stop with make hub-stop)")
    print(f"Graders: {', '.join(layout.grader_names)}; students: {', '.join(layout.student_names)}")
    print(f"Formgrader (for the graders): {layout.service_url}/formgrader  (runs as {layout.grading_account}, "
          f"who cannot log in; add a grader to the group {layout.instructors_group} and {layout.files_group})")
    if passwords:
        print("New accounts and their passwords, shown this once (only their hashes are kept, in /etc/shadow):")
        for user, password in passwords.items():
            print(f"  {user:<24} {password}")
    else:
        print("Every account existed already; their passwords are unchanged (reset one with: passwd NAME).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
