"""Failures grouped by the misconception their hint names, per exercise, most frequent first.

Only answered exercises of graded submissions count: an unanswered exercise fails its tests without a
misconception, and a flagged notebook's failures cannot be trusted. Each group keeps the students who made the
mistake (shown only when names are asked for) and one example of the code that made it: the answer most of them
wrote, without comments and with the student's id and names replaced, so that it identifies no one.
"""

import io
import re
import tokenize
from collections import Counter
from dataclasses import dataclass

from .messages import first_line, misconception
from .records import Assignment, Submission

ANONYMOUS = "student"
MIN_IDENTITY_LENGTH = 3  # shorter names (initials) would replace pieces of ordinary code


@dataclass(frozen=True)
class Group:
    exercise: str
    hint: str
    students: list[str]
    example_code: str
    example_message: str  # the first line of one failure: which case ran, what was expected, what came

    @property
    def count(self) -> int:
        return len(self.students)


def without_comments(source: str) -> str:
    """``source`` without its comments (a line left empty by that goes too); unchanged when it does not tokenize."""
    lines = source.splitlines()
    cut = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                cut[token.start[0] - 1] = token.start[1]
    except (tokenize.TokenError, SyntaxError):
        return source
    kept = [line[:cut[number]].rstrip() if number in cut else line for number, line in enumerate(lines)]
    return "\n".join(line for number, line in enumerate(kept) if line or number not in cut).strip("\n")


def anonymised(text: str, submission: Submission) -> str:
    for part in sorted(submission.identity, key=len, reverse=True):
        if len(part) >= MIN_IDENTITY_LENGTH:
            # whole words only: a name must not change the code it happens to be part of ("Ada" in "readable")
            text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", ANONYMOUS, text, flags=re.IGNORECASE)
    return text


def most_common(texts: list[str]) -> str:
    """The most frequent text; the shortest, then the first in order, of those tied."""
    counts = Counter(texts)
    return min(counts, key=lambda text: (-counts[text], len(text), text))


def groups(assignment: Assignment) -> dict[str, list[Group]]:
    """Exercise -> its misconception groups, most frequent first."""
    failing: dict[tuple[str, str], list[tuple[Submission, str]]] = {}
    for submission in assignment.submissions:
        if submission.status != "graded":
            continue
        for test in assignment.tests:
            message = submission.failures.get(test.name)
            if message is None or test.exercise in submission.unanswered:
                continue
            failing.setdefault((test.exercise, misconception(message)), []).append((submission, message))
    found = {exercise: [] for exercise in assignment.exercises}
    for (exercise, hint), members in failing.items():
        students = list(dict.fromkeys(submission.student for submission, _ in members))
        code = most_common([without_comments(anonymised(submission.answers.get(exercise, ""), submission))
                            for submission, _ in members])
        message = most_common([anonymised(first_line(message), submission) for submission, message in members])
        found[exercise].append(Group(exercise, hint, students, code, message))
    for exercise in found:
        found[exercise].sort(key=lambda group: (-group.count, group.hint))
    return found
