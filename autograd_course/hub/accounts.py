"""The class's Unix accounts and what each account's nbgrader and JupyterLab read (run as root).

A new account gets a random password, set through chpasswd (so only its hash is stored, in /etc/shadow) and
returned once for ``make hub`` to print; an existing account keeps its password. Each home is 0700. Each account
gets a ~/.jupyter/nbgrader_config.py naming the course and the private exchange, so that nbgrader's command line
works in its login shell and JupyterLab terminal as the Assignments tab does, and its ~/.profile puts the course's
Python first on PATH. Students do not get formgrader or the course list in JupyterLab. Graders get the course list,
which links to the course's formgrader service; that service runs as the grading account, which owns the course
folder and shares it with the graders through the files group (umask 007 for both, so each can write what the other
made). The grading account has no password and is in no group the hub lets log in.
"""

import grp
import json
import os
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path

from .layout import HubLayout
from .processes import has_processes, until

PROFILE_MARK = "# autograd-course hub: the course's Python first"
ENVIRONMENT_FILE = ".autograd-course-hub.sh"  # rewritten by every make hub, read by ~/.profile
# JupyterLab plugins of nbgrader that only graders use, and nbgrader's server extensions behind them.
INSTRUCTOR_LAB_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                          "@jupyter/nbgrader:create-assignment"]
INSTRUCTOR_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"]
# A grader's own JupyterLab: formgrader lives in the course's service (one formgrader per gradebook), the course list
# and the assignment creator stay.
SERVICE_ONLY_LAB_PLUGINS = ["@jupyter/nbgrader:formgrader"]
SERVICE_ONLY_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader"]
SHARED_UMASK = "007"


def exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


def ensure_group(name: str) -> None:
    try:
        grp.getgrnam(name)
    except KeyError:
        subprocess.run(["groupadd", name], check=True)


def members(group: str) -> list[str]:
    return sorted(grp.getgrnam(group).gr_mem)


def ensure_account(user: str, *groups: str, with_password: bool = True) -> str | None:
    """Create ``user`` (a member of ``groups``) if missing; the new password, or None for an existing account or one
    made ``with_password=False`` (its password stays locked, as useradd leaves it)."""
    password = None
    if not exists(user):
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", ",".join(groups), user],
                       check=True)
        if with_password:
            password = secrets.token_urlsafe(9)
            subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
    else:
        subprocess.run(["usermod", "--append", "--groups", ",".join(groups), user], check=True)
    os.chmod(HubLayout.home(user), 0o700)  # classmates cannot browse each other's homes
    return password


def share_home(user: str, group: str) -> None:
    """``user``'s home traversable (not listable) by ``group``: the graders reach the course folder inside."""
    home = HubLayout.home(user)
    shutil.chown(home, group=group)
    os.chmod(home, 0o710)


def remove_account(user: str, seconds: float = 15) -> None:
    """The account, its home and its processes (tests and ``make hub-stop PURGE=1``). userdel refuses an account
    while a process of it exists, and a killed process exists until it is reaped: wait for that first."""
    if not exists(user):
        return
    subprocess.run(["pkill", "-KILL", "-u", user], check=False)
    until(lambda: not has_processes(user), seconds, every=0.1)
    removed = subprocess.run(["userdel", "--remove", user], capture_output=True, text=True)
    if exists(user):
        raise RuntimeError(f"userdel {user} failed: {removed.stderr.strip()}")


def remove_group(name: str) -> None:
    subprocess.run(["groupdel", name], check=False, capture_output=True)


def write_as(user: str, path: Path, text: str, mode: int = 0o644) -> None:
    """A file in ``user``'s home, owned by them (folders too)."""
    entry = pwd.getpwnam(user)
    home = Path(entry.pw_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in [path.parent, *path.parent.parents]:
        if folder == home or not folder.is_relative_to(home):
            break
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    path.write_text(text)
    os.chmod(path, mode)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def nbgrader_config(layout: HubLayout, course_root: Path | None = None) -> str:
    lines = ['"""nbgrader for this account on the course\'s hub (written by make hub)."""',
             "from autograd_course.hub.exchange import use_private_exchange", "",
             "c = get_config()  # noqa: F821",
             f"c.CourseDirectory.course_id = {layout.course_id!r}",
             f"use_private_exchange(c, {str(layout.exchange_root)!r})",
             "# Validate as make validate does: the answer policy's findings in the test cells.",
             "from autograd_course.validate import configure_validation",
             "configure_validation(c)"]
    if course_root is not None:
        lines += ["# The course folder's own configuration, wherever nbgrader runs (formgrader runs in the home).",
                  "from autograd_course.hub.course import include_course_config",
                  f"include_course_config(c, {str(course_root)!r})",
                  f"c.CourseDirectory.root = {str(course_root)!r}",
                  f"c.CourseDirectory.db_url = {f'sqlite:///{course_root}/gradebook.db'!r}",
                  "# Several graders and the formgrader service share the course folder and the exchange's course",
                  "# through the files group: nbgrader makes what it writes group-writable and lets any of them release.",
                  "c.CourseDirectory.groupshared = True",
                  "# Formgrader's Autograde button, nbgrader autograde and the API: the sandboxed grader.",
                  "from autograd_course.hub.trusted import use_trusted_grader",
                  "use_trusted_grader(c)"]
    return "\n".join(lines) + "\n"


def configure_account(layout: HubLayout, user: str, instructor: bool) -> None:
    """``user``'s shell environment, nbgrader configuration and which of nbgrader's JupyterLab parts they get:
    a grader's or the grading account's (``instructor``), or a student's."""
    home = HubLayout.home(user)
    grades = instructor
    environment = f"export PATH=\"{layout.venv / 'bin'}:$PATH\"\nexport OMP_NUM_THREADS=1\n"
    write_as(user, home / ENVIRONMENT_FILE, environment + (f"umask {SHARED_UMASK}\n" if grades else ""))
    profile = home / ".profile"
    text = profile.read_text() if profile.exists() else ""
    if PROFILE_MARK not in text:
        write_as(user, profile, f"{text}\n{PROFILE_MARK}\n. \"$HOME/{ENVIRONMENT_FILE}\"\n")
    write_as(user, home / ".jupyter" / "nbgrader_config.py", nbgrader_config(layout, layout.course_root() if grades
                                                                            else None))
    if user == layout.grading_account:
        return
    plugins, extensions = ((SERVICE_ONLY_LAB_PLUGINS, SERVICE_ONLY_SERVER_EXTENSIONS) if grades
                           else (INSTRUCTOR_LAB_PLUGINS, INSTRUCTOR_SERVER_EXTENSIONS))
    write_as(user, home / ".jupyter" / "labconfig" / "page_config.json",
             json.dumps({"disabledExtensions": {plugin: True for plugin in plugins}}, indent=1))
    write_as(user, home / ".jupyter" / "jupyter_server_config.json",
             json.dumps({"ServerApp": {"jpserver_extensions": {extension: False for extension in extensions}}},
                        indent=1))


def copy_course(layout: HubLayout, repository: Path) -> None:
    """The course folder from this repository (config and source/), if it does not exist yet: the grading
    account's, the files group's to write too (setgid folders, so what anyone makes below keeps that group)."""
    root = layout.course_root()
    if root.exists():
        return
    owner, group = pwd.getpwnam(layout.grading_account).pw_uid, grp.getgrnam(layout.files_group).gr_gid
    root.mkdir()
    shutil.copy(repository / "nbgrader_config.py", root)
    shutil.copytree(repository / "source", root / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in [root, *root.rglob("*")]:
        os.chown(path, owner, group, follow_symlinks=False)
        os.chmod(path, 0o2770 if path.is_dir() else 0o660)
