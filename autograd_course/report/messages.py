"""What a failing test cell's message says: the misconception it names.

A course check fails with ``<case>: expected <x>, got <y>.`` and a last line ``Hint: <the misconception>``
(``autograd_course.checks``): the hint is the same for every student who made that mistake, whatever values their
code gave, so it is what failures are grouped by. A failure without a hint (an error the tests did not foresee)
is grouped by the exception's type.

Integrity findings are records (``grading.findings.Finding``) with their rule as a field: nothing is read back here.
"""

import re

HINT = re.compile(r"^Hint: (?P<hint>.+)\Z", re.MULTILINE | re.DOTALL)
NO_MESSAGE = "failed without a message"


def hint_of(message: str) -> str | None:
    """The hint a failure message ends with, on one line; None when it has none."""
    found = HINT.search(message)
    return " ".join(found.group("hint").split()) if found else None


def first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


def misconception(message: str) -> str:
    """What a failure is grouped by: its hint, else the exception it raised, else that it said nothing."""
    hint = hint_of(message)
    if hint:
        return hint
    if not message.strip():
        return NO_MESSAGE
    error = first_line(message).split(":")[0]
    return f"no hint: raised {error}" if error != "stderr" else "no hint: wrote to stderr"

