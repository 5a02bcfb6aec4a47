"""Feedback that tells a student which hidden test failed and why, never how it tests.

nbgrader's ``generate_feedback`` renders the autograded notebook, hidden tests included, and an
error's traceback quotes the failing source line. ``HideHiddenTests`` runs before the HTML export
(it is listed in ``nbgrader_config.py``): it replaces each hidden block with one comment line and
reduces each test cell's traceback to the exception and its message, which is where the
course's checks put what was expected, what came and a hint. A test cell with hidden tests shows
nothing else it output: what its hidden part printed or displayed (or what answer code printed
while the hidden tests called it) would show the hidden tests. Messages are cut to a page's size.
"""

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from .outputs import MAX_NAME_CHARACTERS, cut

HIDDEN_BLOCK = re.compile(r"^([ \t]*)### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*$", re.DOTALL | re.MULTILINE)
PLACEHOLDER = r"\1# Hidden tests ran here; their source is not shown. A failure message, if any, is below."
MAX_MESSAGE_CHARACTERS = 5_000  # a test's message: what was expected, what came, a hint


class HideHiddenTests(Preprocessor):
    """Strip hidden test source and tracebacks from test cells; keep every score and message."""

    # nbconvert registers preprocessors named in config disabled unless they say otherwise.
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            hidden = HIDDEN_BLOCK.search(cell.source) is not None
            cell.source = HIDDEN_BLOCK.sub(PLACEHOLDER, cell.source)
            kept = []
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.ename = cut(str(output.ename), MAX_NAME_CHARACTERS)
                    output.evalue = cut(str(output.evalue), MAX_MESSAGE_CHARACTERS)
                    output.traceback = [f"{output.ename}: {output.evalue}"]
                    kept.append(output)
                elif not hidden:
                    kept.append(output)
            cell.outputs = kept
        return cell, resources
