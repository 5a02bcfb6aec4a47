"""make hub: a class on a real JupyterHub (PAM logins, each user's JupyterLab as their Unix account, nbgrader's
command line in every login shell), idempotent, and stopped whole by make hub-stop. Root only (Unix accounts).
The tests are one class's term in order (fetch before grading, make hub-stop last): they run in one process, as make
test's ``--dist loadfile`` runs them."""

import functools
import grp
import json
import pwd
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from adversarial_corpus import CASES
from autograd_course.course import this_course
from autograd_course.grading.simulate import answered
from autograd_course.hub.layout import HubLayout
from grading_course import findings_said
from hub_class import PREFIX, as_user, listening, printed_passwords, running_class
from hub_client import HubClient

ASSIGNMENT = "01_chain_rule"
COURSE = this_course()


@pytest.fixture(scope="module")
def hub_class():
    with running_class(students=2, graders=2) as running:
        yield running


def processes_of(user: str) -> list[str]:
    listed = subprocess.run(["ps", "-ww", "-o", "args=", "-u", user], capture_output=True, text=True)
    return listed.stdout.splitlines()


def test_every_new_account_gets_a_password_printed_once_and_kept_only_as_a_hash(hub_class):
    layout = hub_class.layout
    assert set(hub_class.passwords) == {*layout.grader_names, *layout.student_names}
    assert layout.grader_names == [layout.instructor, f"{layout.instructor}2"]
    shadow = Path("/etc/shadow").read_text()
    stored = [path for path in [*layout.state.rglob("*"), *(Path("/home") / user for user in hub_class.passwords)]
              if path.is_file()]
    for user, password in hub_class.passwords.items():
        assert password not in shadow and f"{user}:$" in shadow  # a hash, not the password
        assert not [path for path in stored if password.encode() in path.read_bytes()], f"{user}'s password stored"
        assert pwd.getpwnam(user).pw_dir == f"/home/{user}"
        assert Path(f"/home/{user}").stat().st_mode & 0o077 == 0, "homes are private"


def test_a_second_make_hub_changes_nothing(hub_class):
    pid = (hub_class.layout.state / "jupyterhub.pid").read_text()
    again = hub_class.hub("start")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout and not printed_passwords(again.stdout)
    assert "passwords are unchanged" in again.stdout
    assert (hub_class.layout.state / "jupyterhub.pid").read_text() == pid
    student = hub_class.layout.student_names[0]
    assert HubClient(hub_class.layout.url, student).login(hub_class.passwords[student]), "password changed"


def test_login_with_the_unix_password_starts_jupyterlab_as_that_account(hub_class):
    layout = hub_class.layout
    student = layout.student_names[0]
    assert not HubClient(layout.url, student).login("not-the-password")
    assert not HubClient(layout.url, "root").login("anything"), "only the class may log in"
    client = HubClient(layout.url, student)
    assert client.login(hub_class.passwords[student])
    client.start_server()
    status, body = client.server("GET", "/api/status")
    assert status == 200, body
    assert any("jupyterhub-singleuser" in line for line in processes_of(student)), "not running as the student"
    assert client.server("GET", "/formgrader")[0] == 404, "students get no formgrader"
    status, listed = client.server("GET", "/assignments?course_id=autograd-course")  # the Assignments tab's call
    assert status == 200 and listed["success"], listed
    assert [item["assignment_id"] for item in listed["value"]] == [ASSIGNMENT]


def test_both_graders_reach_the_course_formgrader_service_and_students_are_refused(hub_class):
    """One formgrader for the course, a hub service run as the grading account: each grader reaches it with their own
    login cookie (through the hub's OAuth), a student gets 403, and nobody can log in as the grading account."""
    layout = hub_class.layout
    for grader in layout.grader_names:
        client = HubClient(layout.url, grader)
        assert client.login(hub_class.passwords[grader])
        status, assignments = client.service(layout.service_name, "GET", "/formgrader/api/assignments")
        assert status == 200, assignments
        assert {item["name"]: item["status"] for item in assignments}.get(ASSIGNMENT) == "released", assignments
        status, students = client.service(layout.service_name, "GET", "/formgrader/api/students")
        assert sorted(student["id"] for student in students) == layout.student_names
    student = layout.student_names[0]
    client = HubClient(layout.url, student)
    assert client.login(hub_class.passwords[student])
    status, _ = client.service(layout.service_name, "GET", "/formgrader/api/assignments")
    assert status == 403
    assert any("jupyterhub-singleuser" in line for line in processes_of(layout.grading_account))
    assert pwd.getpwnam(layout.grading_account).pw_dir == str(layout.course_root().parent)
    shadow = dict(line.split(":")[:2] for line in Path("/etc/shadow").read_text().splitlines())
    assert shadow[layout.grading_account].startswith("!"), "the grading account has no password"
    allowed = {*grp.getgrnam(layout.instructors_group).gr_mem, *grp.getgrnam(layout.students_group).gr_mem}
    assert layout.grading_account not in allowed and set(layout.grader_names) <= allowed


def test_nbgrader_command_line_works_in_each_login_shell(hub_class):
    layout = hub_class.layout
    first, second = layout.student_names
    # The grading account released 01; the instructor releases it again from their terminal (groupshared).
    released = as_user(layout.instructor, f"cd {layout.course_root()} && nbgrader release_assignment {ASSIGNMENT} "
                                          "--force")
    assert released.returncode == 0, released.stderr
    assert (layout.course_exchange / "outbound" / ASSIGNMENT).stat().st_uid == pwd.getpwnam(layout.instructor).pw_uid
    listed = as_user(first, "nbgrader list")
    assert listed.returncode == 0 and f"{layout.course_id} {ASSIGNMENT}" in listed.stdout + listed.stderr, listed
    for student in (first, second):
        fetched = as_user(student, f"nbgrader fetch_assignment {ASSIGNMENT}")
        assert fetched.returncode == 0, fetched.stderr
        assert Path(f"/home/{student}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb").is_file()
        submitted = as_user(student, f"nbgrader submit {ASSIGNMENT}")
        assert submitted.returncode == 0, submitted.stderr
    cached = as_user(first, "nbgrader list --cached")
    assert f"{first} {ASSIGNMENT}" in cached.stdout + cached.stderr
    inbound = as_user(layout.instructor, "nbgrader list --inbound")
    assert all(f"{student} {ASSIGNMENT}" in inbound.stdout + inbound.stderr for student in (first, second)), inbound
    collected = as_user(layout.instructor, f"cd {layout.course_root()} && nbgrader collect {ASSIGNMENT}")
    assert collected.returncode == 0, collected.stderr
    assert sorted(path.name for path in (layout.course_root() / "submitted").iterdir()) == [first, second]
    feedback = as_user(first, f"nbgrader fetch_feedback {ASSIGNMENT}")
    assert feedback.returncode == 0, feedback.stderr  # none released yet: nothing to fetch, and no error


def test_formgrader_autograde_button_grades_through_the_trusted_grader(hub_class):
    """What the Autograde button calls (the course service's formgrader API, as the second grader's browser calls it)
    grades in the sandbox: an honest answer earns its points, a hostile one (the corpus's patched torch.allclose)
    earns none and its finding is in the graded notebook; ``nbgrader autograde`` in the instructor's terminal grades
    the same way, in the same shared course folder."""
    layout = hub_class.layout
    honest, hostile = layout.student_names
    for student, case in ((honest, "honest_complete"), (hostile, "patch_torch_allclose")):
        fetched = HubLayout.home(student) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        nbformat.write(corpus_case(case).build(answered(fetched, COURSE.source_notebook(ASSIGNMENT)), "/"), fetched)
        shutil.chown(fetched, student)
        assert as_user(student, f"nbgrader submit {ASSIGNMENT}").returncode == 0
    grader = layout.grader_names[1]
    client = HubClient(layout.url, grader)
    assert client.login(hub_class.passwords[grader])
    formgrader = functools.partial(client.service, layout.service_name)
    status, collected = formgrader("POST", f"/formgrader/api/assignment/{ASSIGNMENT}/collect", {})
    assert status == 200 and collected["success"], collected
    for student in (honest, hostile):
        status, graded = formgrader("POST", f"/formgrader/api/submission/{ASSIGNMENT}/{student}/autograde", {})
        assert status == 200 and graded["success"], graded
    scores = {student: formgrader("GET", f"/formgrader/api/submission/{ASSIGNMENT}/{student}")[1]["score"]
              for student in (honest, hostile)}
    assert scores == {honest: 6.0, hostile: 0.0}
    outcome = json.loads((layout.course_root() / "grading" / ASSIGNMENT / f"{hostile}.json").read_text())
    assert outcome["status"] == "flagged" and any("allclose" in finding for finding in findings_said(outcome))
    status, notebooks = formgrader("GET", f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
    assert {item["student"]: item["flagged"] for item in notebooks} == {honest: False, hostile: True}  # Flagged?
    graded_notebook = layout.course_root() / "autograded" / hostile / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert "IntegrityFlag" in graded_notebook.read_text() and "allclose" in graded_notebook.read_text()

    before = outcome_file_times(layout, (honest, hostile))
    command = as_user(layout.instructor, f"cd {layout.course_root()} && nbgrader autograde {ASSIGNMENT} --force")
    assert command.returncode == 0, command.stderr
    assert "Trusted grader" in command.stderr
    assert all(after > before[student] for student, after in outcome_file_times(layout, (honest, hostile)).items())
    status, hostile_now = formgrader("GET", f"/formgrader/api/submission/{ASSIGNMENT}/{hostile}")
    assert hostile_now["score"] == 0.0


def corpus_case(name: str):
    return next(case for case in CASES if case.name == name)


def outcome_file_times(layout, students) -> dict[str, int]:
    return {student: (layout.course_root() / "grading" / ASSIGNMENT / f"{student}.json").stat().st_mtime_ns
            for student in students}


def test_make_hub_stop_ends_the_hub_and_every_server(hub_class):
    layout = hub_class.layout
    stopped = hub_class.hub("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not any(listening(port) for port in (layout.port, layout.proxy_api_port, layout.hub_api_port))
    for user in (*layout.grader_names, *layout.student_names, layout.grading_account):
        assert not processes_of(user), f"{user} still has processes"
    assert all(name.startswith(PREFIX) for name in hub_class.passwords)
