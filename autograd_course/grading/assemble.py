"""Turn whatever a student handed in into the notebook that gets graded.

Only the student's answer cells are taken from the submission; every other cell (explanations,
locked code, test cells with their hidden tests) comes from the instructor's source notebook.
So editing, deleting, duplicating or re-typing locked and test cells changes nothing, and a
removed answer cell counts as unanswered. What was odd about the submission is kept as notes.
"""

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

MAX_NOTEBOOK_BYTES = 20 * 2**20


class Rejected(Exception):
    """The submission cannot be graded at all; the message says why, for a person to read."""


@dataclass
class Assembly:
    notebook: NotebookNode
    answers: dict[str, str]
    notes: list[str] = field(default_factory=list)


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_answer(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def read_submission(path: Path) -> NotebookNode:
    if not path.is_file():
        raise Rejected(f"no notebook named {path.name} was submitted")
    size = path.stat().st_size
    if size == 0:
        raise Rejected("the notebook file is empty (0 bytes)")
    if size > MAX_NOTEBOOK_BYTES:
        raise Rejected(f"the notebook is {size / 2**20:.0f} MiB, over the {MAX_NOTEBOOK_BYTES // 2**20} MiB limit")
    try:
        raw = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(f"the file is not valid notebook JSON: {error}") from None
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
        cells = notebook.cells
    except Exception as error:  # nbformat raises many types for malformed notebooks
        raise Rejected(f"the file is not a Jupyter notebook: {str(error).splitlines()[0][:200]}") from None
    if not isinstance(cells, list):
        raise Rejected("the notebook has no list of cells")
    return notebook


def submitted_answers(submitted: NotebookNode, answer_ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """Answer sources by grade id, found by nbgrader metadata or, failing that, by cell id."""
    answers, notes = {}, []
    for cell in submitted.cells:
        if not isinstance(cell, dict):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id") if is_answer(cell) else None
        if grade_id is None and cell.get("id") in answer_ids:
            grade_id = cell.get("id")
            notes.append(f"{grade_id}: nbgrader metadata missing; the cell was matched by its id")
        if grade_id not in answer_ids:
            continue
        if cell.get("cell_type") != "code":
            notes.append(f"{grade_id}: changed to a {cell.get('cell_type')} cell; graded as unanswered")
            continue
        if grade_id in answers:
            notes.append(f"{grade_id}: appears more than once; the first copy was graded")
            continue
        source = cell.get("source", "")
        answers[grade_id] = "".join(source) if isinstance(source, list) else str(source)
    for grade_id in answer_ids:
        if grade_id not in answers and not any(note.startswith(grade_id) for note in notes):
            notes.append(f"{grade_id}: missing from the submission; graded as unanswered")
    return answers, notes


def assemble(submitted: NotebookNode, source: NotebookNode, release: NotebookNode) -> Assembly:
    """The source notebook with the student's answers in its answer cells (release stubs where missing)."""
    release_answers = {nbgrader_meta(cell)["grade_id"]: cell for cell in release.cells if is_answer(cell)}
    answers, notes = submitted_answers(submitted, list(release_answers))
    kernel = submitted.get("metadata", {}).get("kernelspec", {})
    if isinstance(kernel, dict) and kernel.get("name") not in (None, source.metadata.kernelspec.name):
        notes.append(f"the notebook asked for kernel {kernel.get('name')!r}; it was graded with "
                     f"{source.metadata.kernelspec.name!r}")
    notebook = copy.deepcopy(source)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if is_answer(cell):
            answer = copy.deepcopy(release_answers[nbgrader_meta(cell)["grade_id"]])
            answer.source = answers.get(nbgrader_meta(cell)["grade_id"], answer.source)
            answer.outputs, answer.execution_count = [], None
            notebook.cells[index] = answer
    return Assembly(notebook, answers, notes)
