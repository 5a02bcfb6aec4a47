"""Which student ids the grader accepts: a folder name under ``submitted/`` becomes a gradebook id that formgrader,
the report and ``integrity.md`` show, so a name such as ``s<img src=x onerror=...>`` would run script in their pages.

Ids are nbgrader's usual ones (a login, a student number, an e-mail address); anything else is refused with a
message, and the rest of the batch is graded.
"""

import re

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")


def gradebook_refusal(student: str) -> str | None:
    """Why an id already in the gradebook (imported from a CSV, added by hand) is not safe, or None when it is:
    formgrader shows it as it is, whether or not it has a submission."""
    if SAFE_ID.fullmatch(student):
        return None
    return (f"unsafe student id {student[:120]!r} in the gradebook: formgrader shows it as it is; remove it "
            "(nbgrader db student remove) and add the student again under an id of letters, digits and _ . @ + -")


def refusal(student: str) -> str | None:
    """Why ``student`` is not a safe id, or None when it is."""
    if SAFE_ID.fullmatch(student):
        return None
    return (f"refused student id {student[:120]!r}: an id may use only letters, digits and _ . @ + - (from a letter "
            "or digit, at most 100 characters); rename its folder in submitted/ and grade again")
