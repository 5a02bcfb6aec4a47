"""An instructor opens formgrader from JupyterLab's Nbgrader menu and sees every assignment with its points.

The expected assignments and totals come from the course itself (source/*/ notebooks' nbgrader points), so
an assignment added to source/ is covered without touching this file. Screenshots: screenshots/<test name>/.
"""

from playwright.sync_api import Page, expect

from .conftest import point_totals


def shown_points(total: float) -> str:
    """How formgrader prints a total: rounded to two decimals, without a trailing .0 (JavaScript numbers)."""
    return f"{round(total, 2):g}"


def test_instructor_sees_every_assignment_with_its_points(page: Page, instructor_lab, screenshot):
    totals = point_totals(instructor_lab.course)
    assert totals, "source/ holds no assignment"
    assert all(total > 0 for total in totals.values()), f"an assignment without graded points: {totals}"

    page.goto(instructor_lab.lab_url())
    expect(page.locator(".jp-DirListing-item").filter(has_text="gradebook.db")).to_be_visible()  # lab is up
    menu = page.get_by_role("menuitem", name="Nbgrader", exact=True)
    expect(menu).to_be_visible()
    menu.click()
    expect(page.get_by_role("menuitem", name="Formgrader", exact=True)).to_be_visible()
    screenshot("nbgrader-menu")
    page.get_by_role("menuitem", name="Formgrader", exact=True).click()

    formgrader = page.frame_locator("iframe[src*='/formgrader']")
    expect(formgrader.get_by_role("heading", name="Manage Assignments")).to_be_visible()
    names = formgrader.locator("#main-table tr td:first-child")
    expect(names).to_have_count(len(totals))
    assert sorted(names.all_inner_texts()) == sorted(totals), "formgrader lists other assignments than source/"
    screenshot("formgrader-manage-assignments")

    formgrader.get_by_role("link", name="Manual Grading").click()
    expect(formgrader.get_by_role("heading", name="Manual Grading")).to_be_visible()
    rows = formgrader.locator("#main-table tr")
    expect(rows).to_have_count(len(totals))
    expect(rows.first).not_to_contain_text("Loading")
    shown = {}
    for row in rows.all():
        name, _due, submissions, score = [cell.strip() for cell in row.locator("td").all_inner_texts()]
        assert submissions == "0", f"{name}: nothing was submitted yet"
        shown[name] = score
    assert shown == {name: f"0 / {shown_points(total)}" for name, total in totals.items()}
    rows.last.scroll_into_view_if_needed()
    screenshot("manual-grading-shows-point-totals")
