"""Submissions, feedback and released files are private by construction on a shared machine: real Unix accounts.

Student A and student B each fetch and submit 01_chain_rule; the instructor collects and releases feedback. Then B,
told every path of A's work (names can leak: logs, screenshots, a guessed timestamp), tries to list, read, change
and delete A's submission and feedback, change or remove the released files, take the course folder away, and
submit as A. With the course's exchange (autograd_course.hub.exchange) every attempt fails and the instructor still
collects everything; with nbgrader's default exchange the same attempts succeed, which shows that the test can fail.
Root only: it makes Unix accounts (prefix px and three hex digits of the run, removed afterwards).
"""

import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograd_course.hub import accounts
from autograd_course.hub.exchange import prepare_course_folder
from autograd_course.hub.layout import HubLayout
from autograd_course.hub.runtime import environment_for_everyone
from autograd_course.course import this_course
from hub_class import refuse_taken, run_prefix
from nbgrader.utils import notebook_hash

ASSIGNMENT = "01_chain_rule"
COURSE = this_course()
ATTACK = Path(__file__).with_name("exchange_attacks.py")
# What B manages against A's work through nbgrader's default exchange (each is a hole the course's exchange closes).
DEFAULT_EXCHANGE_HOLES = {"read A's submission", "read A's submission secret", "change A's submission",
                          "delete A's submission", "read A's feedback", "submit as A", "move the course folder"}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="makes Unix accounts: root only")


@pytest.fixture(scope="module")
def people():
    prefix = run_prefix("px")
    refuse_taken(prefix)
    state = Path(tempfile.mkdtemp(prefix="exchange22-", dir="/tmp"))
    os.chmod(state, 0o755)
    layout = HubLayout(state, students=2, prefix=prefix)
    layout = dataclasses.replace(layout, venv=environment_for_everyone(state))
    try:
        for group in (layout.instructors_group, layout.students_group):
            accounts.ensure_group(group)
        accounts.ensure_account(layout.instructor, layout.instructors_group)
        for student in layout.student_names:
            accounts.ensure_account(student, layout.students_group)
        for user in (layout.instructor, *layout.student_names):
            accounts.configure_account(layout, user, instructor=False)  # the course and exchange, no course root
        yield layout
    finally:
        for user in (layout.instructor, *layout.student_names):
            accounts.remove_account(user)
        for group in (layout.instructors_group, layout.students_group):
            accounts.remove_group(group)
        shutil.rmtree(state, ignore_errors=True)


def run_as(user: str, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """A command in ``user``'s login shell (their PATH, their ~/.jupyter/nbgrader_config.py)."""
    line = " ".join(f"'{part}'" for part in command)
    return subprocess.run(["su", "-", user, "-c", f"cd '{cwd or HubLayout.home(user)}' && {line}"],
                          capture_output=True, text=True, timeout=600)


def nbgrader(user: str, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = run_as(user, "nbgrader", *args, "--log-level=INFO", cwd=cwd)
    assert done.returncode == 0 or not check, f"{user}: nbgrader {' '.join(args)}\n{done.stdout}{done.stderr}"
    return done


def use_default_exchange(layout: HubLayout, root: Path) -> None:
    """nbgrader's own exchange, set up as its documentation says: a world-writable root."""
    root.mkdir(mode=0o777)
    root.chmod(0o777)
    for user in (layout.instructor, *layout.student_names):
        accounts.write_as(user, HubLayout.home(user) / ".jupyter" / "nbgrader_config.py",
                          f"c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = {layout.course_id!r}\n"
                          f"c.Exchange.root = {str(root)!r}\n")


def a_course(layout: HubLayout, name: str) -> Path:
    """The instructor's course folder: this course's config and 01's released student version."""
    course = HubLayout.home(layout.instructor) / name
    release = course / "notebooks" / ASSIGNMENT
    release.mkdir(parents=True)
    shutil.copy(COURSE.root / "nbgrader_config.py", course)
    shutil.copy(COURSE.student_notebook(ASSIGNMENT), release)
    shutil.chown(course, layout.instructor)
    for path in course.rglob("*"):
        shutil.chown(path, layout.instructor)
    return course


def fresh_homes(layout: HubLayout) -> None:
    for student in layout.student_names:
        home = HubLayout.home(student)
        shutil.rmtree(home / ASSIGNMENT, ignore_errors=True)
        shutil.rmtree(home / ".local" / "share" / "jupyter" / "nbgrader_cache", ignore_errors=True)


def sign(layout: HubLayout, student: str, words: str) -> None:
    """The student writes ``words`` into their fetched notebook (so whose work was collected can be told)."""
    path = HubLayout.home(student) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(words))
    nbformat.write(notebook, path)
    shutil.chown(path, student)


def release_feedback(layout: HubLayout, course: Path) -> None:
    """Feedback for each collected submission (the instructor's HTML; the exchange is what is tested)."""
    for submitted in (course / "submitted").iterdir():
        folder = course / "feedback" / submitted.name / ASSIGNMENT
        folder.mkdir(parents=True)
        for receipt in ("timestamp.txt", "submission_secret.txt"):
            shutil.copy(submitted / ASSIGNMENT / receipt, folder)
        (folder / f"{ASSIGNMENT}.html").write_text(f"<p>feedback for {submitted.name}</p>")
    for path in [course / "feedback", *(course / "feedback").rglob("*")]:
        shutil.chown(path, layout.instructor)
    nbgrader(layout.instructor, "release_feedback", ASSIGNMENT, cwd=course)


def class_round(layout: HubLayout, exchange_root: Path, course_name: str) -> dict:
    """Release, fetch, submit, collect, feedback; then B's attacks. What B achieved, and what was collected."""
    a, b = layout.student_names
    course = a_course(layout, course_name)
    fresh_homes(layout)
    nbgrader(layout.instructor, "release_assignment", ASSIGNMENT, cwd=course)
    for student in (a, b):
        nbgrader(student, "fetch_assignment", ASSIGNMENT)
        sign(layout, student, f"the work of {student}")
        nbgrader(student, "submit", ASSIGNMENT)
    # B submits as A: with nbgrader's --student option, and by making a folder named after A by hand.
    sign(layout, b, "B pretending to be A")
    nbgrader(b, "submit", ASSIGNMENT, f"--student={a}", check=False)
    inbound = exchange_root / layout.course_id / "inbound"
    submission_of_a = min((path for path in inbound.iterdir() if path.name.startswith(f"{a}+")),
                          key=lambda path: path.stat().st_mtime)
    nbgrader(layout.instructor, "collect", ASSIGNMENT, cwd=course)
    collected = {student: (course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
                 for student in (a, b)}
    release_feedback(layout, course)
    nbgrader(a, "fetch_feedback", ASSIGNMENT)
    nbgrader(b, "fetch_feedback", ASSIGNMENT)
    fetched = {student: [path.read_text() for path in
                         (HubLayout.home(student) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")]
               for student in (a, b)}
    secret = (course / "submitted" / a / ASSIGNMENT / "submission_secret.txt").read_text()
    targets = {"exchange_course": str(exchange_root / layout.course_id), "inbound": str(inbound),
               "submission": str(submission_of_a), "notebook": str(submission_of_a / f"{ASSIGNMENT}.ipynb"),
               "secret": str(submission_of_a / "submission_secret.txt"),
               "feedback_folder": str(exchange_root / layout.course_id / "feedback"),
               "feedback": str(exchange_root / layout.course_id / "feedback" /
                               f"{notebook_hash(secret=secret, notebook_id=ASSIGNMENT)}.html"),
               "released": str(exchange_root / layout.course_id / "outbound" / ASSIGNMENT)}
    script = shutil.copy(ATTACK, layout.state)  # where B can read it (the repository may be out of reach)
    attack = run_as(b, "python", str(script), json.dumps(targets))
    assert attack.returncode == 0, attack.stderr
    achieved = {name for name, succeeded in json.loads(attack.stdout).items() if succeeded}
    if "B pretending to be A" in collected[a]:
        achieved.add("submit as A")
    return {"achieved": achieved, "collected": collected, "fetched": fetched}


def test_no_student_can_reach_another_students_work_through_the_course_exchange(people):
    root = people.exchange_root
    prepare_course_folder(root, people.course_id, people.instructor, people.instructors_group)
    for user in (people.instructor, *people.student_names):
        accounts.configure_account(people, user, instructor=False)
    outcome = class_round(people, root, "private-course")
    a, b = people.student_names
    assert outcome["achieved"] == set(), f"B got at A's work: {sorted(outcome['achieved'])}"
    assert f"the work of {a}" in outcome["collected"][a] and "pretending" not in outcome["collected"][a]
    assert f"the work of {b}" in outcome["collected"][b]  # the instructor collected everyone
    assert outcome["fetched"] == {a: [f"<p>feedback for {a}</p>"], b: [f"<p>feedback for {b}</p>"]}


def test_nbgrader_default_exchange_lets_a_student_at_another_students_work(people):
    root = people.state / "default-exchange"
    use_default_exchange(people, root)
    outcome = class_round(people, root, "default-course")
    assert DEFAULT_EXCHANGE_HOLES <= outcome["achieved"], sorted(outcome["achieved"])
