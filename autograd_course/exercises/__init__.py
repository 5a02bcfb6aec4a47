"""Each notebook's checks, one module per notebook: ``chain_rule`` for ``01_chain_rule``.

A notebook whose test cells are calls of a module's checks (``autograd_course.cases``) is judged outside the
kernel when it is graded; a notebook without a module here keeps checking itself inside its test cells.
"""

import importlib
import importlib.util


def module_name(assignment_id: str) -> str:
    """'autograd_course.exercises.chain_rule' for '01_chain_rule'."""
    return f"{__name__}.{assignment_id.partition('_')[2]}"


def checks_of(assignment_id: str):
    """The module of the assignment's checks, or None when its test cells still check inside themselves."""
    name = module_name(assignment_id)
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None
