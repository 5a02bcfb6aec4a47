"""The item analysis (make report) in Chromium: it opens offline from its folder, every figure renders, each
figure's link opens its PNG file, and the page asks for nothing outside its folder."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from grading_course import grade
from report_class import build_class, report

CHAIN = "01_chain_rule"
PLAN = [("stu-partial-1", CHAIN, "partial"), ("stu-unanswered-1", CHAIN, "unanswered"),
        ("stu-broken-1", CHAIN, "broken"), ("stu-hostile-1", CHAIN, "hostile"),
        ("stu-inner-1", CHAIN, "ex1-no-inner-derivative")]
FIGURES = ("scores.png", "exercises.png", "tests.png", "misconceptions.png")


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report-class")
    build_class(root, PLAN)
    graded = grade(root, assignment=CHAIN, cell_timeout=60)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    written = report(root, [CHAIN], root / "reports")
    assert written.returncode == 0, written.stdout + written.stderr
    return root / "reports" / CHAIN / "index.html"


def rendered(image) -> bool:
    return image.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0")


def test_report_opens_offline_with_every_figure(page: Page, screenshot, report_page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(report_page.as_uri())
    expect(page.get_by_role("heading", name=f"What the class got wrong: {CHAIN}")).to_be_visible()
    screenshot("scores")
    images = page.locator("figure img")
    expect(images).to_have_count(len(FIGURES))
    for index in range(len(FIGURES)):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        assert rendered(image), f"figure {index + 1} did not render"
        assert image.bounding_box()["width"] > 300, f"figure {index + 1} is drawn too small to read"
    links = page.locator("figure > a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert links == list(FIGURES)
    # the one misconception of the class, with its count and an example of the code that made it
    group = page.locator(".group", has_text="the inner factor dy/dx = 2x is missing")
    expect(group).to_contain_text("1 student")
    expect(group.locator("pre")).to_contain_text("def chain_rule_derivative")
    group.scroll_into_view_if_needed()
    screenshot("misconceptions")
    page.get_by_role("heading", name="Integrity findings").scroll_into_view_if_needed()
    expect(page.locator("table").last).to_contain_text("tamper replaced torch.allclose")
    screenshot("integrity")
    assert all(url.startswith(("file:", "data:")) for url in requested), requested


@pytest.mark.parametrize("figure", FIGURES)
def test_each_figure_file_next_to_the_page_opens(page: Page, report_page, figure):
    page.goto((report_page.parent / figure).as_uri())
    assert rendered(page.locator("img"))
