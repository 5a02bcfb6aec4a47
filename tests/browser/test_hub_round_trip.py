"""A class's round trip on a real JupyterHub, in Debian's Chromium: students log in and fetch 01 from the Assignments
tab; A types answers into the fetched notebook in JupyterLab and runs Validate (an answer that breaks the grading
rules: the policy's finding; a wrong one: the visible test's message; the right one: success), then submits; B
submits a wrong answer, then a hostile one (written into the fetched notebook on disk); the instructor collects and
autogrades from formgrader's buttons (the trusted grader: A 6/6, B's last submission 0/6 and flagged) and releases
feedback; each student fetches feedback and gets only their own; B cannot read A's work from a JupyterLab terminal
(Permission denied), nor open it from JupyterLab's file browser (Open from Path, by a relative path or through a
symbolic link B made to A's home, which the file browser does not even list).
Screenshots: screenshots/hub/. The test prints the round trip's wall time. Root only (Unix accounts, prefix hub_class.BROWSER_PREFIX).
"""

import re
import shutil
import time

import nbformat
import pytest
from playwright.sync_api import Browser, Page, expect

from adversarial_corpus import CASES
from autograd_course.grading.assemble import nbgrader_meta
from autograd_course.grading.simulate import SOLUTION_MARKER, answered
from autograd_course.hub.layout import HubLayout
from hub_class import BROWSER_PREFIX, running_class

from .conftest import COURSE, SCREENSHOTS, VIEWPORT
from .test_student_in_jupyterlab import WRONG_EX1, cell_at, type_answer, validate, wait_for_idle_kernel

ASSIGNMENT = "01_chain_rule"
GRADING_MS = 600_000  # the sandboxed grader on a shared machine: a kernel start, torch, the notebook
SERVER_MS = 240_000
SUBMITTED_AT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ UTC$")
# An answer that breaks a grading rule (a computed attribute name), and what Validate says of it.
RULE_BREAKING_EX1 = ("def chain_rule_derivative(x):\n"
                     "    x = torch.tensor(x)\n"
                     "    return getattr(torch, 'exp')(torch.sin(x**2)) * torch.cos(x**2) * 2 * x")


@pytest.fixture(scope="module")
def hub_class():
    with running_class(students=2, prefix=BROWSER_PREFIX) as running:
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


def fetch(page: Page, student: str, shots: Shots):
    """Fetch 01 from the Assignments tab; the fetched assignment's row."""
    assignments_tab(page)
    released = page.locator("#released_assignments_list > .list_item")
    expect(released).to_have_count(1)
    expect(released.first.locator(".item_name")).to_have_text(ASSIGNMENT)
    shots(page, f"{student}-released")
    released.first.locator(".item_status button").click()
    fetched = fetched_row(page)
    shots(page, f"{student}-fetched")
    return fetched


def fetched_row(page: Page):
    row = page.locator("#fetched_assignments_list > .list_item").first
    expect(row.locator(".item_name").first).to_have_text(ASSIGNMENT)
    return row


def submit(page: Page, fetched, student: str, submissions: int, shots: Shots) -> None:
    fetched.locator('.item_status button:text("Submit")').click()
    # The Submitted list has one row per assignment, with one timestamp per submission under it.
    expect(page.locator("#submitted_assignments_list").get_by_text(SUBMITTED_AT)).to_have_count(submissions)
    shots(page, f"{student}-submitted-{submissions}")


def fetched_notebook(student: str):
    return HubLayout.home(student) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def write_case(student: str, case: str) -> None:
    """A corpus case's notebook written over the student's fetched copy, as their editor would save it."""
    notebook = fetched_notebook(student)
    work = next(c for c in CASES if c.name == case).build(answered(notebook, COURSE.source_notebook(ASSIGNMENT)), "/")
    nbformat.write(work, notebook)
    shutil.chown(notebook, student)


def solutions() -> dict[str, str]:
    """grade_id -> the source's solution, as a student types it (without nbgrader's markers)."""
    source = nbformat.read(COURSE.source_notebook(ASSIGNMENT), as_version=4)
    return {nbgrader_meta(cell)["grade_id"]: SOLUTION_MARKER.sub("", cell.source).rstrip()
            for cell in source.cells if nbgrader_meta(cell).get("solution")}


def validated(page: Page, cells: list, ex1: str, shots: Shots, step: str):
    """Type ``ex1`` and the right answers to the other exercises, save, and Validate: the results dialog."""
    for grade_id, code in solutions().items():
        type_answer(page, cell_at(page, cells, grade_id), ex1 if grade_id == "ex1_answer" else code)
    page.keyboard.press("Control+s")
    expect(page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(0)  # saved: Validate reads the file
    dialog = validate(page)
    shots(page, step)
    return dialog


def close(dialog) -> None:
    dialog.get_by_role("button", name="Ok").click()
    expect(dialog).to_have_count(0)


def answer_in_jupyterlab(page: Page, layout: HubLayout, student: str, shots: Shots) -> None:
    """The student opens the fetched notebook and validates three attempts, the last one right."""
    cells = nbformat.read(fetched_notebook(student), as_version=4).cells
    page.goto(f"{layout.url}/user/{student}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    expect(page.locator(".jp-NotebookPanel-toolbar .validate-button")).to_be_visible(timeout=SERVER_MS)
    wait_for_idle_kernel(page)
    dialog = validated(page, cells, RULE_BREAKING_EX1, shots, f"{student}-validate-rule-broken")
    expect(dialog).to_contain_text("the answers break the grading rules")
    expect(dialog).to_contain_text("getattr")
    close(dialog)
    dialog = validated(page, cells, WRONG_EX1, shots, f"{student}-validate-wrong")
    expect(dialog).to_contain_text("chain_rule_derivative(5.47): expected")
    expect(dialog).to_contain_text("the inner factor dy/dx = 2x is missing")
    close(dialog)
    dialog = validated(page, cells, solutions()["ex1_answer"], shots, f"{student}-validate-right")
    expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
    close(dialog)
    page.goto(f"{layout.url}/user/{student}/lab")


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


def command(page: Page, label: str) -> None:
    """Run a JupyterLab command from the command palette (the File menu's New submenu is unreliable headless)."""
    page.locator(".jp-DirListing-content").click()  # JupyterLab has the keys, not a terminal that would take them
    page.keyboard.press("Control+Shift+c")
    page.locator(".lm-CommandPalette-input").fill(label)
    page.keyboard.press("Enter")


# Runs in the page: types ``line`` into terminal ``url``'s shell through the websocket JupyterLab's terminal sends
# keys through, as soon as the socket opens, then again after a Ctrl+C every ``retry_ms`` until ``marker`` comes back:
# a shell that is not yet reading its terminal loses what it is sent, and one already idle at its prompt may send
# nothing more to wait for. Resolves with everything the terminal wrote meanwhile.
SEND_TO_TERMINAL = r"""async ({url, line, marker, ms, retry_ms}) => await new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let seen = "", retry = null;
    const type = (keys) => socket.send(JSON.stringify(["stdin", keys]));
    const finish = (error) => { clearTimeout(timer); clearInterval(retry); socket.close(); error ? reject(error) : resolve(seen); };
    const timer = setTimeout(() => finish(new Error(`after ${ms} ms the terminal showed ${JSON.stringify(seen)}`)), ms);
    socket.onerror = () => finish(new Error(`the terminal's websocket ${url} failed; it showed ${JSON.stringify(seen)}`));
    socket.onopen = () => { type(line + "\r"); retry = setInterval(() => { type("\x03"); type(line + "\r"); }, retry_ms); };
    socket.onmessage = (event) => {
        const [kind, text] = JSON.parse(event.data);
        if (kind === "stdout" && (seen += text).includes(marker)) finish(null);
    };
})"""


def in_a_terminal(page: Page, layout: HubLayout, student: str, line: str, output: str) -> str:
    """Open a JupyterLab terminal and run ``line`` in it; what the line wrote to ``~/output``. The line goes to the
    shell through the terminal's own websocket, not as keys typed into the page: keys typed into a new terminal were
    lost, every try of nine (ci7, stop 29's CI). The terminal tab shows the run."""
    terminals = f"{layout.url}/user/{student}/api/terminals"
    before = {terminal["name"] for terminal in page.request.get(terminals).json()}
    command(page, "New Terminal")
    expect(page.locator(".jp-Terminal .xterm").locator("visible=true").last).to_be_visible(timeout=SERVER_MS)
    (name,) = {terminal["name"] for terminal in page.request.get(terminals).json()} - before
    marker = "the line ran"
    url = f"{layout.url.replace('http', 'ws', 1)}/user/{student}/terminals/websocket/{name}"
    page.evaluate(SEND_TO_TERMINAL, {"url": url, "line": f"{line}; echo {marker!r} | tr ' ' _",
                                     "marker": marker.replace(" ", "_"), "ms": SERVER_MS, "retry_ms": 15_000})
    return (HubLayout.home(student) / output).read_text()


def opened_from_path(page: Page, path: str, shots: Shots, step: str) -> str:
    """File > Open from Path in JupyterLab's file browser: what the dialog answers (screenshot with it shown)."""
    command(page, "Open from Path")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill(path)
    dialog.get_by_role("button", name="Open").click()
    expect(dialog).to_contain_text("Cannot open")
    answer = dialog.inner_text()
    shots(page, step)
    dialog.get_by_role("button", name="Close").click()
    return answer


def classmates_work_stays_closed(page: Page, layout: HubLayout, student: str, classmate: str, shots: Shots) -> None:
    """``student`` tries to read ``classmate``'s notebook in their own JupyterLab: terminal, then file browser."""
    work = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    page.goto(f"{layout.url}/user/{student}/lab")
    expect(page.locator(".jp-DirListing")).to_be_visible(timeout=SERVER_MS)
    peek = in_a_terminal(page, layout, student, f"ln -sfn /home/{classmate} ~/classmate; "
                                                f"cat /home/{classmate}/{work} 2>&1 | tee ~/peek.txt", "peek.txt")
    shots(page, f"{student}-terminal-peek")
    assert peek.strip() == f"cat: /home/{classmate}/{work}: Permission denied"
    page.locator("#filebrowser .jp-ToolbarButtonComponent[title^='Refresh']").click()
    listing = page.locator("#filebrowser .jp-DirListing-content")
    expect(listing).to_contain_text("peek.txt")
    expect(listing).not_to_contain_text("classmate")  # the link leads outside the student's folder: not listed
    for path, how in ((f"../{classmate}/{work}", "relative-path"), (f"classmate/{work}", "link")):
        assert "Cannot open" in opened_from_path(page, path, shots, f"{student}-file-browser-peek-{how}")
    tabs = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab")
    expect(tabs.filter(has_text=f"{ASSIGNMENT}.ipynb")).to_have_count(0)
    for path in (f"../{classmate}/{work}", f"classmate/{work}"):  # what the file browser asked B's server
        assert page.request.get(f"{layout.url}/user/{student}/api/contents/{path}").status != 200


def test_a_class_round_trip_on_the_hub(browser: Browser, hub_class):
    layout, passwords = hub_class.layout, hub_class.passwords
    a, b = layout.student_names
    shots = Shots()
    started = time.perf_counter()

    students = {student: logged_in(browser, layout, student, passwords[student], shots) for student in (a, b)}
    fetch(students[a], a, shots)
    answer_in_jupyterlab(students[a], layout, a, shots)
    submit(assignments_tab(students[a]), fetched_row(students[a]), a, 1, shots)
    fetched = fetch(students[b], b, shots)
    write_case(b, "honest_partial")
    submit(students[b], fetched, b, 1, shots)
    write_case(b, "patch_torch_allclose")
    submit(students[b], fetched, b, 2, shots)

    teacher = logged_in(browser, layout, layout.instructor, passwords[layout.instructor], shots)
    teacher.goto(f"{layout.service_url}/formgrader/manage_assignments")
    row = teacher.locator("#main-table tr").filter(has_text=ASSIGNMENT)
    formgrader_button(teacher, row, "collect", "Successfully collected", shots, "instructor-collected")
    teacher.goto(f"{layout.service_url}/formgrader/manage_submissions/{ASSIGNMENT}")
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

    classmates_work_stays_closed(students[b], layout, b, a, shots)
    print(f"round trip on the hub (2 students: log in, fetch, submit, collect, autograde, feedback): "
          f"{time.perf_counter() - started:.1f} s")
