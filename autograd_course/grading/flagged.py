"""Formgrader's Flagged? column for the submissions the integrity check flagged: nbgrader's ``flagged`` field of the
submitted notebook, which formgrader lists and filters on."""

from nbgrader.api import Gradebook


def flag_in_gradebook(gradebook: Gradebook, assignment: str, student: str) -> None:
    """Set the flag in an open gradebook, for its caller to commit (never cleared here: a flag an instructor set
    stays, and so does this one once they looked)."""
    gradebook.find_submission_notebook(assignment, assignment, student).flagged = True
