"""How values leave the kernel: one display output per case, of a type only the grader reads.

When the grader runs a notebook it sets ``RECORDING`` in the kernel's environment; each check then publishes what
it observed (``cases.Check.seen``) as a display output of type ``RECORD_MIME`` on the test cell. The grader takes
these outputs out of the notebook before anyone sees it (``grading.judge``). Anywhere else (JupyterLab, nbval,
plain nbgrader) nothing is published. This module imports nothing heavy: the grader's processes read its names.
"""

import os

RECORD_MIME = "application/vnd.autograd-course.values+json"
RECORDING = "COURSE_RECORD_VALUES"


def prepare_publisher() -> None:
    """Give the kernel's display publisher its per-thread state now, in a notebook's set-up cell.

    ipykernel creates that state at the first display; the grader's guard, which compares the publisher whole
    between cells, would see it appear in the first test cell that sends values, as if the test had tampered.
    """
    from IPython import get_ipython

    publisher = getattr(get_ipython(), "display_pub", None)
    if hasattr(publisher, "register_hook"):  # ipykernel's publisher; other shells have no per-thread state
        publisher.register_hook(_unchanged)
        publisher.unregister_hook(_unchanged)


def _unchanged(message: dict) -> dict:
    return message


def publish(record: dict) -> None:
    """Send ``record`` out as a display output of the running cell, when the grader asked for it."""
    if os.environ.get(RECORDING) == "1":
        from IPython.display import publish_display_data  # only a kernel publishes

        publish_display_data({RECORD_MIME: record})
