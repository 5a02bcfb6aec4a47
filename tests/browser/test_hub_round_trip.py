"""A class's round trip on a real JupyterHub, in Debian's Chromium: students log in, fetch 01 from the Assignments tab
and submit (A a correct answer, B a hostile one); the instructor collects and autogrades from formgrader's buttons
(the trusted grader: A 6/6, B 0/6 and flagged) and releases feedback; each student fetches feedback and gets only
their own; B cannot read A's work from a terminal. The answers are written into the fetched notebooks on disk (typing
them in JupyterLab is tests/browser/test_student_in_jupyterlab.py's job). Screenshots: screenshots/hub/. The test
prints the round trip's wall time. Root only (Unix accounts, prefix hb22).
"""

import shutil
import time

import nbformat
import pytest
from playwright.sync_api import Browser, Page, expect

from adversarial_corpus import CASES
from autograd_course.grading.simulate import answered
from autograd_course.hub.layout import HubLayout
from hub_class import as_user, running_class

from .conftest import COURSE, SCREENSHOTS, VIEWPORT

ASSIGNMENT = "01_chain_rule"
GRADING_MS = 600_000  # the sandboxed grader on a shared machine: a kernel start, torch, the notebook
SERVER_MS = 240_000


@pytest.fixture(scope="module")
def hub_class():
    with running_class(students=2, prefix="hb22") as running:
        yield running


class Shots:
    """screenshots/hub/NN-user-step.png, numbered across the whole round trip."""

    def __init__(self):
        self.folder = SCREENSHOTS / "hub"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def __call__(self, page: Page, step: str) -> None:
        self.count += 1
        page.screenshot(path=self.folder / f"{self.count:02d}-{step}.png")


def logged_in(browser: Browser, layout: HubLayout, user: str, password: str, shots: Shots) -> Page:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{layout.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    shots(page, f"{user}-login")
    page.click("#login_submit")
    expect(page.locator(".jp-DirListing")).to_be_visible(timeout=SERVER_MS)
    shots(page, f"{user}-jupyterlab")
    return page


def assignments_tab(page: Page):
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.locator('li[data-command="nbgrader:open-assignment-list"]').click()
    return page


def fetch_and_submit(page: Page, layout: HubLayout, student: str, case: str, shots: Shots) -> None:
    assignments_tab(page)
    released = page.locator("#released_assignments_list > .list_item")
    expect(released).to_have_count(1)
    expect(released.first.locator(".item_name")).to_have_text(ASSIGNMENT)
    shots(page, f"{student}-released")
    released.first.locator(".item_status button").click()
    fetched = page.locator("#fetched_assignments_list > .list_item")
    expect(fetched.first.locator(".item_name").first).to_have_text(ASSIGNMENT)
    shots(page, f"{student}-fetched")
    notebook = HubLayout.home(student) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    work = next(c for c in CASES if c.name == case).build(answered(notebook, COURSE.source_notebook(ASSIGNMENT)), "/")
    nbformat.write(work, notebook)
    shutil.chown(notebook, student)
    fetched.first.locator('.item_status button:text("Submit")').click()
    expect(page.locator("#submitted_assignments_list > .list_item").first).to_contain_text(ASSIGNMENT)
    shots(page, f"{student}-submitted")


def formgrader_button(page: Page, row, column: str, success: str, shots: Shots, step: str) -> None:
    row.locator(f".{column} a").click()
    modal = page.locator("#success-modal")
    expect(modal).to_contain_text(success, timeout=GRADING_MS)
    shots(page, step)
    modal.get_by_role("button", name="Close").first.click()
    expect(modal).to_have_count(0)


def fetched_feedback(student: str, seconds: float = 120) -> list:
    """The feedback files the Fetch Feedback button wrote into the student's copy (waiting for it to finish)."""
    deadline = time.monotonic() + seconds
    while not (found := list((HubLayout.home(student) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))) \
            and time.monotonic() < deadline:
        time.sleep(1)
    return found


def test_a_class_round_trip_on_the_hub(browser: Browser, hub_class):
    layout, passwords = hub_class.layout, hub_class.passwords
    a, b = layout.student_names
    shots = Shots()
    started = time.perf_counter()

    students = {}
    for student, case in ((a, "honest_complete"), (b, "patch_torch_allclose")):
        students[student] = logged_in(browser, layout, student, passwords[student], shots)
        fetch_and_submit(students[student], layout, student, case, shots)

    teacher = logged_in(browser, layout, layout.instructor, passwords[layout.instructor], shots)
    teacher.goto(f"{layout.url}/user/{layout.instructor}/formgrader/manage_assignments")
    row = teacher.locator("#main-table tr").filter(has_text=ASSIGNMENT)
    formgrader_button(teacher, row, "collect", "Successfully collected", shots, "instructor-collected")
    teacher.goto(f"{layout.url}/user/{layout.instructor}/formgrader/manage_submissions/{ASSIGNMENT}")
    for student in (a, b):
        row = teacher.locator("#main-table tr").filter(has_text=student)
        formgrader_button(teacher, row, "autograde", "Successfully autograded", shots, f"instructor-autograded-{student}")
    expect(teacher.locator("#main-table tr").filter(has_text=a)).to_contain_text("6 / 6")
    expect(teacher.locator("#main-table tr").filter(has_text=b)).to_contain_text("0 / 6")
    shots(teacher, "instructor-scores")
    for student in (a, b):
        row = teacher.locator("#main-table tr").filter(has_text=student)
        formgrader_button(teacher, row, "generate-feedback", "Successfully generated feedback", shots,
                          f"instructor-feedback-{student}")
        formgrader_button(teacher, row, "release-feedback", "Successfully released feedback", shots,
                          f"instructor-released-{student}")

    for student, score in ((a, "6"), (b, "0")):
        page = students[student]
        page.locator("#refresh_assignments_list").click()
        page.locator('#submitted_assignments_list button:text("Fetch Feedback")').first.click()
        feedback = fetched_feedback(student)
        shots(page, f"{student}-feedback-fetched")
        assert len(feedback) == 1, feedback
        text = feedback[0].read_text()
        assert f"{ASSIGNMENT} (Score: {score}.0 / 6.0)" in text, f"{student}'s feedback shows another score"
        assert (b if student == a else a) not in text
        page.goto(f"{layout.url}/user/{student}/files/{ASSIGNMENT}/feedback/"
                  f"{feedback[0].parent.name}/{ASSIGNMENT}.html")
        shots(page, f"{student}-reads-feedback")

    peek = as_user(b, f"cat /home/{a}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    assert peek.returncode != 0 and "Permission denied" in peek.stderr
    print(f"round trip on the hub (2 students: log in, fetch, submit, collect, autograde, feedback): "
          f"{time.perf_counter() - started:.1f} s")
