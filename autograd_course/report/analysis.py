"""One assignment's analysis: every number the page and its figures show, and the same as JSON (``report.json``).

Students are named only when asked: without ``names``, neither ids nor names leave this module.
"""

from dataclasses import asdict, dataclass

from . import misconceptions, statistics
from .records import ANALYSED, Assignment


@dataclass(frozen=True)
class Analysis:
    assignment: str
    max_score: float
    statuses: dict[str, int]
    histogram: list[statistics.Bin]
    exercises: list[statistics.ExerciseStats]
    misconceptions: dict[str, list[misconceptions.Group]]
    integrity: list[statistics.RuleCount]
    names: dict[str, str] | None  # student id -> how to show them; None: anonymous
    scores: statistics.Centre  # the class's mean and median score
    exercise_scores: dict[str, statistics.Centre]  # the same per exercise
    late_penalised: int = 0  # submissions whose score is after a late penalty (exercise points are before it)

    @property
    def submissions(self) -> int:
        return sum(self.statuses.values())

    @property
    def analysed(self) -> int:
        return sum(self.statuses[status] for status in ANALYSED)

    def who(self, students: list[str]) -> list[str] | None:
        return None if self.names is None else [self.names[student] for student in students]

    def as_json(self) -> dict:
        return {
            "assignment": self.assignment, "max_score": self.max_score, "submissions": self.submissions,
            "statuses": self.statuses, "histogram": [asdict(b) for b in self.histogram],
            "exercises": [asdict(exercise) for exercise in self.exercises],
            "misconceptions": {exercise: [{"hint": group.hint, "count": group.count,
                                           "example_message": group.example_message,
                                           "example_code": group.example_code,
                                           **self.named("students", group.students)} for group in found]
                               for exercise, found in self.misconceptions.items()},
            "integrity": [{"rule": rule.rule, "findings": rule.findings, "submissions": len(rule.submissions),
                           **self.named("students", rule.submissions)} for rule in self.integrity],
            "scores": asdict(self.scores),
            "exercise_scores": {exercise: asdict(found) for exercise, found in self.exercise_scores.items()},
            "scores_are": "after late penalties (nbgrader's score); exercise_scores before them",
            "late_penalised": self.late_penalised,
        }

    def named(self, key: str, students: list[str]) -> dict:
        return {} if self.names is None else {key: self.who(students)}


def analyse(assignment: Assignment, names: bool = False) -> Analysis:
    return Analysis(assignment.name, assignment.max_score, statistics.status_counts(assignment),
                    statistics.histogram(assignment), statistics.exercise_stats(assignment),
                    misconceptions.groups(assignment), statistics.integrity_counts(assignment),
                    {s.student: s.display_name for s in assignment.submissions} if names else None,
                    statistics.assignment_centre(assignment), statistics.exercise_centres(assignment),
                    statistics.late_penalised(assignment))
