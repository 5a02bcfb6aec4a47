"""The numbers of an item analysis, from the records of one assignment.

- Statuses: every submission counts once, as graded, unanswered (graded, but no exercise answered), flagged,
  rejected, or error (the grader failed on it; the next ``make autograde`` retries it).
- Scores: a histogram of every submission's score, split by status (flagged and rejected ones score 0 until an
  instructor regrades them).
- Exercises and their test cells are analysed over the graded and unanswered submissions only: a flagged or
  rejected notebook's zeros say nothing about the exercises.
- A test cell's difficulty is the share of those submissions that passed it; its discrimination is the corrected
  item-total correlation (the point-biserial correlation between passing it and the score on the rest of the
  notebook): near 1, passing it predicts the rest; near 0 or below, it measures something else. It is undefined
  when everyone passed, everyone failed, or the rest of the notebook scored the same for everyone.
"""

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .records import STATUSES, Assignment, Submission

ALMOST_EVERYONE = 0.9  # a test cell that at least this share passes, or at most 1 - this share, is flagged
WEAK_DISCRIMINATION = 0.2  # below this, passing a test says little about the rest of the notebook
MAX_UNIT_BINS = 20  # up to this many points, one histogram bar per point; above, this many equal bins


@dataclass(frozen=True)
class Bin:
    low: float
    high: float  # exclusive, but for the last bin
    counts: dict[str, int]


@dataclass(frozen=True)
class CellStats:
    name: str
    points: float
    passed: float  # share of analysed submissions with full points
    discrimination: float | None
    flag: str  # "" or why this test deserves a look


@dataclass(frozen=True)
class ExerciseStats:
    name: str
    points: float
    mean: float
    full_marks: float
    unanswered: float | None  # None for an exercise without answer cells
    tests: list[CellStats] = field(default_factory=list)


@dataclass(frozen=True)
class Centre:
    """The class mean and median of a score, over ``count`` submissions (nan for none)."""

    mean: float
    median: float
    count: int


@dataclass(frozen=True)
class RuleCount:
    rule: str
    findings: int
    submissions: list[str]  # students, in order


def status_counts(assignment: Assignment) -> dict[str, int]:
    counts = Counter(submission.status for submission in assignment.submissions)
    return {status: counts[status] for status in STATUSES}


def bin_edges(max_score: float, scores: list[float]) -> list[float]:
    whole = all(float(score).is_integer() for score in scores)
    if max_score <= MAX_UNIT_BINS and float(max_score).is_integer() and whole:
        return [float(edge) for edge in range(int(max_score) + 2)]  # one bar per score 0 .. max
    return list(np.linspace(0.0, max(max_score, max(scores, default=0.0)), MAX_UNIT_BINS + 1))


def histogram(assignment: Assignment) -> list[Bin]:
    """Submissions per score bin, by status."""
    scores = [submission.score for submission in assignment.submissions]
    edges = bin_edges(assignment.max_score, scores)
    bins = []
    for index, (low, high) in enumerate(zip(edges, edges[1:])):
        last = index == len(edges) - 2
        inside = Counter(submission.status for submission in assignment.submissions
                         if low <= submission.score < high or (last and submission.score == high))
        bins.append(Bin(low, high, {status: inside[status] for status in STATUSES}))
    return bins


def correlation(x: list[float], y: list[float]) -> float | None:
    """Pearson's r, or None when either side does not vary."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def cell_stats(analysed: list[Submission], name: str, points: float) -> CellStats:
    item = [submission.scores.get(name, 0.0) for submission in analysed]
    rest = [sum(submission.scores.values()) - score for submission, score in zip(analysed, item)]
    passed = sum(score >= points for score in item) / len(analysed) if analysed else math.nan
    discrimination = correlation(item, rest)
    if analysed and passed >= ALMOST_EVERYONE:
        flag = "almost everyone passes it"
    elif analysed and passed <= 1 - ALMOST_EVERYONE:
        flag = "almost everyone fails it"
    elif discrimination is not None and discrimination < WEAK_DISCRIMINATION:
        flag = "passing it says little about the rest of the notebook"
    else:
        flag = ""
    return CellStats(name, points, passed, discrimination, flag)


def exercise_stats(assignment: Assignment) -> list[ExerciseStats]:
    analysed = assignment.analysed()
    count = len(analysed) or math.nan  # an empty class has no means: nan, shown as a dash
    found = []
    for exercise in assignment.exercises:
        tests = [test for test in assignment.tests if test.exercise == exercise]
        points = sum(test.points for test in tests)
        earned = exercise_scores(analysed, tests)
        unanswered = (sum(exercise in submission.unanswered for submission in analysed) / count
                      if exercise in assignment.answered else None)
        found.append(ExerciseStats(exercise, points, sum(earned) / count, sum(e >= points for e in earned) / count,
                                   unanswered, [cell_stats(analysed, test.name, test.points) for test in tests]))
    return found


def exercise_scores(analysed: list[Submission], tests: list) -> list[float]:
    """Each analysed submission's points on one exercise (its test cells)."""
    return [sum(submission.scores.get(test.name, 0.0) for test in tests) for submission in analysed]


def centre(scores: list[float]) -> Centre:
    return Centre(float(np.mean(scores)), float(np.median(scores)), len(scores)) if scores \
        else Centre(math.nan, math.nan, 0)


def assignment_centre(assignment: Assignment) -> Centre:
    """Mean and median of every submission's score, as the gradebook has it (after late penalties; flagged and
    rejected ones score 0 until regraded): the centre of the score distribution the report draws."""
    return centre([submission.score for submission in assignment.submissions])


def late_penalised(assignment: Assignment) -> int:
    """How many submissions' scores (the class mean, median and distribution) a late penalty lowered."""
    return sum(submission.late_penalty > 0 for submission in assignment.submissions)


def exercise_centres(assignment: Assignment) -> dict[str, Centre]:
    """Per exercise, mean and median of its points over the analysed submissions, as its other numbers."""
    analysed = assignment.analysed()
    tests = {exercise: [test for test in assignment.tests if test.exercise == exercise]
             for exercise in assignment.exercises}
    return {exercise: centre(exercise_scores(analysed, its_tests)) for exercise, its_tests in tests.items()}


def integrity_counts(assignment: Assignment) -> list[RuleCount]:
    """Findings of the flagged submissions by rule, most frequent first."""
    findings, students = Counter(), {}
    for submission in assignment.submissions:
        if submission.status != "flagged":
            continue
        for finding in submission.findings:
            rule = finding.rule
            findings[rule] += 1
            students.setdefault(rule, []).append(submission.student)
    return [RuleCount(rule, count, list(dict.fromkeys(students[rule])))
            for rule, count in sorted(findings.items(), key=lambda item: (-len(set(students[item[0]])), item[0]))]

