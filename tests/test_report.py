"""``make report`` on simulated classes with known answers, graded by the real graders: every count is exact.

One class of two assignments is graded in one batch by the trusted grader (simulated kinds and misconception corpus
cases, report_class.py says what each must get); a second, smaller one by plain ``nbgrader autograde``, whose
gradebook has only scores and error outputs.
"""

import json
import math
import os
import random
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from autograd_course.release import record_in_gradebook
from autograd_course.report import page
from autograd_course.report.figures import draw
from autograd_course.report.analysis import analyse
from autograd_course.report.records import ANALYSED, Assignment, GradedCell, Reader, Submission
from autograd_course.report.statistics import ALMOST_EVERYONE, exercise_stats
from grading_course import grade
from misconceptions import exercise
from report_class import build_class, name_students, report

CHAIN, NAN = "01_chain_rule", "04_mlp_nan_diagnosis"
PLAN = [
    ("stu-correct-1", CHAIN, "correct"), ("stu-partial-1", CHAIN, "partial"),
    ("stu-unanswered-1", CHAIN, "unanswered"), ("stu-broken-1", CHAIN, "broken"),
    ("stu-hostile-1", CHAIN, "hostile"), ("stu-hostile-2", CHAIN, "hostile"),
    *((f"stu-inner-{n}", CHAIN, "ex1-no-inner-derivative") for n in (1, 2, 3)),
    *((f"stu-sign-{n}", CHAIN, "ex1-minus-cos") for n in (1, 2)),
    ("stu-float-1", CHAIN, "ex1-returns-float"),
    *((f"stu-value-{n}", CHAIN, "ex2-returns-value") for n in (1, 2)),
    ("stu-reused-1", CHAIN, "ex2-reused-leaf"),
    *((f"stu-isnan-{n}", NAN, "ex1-isnan-only") for n in (1, 2)),
    ("stu-eps-1", NAN, "ex2-machine-eps"),
]
SURNAMES = ["Lovelace", "Kovalevskaya", "Somerville", "Mirzakhani", "Daubechies", "Uhlenbeck", "Goldwasser",
            "Herschel", "Blackwell", "Chudnovsky", "Ramanujan", "Grothendieck", "Dirichlet", "Weierstrass",
            "Minkowski", "Hadamard", "Chebyshev", "Lobachevsky", "Kolmogorov", "Zolotarev"]
NAMES = {student: ("Ada", surname) for (student, _, _), surname in zip(PLAN, SURNAMES)}
# The one student of a misconception writes their name into their answer: the example must not show it.
SIGNED = "stu-float-1"
SIGNATURE = f'# by {" ".join(NAMES[SIGNED])}\nAUTHOR = "{" ".join(NAMES[SIGNED])}, {SIGNED}"\n'
# What simulate's CHEAT (torch.allclose replaced) is found by: the answer policy, then the audit hook.
# The cheat makes the kernel's checks pass on a wrong value, which the values judged outside the kernel contradict.
CHEAT_RULES = ("assigns the attribute allclose of an object it did not create", "tamper replaced torch.allclose",
               "the kernel reported it passed, but a visible case fails when its values are judged outside it")


@pytest.fixture(scope="module")
def trusted_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-class")
    planned = build_class(root, PLAN, comments={SIGNED: SIGNATURE})
    result = grade(root, assignment=[CHAIN, NAN], cell_timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    name_students(root, NAMES)
    return root, planned


def reported(root: Path, assignments: list[str], output: Path, *options: str) -> dict[str, dict]:
    result = report(root, assignments, output, *options)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr
    return {assignment: json.loads((output / assignment / "report.json").read_text()) for assignment in assignments}


@pytest.fixture(scope="module")
def anonymous(trusted_class, tmp_path_factory):
    root, _ = trusted_class
    output = tmp_path_factory.mktemp("anonymous")
    return output, reported(root, [CHAIN, NAN], output)


@pytest.fixture(scope="module")
def named(trusted_class, tmp_path_factory):
    root, _ = trusted_class
    output = tmp_path_factory.mktemp("named")
    return output, reported(root, [CHAIN], output, "--names")


def score(planned) -> float:
    return sum(planned.cell_scores.values()) if planned.status in ANALYSED else 0


def check_statuses_and_histogram(found: dict, planned: list) -> None:
    assert {status: count for status, count in found["statuses"].items() if count} == \
        Counter(p.status for p in planned)
    last = len(found["histogram"]) - 1
    for index, bin_ in enumerate(found["histogram"]):
        inside = Counter(p.status for p in planned
                         if bin_["low"] <= score(p) < bin_["high"] or (index == last and score(p) == bin_["high"]))
        assert {status: count for status, count in bin_["counts"].items() if count} == inside, bin_
    assert sum(sum(bin_["counts"].values()) for bin_ in found["histogram"]) == len(planned)


def check_misconceptions(found: dict, planned: list) -> None:
    """Each group is the hint of one planned misconception, with as many students as made it; most frequent first."""
    expected = Counter(p.misconception for p in planned if p.misconception and p.status == "graded")
    counted = Counter()
    for ex, groups in found["misconceptions"].items():
        assert [group["count"] for group in groups] == sorted((group["count"] for group in groups), reverse=True)
        for group in groups:
            phrases = [phrase for (planned_ex, phrase) in expected if planned_ex == ex and phrase in group["hint"]]
            assert len(phrases) == 1, f"{ex}: group {group['hint']!r} is not exactly one planned misconception"
            counted[ex, phrases[0]] += group["count"]
    assert counted == expected


@pytest.mark.parametrize("assignment", [CHAIN, NAN])
def test_each_submission_is_read_with_its_planned_status_score_and_unanswered_exercises(trusted_class, assignment):
    """A rejected notebook never ran: it left no exercise unanswered, it answered none either."""
    root, planned = trusted_class
    read = {submission.student: submission for submission in Reader(root).assignment(assignment).submissions}
    for plan in (plan for plan in planned if plan.assignment == assignment):
        submission = read.pop(plan.student)
        assert (submission.status, submission.score, submission.unanswered) == (
            plan.status, score(plan), set(plan.unanswered)), plan.student
    assert read == {}


@pytest.mark.parametrize("assignment", [CHAIN, NAN])
def test_statuses_and_score_histogram_are_exact(trusted_class, anonymous, assignment):
    _, planned = trusted_class
    check_statuses_and_histogram(anonymous[1][assignment], [p for p in planned if p.assignment == assignment])


@pytest.mark.parametrize("assignment", [CHAIN, NAN])
def test_exercise_means_full_marks_unanswered_and_pass_shares_are_exact(trusted_class, anonymous, assignment):
    _, planned = trusted_class
    analysed = [p for p in planned if p.assignment == assignment and p.status in ANALYSED]
    exercises = anonymous[1][assignment]["exercises"]
    assert [ex["name"] for ex in exercises] == list(dict.fromkeys(exercise(c) for c in analysed[0].cell_scores))
    for ex in exercises:
        earned = [sum(s for cell, s in p.cell_scores.items() if exercise(cell) == ex["name"]) for p in analysed]
        assert ex["mean"] == pytest.approx(sum(earned) / len(analysed)), ex["name"]
        assert ex["full_marks"] == pytest.approx(sum(e == ex["points"] for e in earned) / len(analysed)), ex["name"]
        assert ex["unanswered"] == pytest.approx(sum(ex["name"] in p.unanswered for p in analysed) / len(analysed))
        for test in ex["tests"]:
            passed = sum(p.cell_scores[test["name"]] == test["points"] for p in analysed) / len(analysed)
            assert test["passed"] == pytest.approx(passed), test


@pytest.mark.parametrize("assignment", [CHAIN, NAN])
def test_misconceptions_are_grouped_by_their_hint_with_exact_counts(trusted_class, anonymous, assignment):
    _, planned = trusted_class
    check_misconceptions(anonymous[1][assignment], [p for p in planned if p.assignment == assignment])


@pytest.mark.parametrize("assignment", [CHAIN, NAN])
def test_class_mean_and_median_per_assignment_and_per_exercise_are_exact(trusted_class, anonymous, assignment):
    _, planned = trusted_class
    mine = [p for p in planned if p.assignment == assignment]
    found = anonymous[1][assignment]
    totals = [score(p) for p in mine]
    assert found["scores"] == {"mean": pytest.approx(statistics.mean(totals)),
                               "median": pytest.approx(statistics.median(totals)), "count": len(mine)}
    analysed = [p for p in mine if p.status in ANALYSED]
    for name, centre in found["exercise_scores"].items():
        earned = [sum(s for cell, s in p.cell_scores.items() if exercise(cell) == name) for p in analysed]
        assert centre == {"mean": pytest.approx(statistics.mean(earned)),
                          "median": pytest.approx(statistics.median(earned)), "count": len(analysed)}, name
    assert list(found["exercise_scores"]) == [ex["name"] for ex in found["exercises"]]


def test_integrity_findings_are_counted_by_rule(trusted_class, anonymous):
    _, planned = trusted_class
    hostile = sum(p.status == "flagged" for p in planned)
    assert anonymous[1][CHAIN]["integrity"] == [{"rule": rule, "findings": hostile, "submissions": hostile}
                                               for rule in CHEAT_RULES]
    assert anonymous[1][NAN]["integrity"] == []


def test_students_are_named_only_when_asked(trusted_class, anonymous, named):
    _, planned = trusted_class
    for output, with_names in ((anonymous[0], False), (named[0], True)):
        page = (output / CHAIN / "index.html").read_text()
        text = page + (output / CHAIN / "report.json").read_text()
        if not with_names:
            for student, (first, last) in NAMES.items():
                assert student not in text and f"{first} {last}" not in text and last not in text, student
        example = next(group["example_code"] for group in json.loads((output / CHAIN / "report.json").read_text())
                       ["misconceptions"]["ex1"] if "return a torch.Tensor" in group["hint"])
        assert NAMES[SIGNED][1] not in example and SIGNED not in example and "AUTHOR" in example, example
    # with names, every student of a misconception or a finding is listed by name
    named_report = named[1][CHAIN]
    page = (named[0] / CHAIN / "index.html").read_text()
    listed = [name for groups in named_report["misconceptions"].values() for group in groups
              for name in group["students"]] + [name for rule in named_report["integrity"] for name in rule["students"]]
    expected = {p.student for p in planned if p.assignment == CHAIN and (p.misconception or p.status == "flagged")}
    assert set(listed) == {f"{' '.join(NAMES[student])} ({student})" for student in expected}
    assert all(name in page for name in listed)


def test_overview_links_every_assignment_reported(anonymous):
    overview = (anonymous[0] / "index.html").read_text()
    assert all(f'href="{assignment}/index.html"' in overview for assignment in (CHAIN, NAN))


def test_plain_nbgrader_autograde_gradebook(tmp_path):
    """Plain nbgrader leaves no outcome records: graded from its notebooks, rejected where it wrote none."""
    plan = [("stu-unanswered-1", CHAIN, "unanswered"), ("stu-broken-1", CHAIN, "broken"),
            *((f"stu-inner-{n}", CHAIN, "ex1-no-inner-derivative") for n in (1, 2))]
    planned = build_class(tmp_path, plan)
    record_in_gradebook(tmp_path, CHAIN)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", CHAIN, "--log-level=CRITICAL"], cwd=tmp_path,
                   env=env, capture_output=True, check=False)  # exits 1: the broken notebook cannot be graded
    found = reported(tmp_path, [CHAIN], tmp_path / "reports")[CHAIN]
    check_statuses_and_histogram(found, planned)
    check_misconceptions(found, planned)
    assert found["integrity"] == []


def synthetic(item_scores: dict[str, list[float]], points: float = 1.0) -> Assignment:
    """An assignment of one-cell exercises whose submissions scored ``item_scores[cell][student]``."""
    cells = list(item_scores)
    students = range(len(item_scores[cells[0]]))
    submissions = [Submission(f"s{n}", (f"s{n}", "", "", ""), "graded", sum(item_scores[c][n] for c in cells),
                              scores={c: item_scores[c][n] for c in cells}) for n in students]
    tests = [GradedCell(cell, cell.split("_")[0], points) for cell in cells]
    return Assignment("synthetic", points * len(cells), tests, [t.exercise for t in tests], [], submissions)


def point_biserial(item: list[float], rest: list[float]) -> float:
    """(mean of the rest for those who passed - for those who failed) / sd of the rest * sqrt(p q)."""
    passed = [r for i, r in zip(item, rest) if i]
    failed = [r for i, r in zip(item, rest) if not i]
    mean = sum(rest) / len(rest)
    sd = math.sqrt(sum((r - mean) ** 2 for r in rest) / len(rest))
    p = len(passed) / len(rest)
    return (sum(passed) / len(passed) - sum(failed) / len(failed)) / sd * math.sqrt(p * (1 - p))


def test_discrimination_is_the_point_biserial_correlation_with_the_rest_of_the_notebook():
    scores = {"ex1_tests": [1, 1, 1, 0, 0, 0, 1, 0], "ex2_tests": [1, 1, 0, 1, 0, 0, 1, 0],
              "ex3_tests": [1, 0, 1, 0, 0, 1, 1, 0], "ex4_tests": [1] * 8, "ex5_tests": [0] * 8}
    stats = {test.name: test for ex in exercise_stats(synthetic(scores)) for test in ex.tests}
    for cell in ("ex1_tests", "ex2_tests", "ex3_tests"):
        rest = [sum(scores[c][n] for c in scores if c != cell) for n in range(8)]
        assert stats[cell].discrimination == pytest.approx(point_biserial(scores[cell], rest)), cell
    assert (stats["ex4_tests"].passed, stats["ex4_tests"].discrimination) == (1.0, None)
    assert (stats["ex5_tests"].passed, stats["ex5_tests"].discrimination) == (0.0, None)
    assert stats["ex4_tests"].flag == "almost everyone passes it"
    assert stats["ex5_tests"].flag == "almost everyone fails it"


def test_a_test_almost_everyone_passes_is_flagged_from_the_threshold_on():
    students = 10
    passing = round(ALMOST_EVERYONE * students)
    scores = {"ex1_tests": [1] * passing + [0] * (students - passing),
              "ex2_tests": [1] * (passing - 1) + [0] * (students - passing + 1),
              "ex3_tests": [1] * (passing - 1) + [0] * (students - passing + 1)}
    stats = {test.name: test for ex in exercise_stats(synthetic(scores)) for test in ex.tests}
    assert stats["ex1_tests"].flag == "almost everyone passes it"
    assert stats["ex2_tests"].flag == "" and stats["ex2_tests"].discrimination > 0.2


def test_the_page_gives_the_class_mean_and_median_beside_the_distribution(tmp_path):
    """Five students, one flagged: it counts 0 in the class's scores and nothing in the exercises'."""
    assignment = synthetic({"ex1_tests": [1, 1, 1, 0, 0], "ex2_tests": [1, 1, 0, 0, 0], "ex3_tests": [1, 0, 0, 0, 1]})
    assignment.submissions[0].status, assignment.submissions[0].score = "flagged", 0.0
    analysis = analyse(assignment)
    found = analysis.as_json()
    assert found["scores"] == {"mean": pytest.approx(0.8), "median": 1.0, "count": 5}  # 0, 2, 1, 0, 1
    assert found["exercise_scores"] == {"ex1": {"mean": 0.5, "median": 0.5, "count": 4},
                                        "ex2": {"mean": 0.25, "median": 0.0, "count": 4},
                                        "ex3": {"mean": 0.25, "median": 0.0, "count": 4}}
    html = page.render(analysis, draw(analysis, tmp_path))
    assert 'Class mean <span class="count">0.8</span>, median <span class="count">1</span> of 3 points' in html
    assert "<th>median</th>" in html and '<td>ex1</td><td class="n">1</td><td class="n">0.5</td><td class="n">0.5</td>' \
        in html


@pytest.mark.parametrize("students", [1, 1000])
def test_a_class_of_one_or_a_thousand_gets_a_whole_report(tmp_path, students):
    """Every section renders whatever the class size: one student (no spread, no discrimination), or a thousand."""
    generator = random.Random(students)
    scores = {f"ex{n}_tests": [float(generator.random() < 0.3 * n) for _ in range(students)] for n in (1, 2, 3)}
    analysis = analyse(synthetic(scores))
    drawn = draw(analysis, tmp_path)
    html = page.render(analysis, drawn)
    assert analysis.statuses["graded"] == students == sum(sum(b.counts.values()) for b in analysis.histogram)
    assert all(path.stat().st_size > 0 for path in drawn.values())
    assert all(f"{name}_tests" in html for name in ("ex1", "ex2", "ex3"))
    if students == 1:
        assert all(test.discrimination is None for ex in analysis.exercises for test in ex.tests)
