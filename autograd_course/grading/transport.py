"""A notebook between the grader's own parts, as JSON: a ``Job`` to a worker, its ``Result`` back.

``nbformat.writes`` deep-copies and validates a whole notebook and ``nbformat.reads`` parses and validates it again:
twice each per submission, a large share of the grader's own CPU, for JSON the grader itself wrote. The graded
notebook is validated once, when it is written to ``autograded/`` (``gradebook_writer``); each output the kernel
sent is checked against nbformat's schema as it arrives (``execute``).
"""

import json

import nbformat
from nbformat import NotebookNode


def to_json(notebook: NotebookNode) -> str:
    return json.dumps(notebook)


def from_json(text: str) -> NotebookNode:
    return nbformat.from_dict(json.loads(text))
