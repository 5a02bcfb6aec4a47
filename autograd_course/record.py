"""How values leave the kernel: one display output per case, of a type only the grader reads.

When the grader runs a notebook it sets ``RECORDING`` in the kernel's environment; each check then publishes what
it observed (``cases.Check.seen``) as a display output of type ``RECORD_MIME`` on the test cell. The grader takes
these outputs out of the notebook before anyone sees it (``grading.judge``). Anywhere else (JupyterLab, nbval,
plain nbgrader) nothing is published. This module imports nothing heavy: the grader's processes read its names.
"""

import os

RECORD_MIME = "application/vnd.autograd-course.values+json"
RECORDING = "COURSE_RECORD_VALUES"


def publish(record: dict) -> None:
    """Send ``record`` out as a display output of the running cell, when the grader asked for it."""
    if os.environ.get(RECORDING) == "1":
        from IPython.display import publish_display_data  # only a kernel publishes

        publish_display_data({RECORD_MIME: record})
