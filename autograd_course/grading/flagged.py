"""Formgrader's Flagged? column for the submissions the integrity check flagged: nbgrader's ``flagged`` field of the
submitted notebook, which formgrader lists and filters on."""

from nbgrader.api import Gradebook


def flag_in_gradebook(db_url: str, assignment: str, student: str) -> None:
    """Set the flag (never cleared here: a flag an instructor set stays, and so does this one once they looked)."""
    with Gradebook(db_url) as gradebook:
        gradebook.find_submission_notebook(assignment, assignment, student).flagged = True
        gradebook.db.commit()
