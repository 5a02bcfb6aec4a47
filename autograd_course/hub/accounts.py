"""The class's Unix accounts and what each account's nbgrader and JupyterLab read (run as root).

A new account gets a random password, set through chpasswd (so only its hash is stored, in /etc/shadow) and
returned once for ``make hub`` to print; an existing account keeps its password. Each home is 0700. Each account
gets a ~/.jupyter/nbgrader_config.py naming the course and the private exchange, so that nbgrader's command line
works in its login shell and JupyterLab terminal as the Assignments tab does, and its ~/.profile puts the course's
Python first on PATH. Students do not get formgrader or the course list in JupyterLab; the instructor does.
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

PROFILE_MARK = "# autograd-course hub: the course's Python first"
ENVIRONMENT_FILE = ".autograd-course-hub.sh"  # rewritten by every make hub, read by ~/.profile
# JupyterLab plugins of nbgrader that only graders use, and nbgrader's server extensions behind them.
INSTRUCTOR_LAB_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                          "@jupyter/nbgrader:create-assignment"]
INSTRUCTOR_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"]


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


def ensure_account(user: str, group: str) -> str | None:
    """Create ``user`` (a member of ``group``) if missing; the new password, or None for an existing account."""
    password = None
    if not exists(user):
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, user], check=True)
        password = secrets.token_urlsafe(9)
        subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
    else:
        subprocess.run(["usermod", "--append", "--groups", group, user], check=True)
    os.chmod(HubLayout.home(user), 0o700)  # classmates cannot browse each other's homes
    return password


def remove_account(user: str) -> None:
    """The account, its home and its processes (tests and ``make hub-stop PURGE=1``)."""
    if exists(user):
        subprocess.run(["pkill", "-KILL", "-u", user], check=False)
        subprocess.run(["userdel", "--remove", user], check=False, capture_output=True)


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
                  "# Formgrader's Autograde button, nbgrader autograde and the API: the sandboxed grader.",
                  "from autograd_course.hub.trusted import use_trusted_grader",
                  "use_trusted_grader(c)"]
    return "\n".join(lines) + "\n"


def configure_account(layout: HubLayout, user: str, instructor: bool) -> None:
    home = HubLayout.home(user)
    write_as(user, home / ENVIRONMENT_FILE,
             f"export PATH=\"{layout.venv / 'bin'}:$PATH\"\nexport OMP_NUM_THREADS=1\n")
    profile = home / ".profile"
    text = profile.read_text() if profile.exists() else ""
    if PROFILE_MARK not in text:
        write_as(user, profile, f"{text}\n{PROFILE_MARK}\n. \"$HOME/{ENVIRONMENT_FILE}\"\n")
    course_root = layout.course_root() if instructor else None
    write_as(user, home / ".jupyter" / "nbgrader_config.py", nbgrader_config(layout, course_root))
    if not instructor:
        write_as(user, home / ".jupyter" / "labconfig" / "page_config.json",
                 json.dumps({"disabledExtensions": {plugin: True for plugin in INSTRUCTOR_LAB_PLUGINS}}, indent=1))
        write_as(user, home / ".jupyter" / "jupyter_server_config.json",
                 json.dumps({"ServerApp": {"jpserver_extensions": {extension: False for extension in
                                                                   INSTRUCTOR_SERVER_EXTENSIONS}}}, indent=1))


def copy_course(layout: HubLayout, repository: Path) -> None:
    """The instructor's course folder from this repository (config and source/), if it does not exist yet."""
    root = layout.course_root()
    if root.exists():
        return
    entry = pwd.getpwnam(layout.instructor)
    root.mkdir()
    shutil.copy(repository / "nbgrader_config.py", root)
    shutil.copytree(repository / "source", root / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in [root, *root.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
