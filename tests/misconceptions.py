"""The misconception corpus: for every exercise, answers students really write, and what grading must give them.

Each assignment's cases live in ``tests/corpus/<assignment>.py`` as a list ``CASES``. A case replaces answer
cells of the reference solution (``answers``: grade id of the answer cell -> its new source) and says what
the real grader must give it:

- ``Correct``: a right answer written differently from the reference: full marks, no finding.
- ``Mistake``: a misconception (or a broken rule): the test cell ``fails`` scores 0, its output contains
  ``hint`` (a phrase of the message that names this mistake), and every other test cell keeps its points.
- ``Flagged``: an answer that breaks one of the answer rules (README, point 6): grading flags the notebook, scores it
  0 and records a finding whose rule contains ``finding``; ``make validate`` reports the same findings.
"""

import copy
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Correct:
    name: str  # a student id: lowercase letters, digits and '-'
    answers: dict[str, str]


@dataclass(frozen=True)
class Mistake:
    name: str
    answers: dict[str, str]
    fails: str  # grade id of the test cell that must fail
    hint: str  # a phrase the failing cell's message must contain
    why: str = field(default="", compare=False)  # the misconception, for the reader


@dataclass(frozen=True)
class Flagged:
    name: str
    answers: dict[str, str]
    finding: str  # a phrase of the rule the finding states
    why: str = field(default="", compare=False)


def exercise(grade_id: str) -> str:
    """'ex2' for 'ex2_answer' and 'ex2_tests'."""
    return grade_id.split("_")[0]


def exercises_of(case) -> set[str]:
    return {exercise(grade_id) for grade_id in case.answers}


def with_answers(notebook, case, comment: str = ""):
    """A copy of ``notebook`` with the case's answers in place (each starting with ``comment``)."""
    changed = copy.deepcopy(notebook)
    for cell in changed.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in case.answers:
            cell.source = comment + case.answers[grade_id]
    return changed


def load(assignment: str) -> list:
    """The cases of one assignment ([] when it has no corpus yet)."""
    path = CORPUS / f"{assignment}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"corpus_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES
