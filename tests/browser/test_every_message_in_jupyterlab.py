"""Every exercise's message read as a student reads it: in JupyterLab, after Run All, with one mistake per exercise.

Not part of ``make test`` (a JupyterLab run per notebook takes about a minute): ``make review-messages`` runs it
after a change to the exercises, and a person looks at screenshots/every_message/<id>/.
For each exercise the first misconception of the corpus (tests/corpus/<id>.py) that touches only that exercise is
typed in; Run All stops at the first failing cell, so the read goes on from the cell below each failure. A message
must show the mistake's hint and no traceback; a mistake that the visible test lets through (only hidden tests catch
it) is printed for the reviewer: it may deserve a visible case.
"""

import shutil

import pytest
from playwright.sync_api import Page, expect

from browser import test_student_in_jupyterlab as lab_helpers
from browser.conftest import SCREENSHOTS, Screenshots
from conftest import ASSIGNMENTS
from misconceptions import Mistake, exercise, load

pytestmark = pytest.mark.review


def first_mistake_per_exercise(assignment: str) -> dict[str, Mistake]:
    mistakes = {}
    for case in load(assignment):
        if isinstance(case, Mistake) and {exercise(grade_id) for grade_id in case.answers} == {exercise(case.fails)}:
            mistakes.setdefault(exercise(case.fails), case)
    return mistakes


def run_from(page: Page, cell) -> None:
    """Select the cell and run it and every cell below (Run All stopped at a failure above it)."""
    cell.locator(".jp-InputPrompt").click()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run Selected Cell and All Below", exact=True).click()


def settle(page: Page) -> None:
    """Wait until the kernel has been idle twice, a second apart: queued cells start after a short gap."""
    for _ in range(2):
        page.wait_for_timeout(1500)
        lab_helpers.wait_for_idle_kernel(page)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_message_reads_as_a_teaching_message(page: Page, student_lab, assignment, monkeypatch):
    folder = SCREENSHOTS / "every_message" / assignment
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    screenshot = Screenshots(page, folder)
    monkeypatch.setattr(lab_helpers, "ASSIGNMENT", assignment)
    monkeypatch.setattr(lab_helpers, "NOTEBOOK", f"notebooks/{assignment}/{assignment}.ipynb")
    cells = lab_helpers.student_cells(student_lab)
    mistakes = first_mistake_per_exercise(assignment)
    lab_helpers.open_notebook(page, student_lab)
    for grade_id, code in lab_helpers.solutions(student_lab).items():
        mistake = mistakes.get(exercise(grade_id))
        answer = mistake.answers[grade_id] if mistake else code
        lab_helpers.type_answer(page, lab_helpers.cell_at(page, cells, grade_id), answer.rstrip())

    lab_helpers.run_all_cells(page)
    settle(page)
    for _, mistake in sorted(mistakes.items()):
        tests = lab_helpers.cell_at(page, cells, mistake.fails)
        error = tests.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        if error.count() == 0:
            print(f"\n=== {assignment} {mistake.fails} [{mistake.name}]: the visible test lets it through ===")
            continue
        expect(error).to_contain_text(mistake.hint)
        expect(error).not_to_contain_text("Traceback")
        lab_helpers.show_bottom_of(page, error)
        print(f"\n=== {assignment} {mistake.fails} [{mistake.name}] ===\n{error.text_content()}")
        screenshot(mistake.fails)
        following = next(i for i, cell in enumerate(cells) if cell.get("id") == mistake.fails) + 1
        if following < len(cells):
            run_from(page, page.locator(f".jp-Notebook .jp-Cell[data-windowed-list-index='{following}']"))
            settle(page)

