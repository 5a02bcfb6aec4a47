"""A student in JupyterLab with nbgrader's extension: locked cells, an answer, Run All, the Validate button.

The answers typed in are the source notebook's own solutions (and one deliberately wrong answer), so the
test follows the notebook when its exercises change. Screenshots: screenshots/<test name>/.
"""

import re

import nbformat
from playwright.sync_api import Locator, Page, expect

from autograd_course.grading.assemble import nbgrader_meta as nbgrader
from autograd_course.grading.simulate import SOLUTION_MARKER

ASSIGNMENT = "01_chain_rule"
NOTEBOOK = f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
RUN_SECONDS = 240  # a cold kernel importing torch on a shared machine; validation runs the notebook once more

# A mistake students make: the outer two links of the chain, without the inner derivative dy/dx = 2x.
WRONG_EX1 = ("def chain_rule_derivative(x):\n"
             "    x = torch.tensor(x)\n"
             "    return torch.exp(torch.sin(x**2)) * torch.cos(x**2)")


def student_cells(lab) -> list:
    return nbformat.read(lab.course.student_notebook(ASSIGNMENT), as_version=4).cells


def solutions(lab) -> dict[str, str]:
    """grade_id -> the source's solution, as a student would type it (without nbgrader's markers)."""
    source = nbformat.read(lab.course.source_notebook(ASSIGNMENT), as_version=4)
    return {nbgrader(cell)["grade_id"]: SOLUTION_MARKER.sub("", cell.source).rstrip()
            for cell in source.cells if nbgrader(cell).get("solution")}


def cell_at(page: Page, cells: list, grade_id: str) -> Locator:
    """The notebook's cell with this grade id, found by its position (JupyterLab keeps every cell in the DOM)."""
    index = next(i for i, cell in enumerate(cells) if nbgrader(cell).get("grade_id") == grade_id)
    cell = page.locator(f".jp-Notebook .jp-Cell[data-windowed-list-index='{index}']")
    expect(cell).to_contain_text(cells[index].source.splitlines()[0])
    return cell


def open_notebook(page: Page, lab) -> None:
    page.goto(lab.lab_url(NOTEBOOK))
    expect(page.locator(".jp-NotebookPanel-toolbar .validate-button")).to_be_visible()  # nbgrader's extension
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible()
    wait_for_idle_kernel(page)
    if "$" in lab.course.student_notebook(ASSIGNMENT).read_text():
        expect(page.locator(".jp-Notebook mjx-container").first).to_be_visible()  # the maths is typeset


def wait_for_idle_kernel(page: Page) -> None:
    """The status bar's kernel status, as a person reads it: 'Python 3 (ipykernel) | Idle'."""
    expect(page.locator("#jp-main-statusbar")).to_contain_text(
        re.compile(r"Python 3 \(ipykernel\) \| Idle"), timeout=RUN_SECONDS * 1000)


def type_answer(page: Page, cell: Locator, code: str) -> None:
    """Select everything in the answer cell's editor and type the code over it (as a paste would)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    expect(cell.locator(".cm-content")).to_have_text(re.compile(re.escape(code.splitlines()[-1].strip())))
    page.keyboard.press("Escape")  # back to command mode, as after typing


def run_all_cells(page: Page) -> None:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def validate(page: Page) -> Locator:
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    expect(dialog).to_be_visible(timeout=RUN_SECONDS * 1000)
    return dialog


def show_bottom_of(page: Page, element: Locator) -> None:
    """Scroll the notebook until the element's last line is on screen. JupyterLab sizes cells lazily (and scrolls
    to the active cell by itself), so the layout shifts while scrolling: adjust until the bottom stays in view."""
    page.wait_for_function("""output => {
        const scroller = output.closest('.jp-WindowedPanel-outer');
        const box = output.getBoundingClientRect(), view = scroller.getBoundingClientRect();
        if (box.bottom > view.top + 100 && box.bottom <= view.bottom) return true;
        scroller.scrollTop += box.bottom - view.bottom + 16;
        return false;
    }""", arg=element.element_handle(), polling=250)


def scroll_to_bottom(element: Locator) -> None:
    element.evaluate("root => [root, ...root.querySelectorAll('*')]"
                     ".filter(box => box.scrollHeight > box.clientHeight)"
                     ".forEach(box => { box.scrollTop = box.scrollHeight; })")


def test_student_fills_in_runs_all_and_validates(page: Page, student_lab, screenshot):
    cells = student_cells(student_lab)
    open_notebook(page, student_lab)
    screenshot("notebook-opened")

    # Locked cells refuse edits: typing into the set-up cell changes nothing, and so does making it markdown.
    setup = cell_at(page, cells, "setup")
    editor = setup.locator(".cm-content")
    before = editor.inner_text()
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nprint('edited')")
    expect(editor).not_to_be_editable()  # CodeMirror marks it aria-readonly
    assert editor.inner_text() == before, "a locked cell accepted typing"
    screenshot("typing-into-locked-cell-changes-nothing")
    page.keyboard.press("Escape")
    page.keyboard.press("m")  # JupyterLab's shortcut: change the cell to markdown
    refusal = page.locator(".jp-Dialog")
    expect(refusal).to_contain_text("Cell is read-only")
    expect(refusal).to_contain_text("its type cannot be changed")
    screenshot("locked-cell-refuses-to-become-markdown")
    refusal.get_by_role("button", name="Ok").click()
    expect(refusal).to_have_count(0)
    expect(setup).to_have_class(re.compile(r"\bjp-CodeCell\b"))
    # Every locked code cell is read-only; every answer cell is editable.
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            editor = page.locator(f".jp-Notebook .jp-Cell[data-windowed-list-index='{index}'] .cm-content")
            if nbgrader(cell).get("solution"):
                expect(editor).to_be_editable()
            else:
                expect(editor).not_to_be_editable()

    # Answers: the source's solutions typed into the answer cells.
    answers = solutions(student_lab)
    assert answers, f"{NOTEBOOK} has no answer cell"
    for grade_id, code in answers.items():
        type_answer(page, cell_at(page, cells, grade_id), code)
    cell_at(page, cells, next(iter(answers))).scroll_into_view_if_needed()
    screenshot("answers-typed-in")

    run_all_cells(page)
    code_cells = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
    expect(code_cells).to_have_count(sum(cell.cell_type == "code" for cell in cells))
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]"
        ".every(prompt => /\\[\\d+\\]/.test(prompt.textContent))", timeout=RUN_SECONDS * 1000)
    wait_for_idle_kernel(page)
    # The only errors are those of the cells that show one on purpose (tagged raises-exception, as nbval knows them).
    on_purpose = sum("raises-exception" in cell.metadata.get("tags", []) for cell in cells)
    expect(page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
           ).to_have_count(on_purpose)
    first_tests = next(nbgrader(cell)["grade_id"] for cell in cells if nbgrader(cell).get("grade"))
    show_bottom_of(page, cell_at(page, cells, first_tests))  # a test cell that ran without an error
    screenshot("all-cells-ran-tests-pass")

    dialog = validate(page)
    expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
    screenshot("validate-says-success")
    dialog.get_by_role("button", name="Ok").click()


def test_student_with_a_wrong_answer_sees_the_teaching_message(page: Page, student_lab, screenshot):
    cells = student_cells(student_lab)
    hint = "the inner factor dy/dx = 2x is missing"  # the visible test names WRONG_EX1's mistake
    open_notebook(page, student_lab)

    # Exercise 1 wrong, the others right: the one failure is the teaching message of exercise 1.
    for grade_id, code in solutions(student_lab).items():
        type_answer(page, cell_at(page, cells, grade_id), WRONG_EX1 if grade_id == "ex1_answer" else code)
    answer = cell_at(page, cells, "ex1_answer")
    answer.scroll_into_view_if_needed()
    screenshot("wrong-answer-typed-in")

    run_all_cells(page)
    tests = cell_at(page, cells, "ex1_tests")
    error = tests.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    expect(error).to_contain_text("AnswerMismatch", timeout=RUN_SECONDS * 1000)
    expect(error).to_contain_text(re.compile(r"chain_rule_derivative\(5\.47\): expected 0\.3055\d*, got 0\.0279\d*\."))
    expect(error).to_contain_text(f"Hint: {hint}")
    expect(error).to_contain_text("%tb verbose")
    # Only the message: no traceback through the test cell and the course package.
    expect(error).not_to_contain_text("Traceback")
    expect(error).not_to_contain_text("checks.py")
    wait_for_idle_kernel(page)
    show_bottom_of(page, error)
    screenshot("test-cell-shows-teaching-message")

    dialog = validate(page)
    expect(dialog).not_to_contain_text("Success!")
    expect(dialog).to_contain_text("The following cell failed")
    expect(dialog).not_to_contain_text("NotImplementedError")  # the other answers are right
    expect(dialog).to_contain_text("chain_rule_derivative(5.47): expected")
    expect(dialog).to_contain_text(hint)
    scroll_to_bottom(dialog)  # the message ends the traceback in the dialog's scrolling box
    screenshot("validate-shows-the-failing-test")
    dialog.get_by_role("button", name="Ok").click()
