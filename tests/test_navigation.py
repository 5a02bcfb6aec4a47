"""The learning path: notebooks/index.ipynb and the previous / next cell that ends every notebook."""

import re

import nbformat

from autograd_course.navigation import CELL_ID, INDEX, navigation_text, update
from conftest import ASSIGNMENTS, COURSE

MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def test_navigation_cells_are_up_to_date(course_copy):
    stale = [assignment_id for assignment_id in ASSIGNMENTS if update(course_copy, assignment_id)]
    assert not stale, f"navigation cells out of date in {stale}: run `make build`"


def test_every_notebook_ends_with_links_to_its_neighbours(assignment_id):
    last = nbformat.read(COURSE.student_notebook(assignment_id), as_version=4).cells[-1]
    assert last.id == CELL_ID and last.source == navigation_text(COURSE, assignment_id)
    targets = [target for _, target in MARKDOWN_LINK.findall(last.source)]
    position = ASSIGNMENTS.index(assignment_id)
    neighbours = [ASSIGNMENTS[i] for i in (position - 1, position + 1) if 0 <= i < len(ASSIGNMENTS)]
    assert sorted(targets) == sorted([f"../{INDEX}", *(f"../{n}/{n}.ipynb" for n in neighbours)])
    for target in targets:
        assert (COURSE.student_notebook(assignment_id).parent / target).resolve().is_file(), target


def test_index_is_released_unchanged():
    assert nbformat.read(COURSE.release_dir / INDEX, as_version=4) == nbformat.read(COURSE.source_dir / INDEX,
                                                                                    as_version=4)


def test_index_lists_every_assignment_once_in_order_with_what_it_teaches_and_assumes():
    text = "\n".join(cell.source for cell in nbformat.read(COURSE.release_dir / INDEX, as_version=4).cells)
    rows = [line for line in text.splitlines() if line.startswith("|") and ".ipynb)" in line]
    linked = [MARKDOWN_LINK.search(row).group(2) for row in rows]
    assert linked == [f"{a}/{a}.ipynb" for a in ASSIGNMENTS]
    for row in rows:
        cells = [part.strip() for part in row.strip("|").split("|")]
        assert len(cells) == 3 and all(cells), f"each row needs: notebook | teaches | assumes — {row}"
