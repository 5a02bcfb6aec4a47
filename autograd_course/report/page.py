"""The report as one HTML file that opens offline: inline CSS, no script, each figure embedded as a data URI
and linked to its PNG file next to the page."""

import base64
from html import escape
from pathlib import Path

from .analysis import Analysis

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1em; } td, th { border: 1px solid #ddd; padding: .25em .6em; }
th { background: #f4f4f4; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption, .note { color: #555; font-size: .9em; }
.flag { color: #b00; } pre { background: #f6f8fa; padding: .6em; overflow-x: auto; font-size: .85em; }
.group { border-left: 4px solid #ccd; padding: .2em .8em; margin: .8em 0; }
.count { font-weight: bold; font-size: 1.1em; }
"""


def percent(share: float | None) -> str:
    return "–" if share is None or share != share else f"{share:.0%}"


def number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def figure(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<figure><a href="{escape(path.name)}"><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
            f"</a><figcaption>{escape(caption)} (<a href=\"{escape(path.name)}\">{escape(path.name)}</a>)"
            "</figcaption></figure>")


def table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """Cells are HTML already (escape text before)."""
    header = "".join(f"<th>{cell}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f'<td class="n">{cell}</td>' if index in numeric else f"<td>{cell}</td>"
                                    for index, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def students_line(analysis: Analysis, students: list[str]) -> str:
    named = analysis.who(students)
    return "" if named is None else f'<p class="note">Students: {escape(", ".join(named))}</p>'


def summary_section(analysis: Analysis, figures: dict[str, Path]) -> str:
    rows = [[escape(status), str(count), percent(count / analysis.submissions if analysis.submissions else None)]
            for status, count in analysis.statuses.items()]
    return ("<h2>Scores and submissions</h2>"
            + centre_line(analysis)
            + table(["status", "submissions", "share"], rows, {1, 2})
            + '<p class="note">graded: scored by the tests; unanswered: graded, but no exercise answered; flagged: an '
              "integrity finding scored it 0 until you review it in formgrader; rejected: not a notebook that could "
              "be run; error: the grader failed on it (run make autograde again).</p>"
            + figure(figures["scores"], "Score distribution by status, and the share of each status"))


def centre_line(analysis: Analysis) -> str:
    centre = analysis.scores
    return (f'<p>Class mean <span class="count">{number(centre.mean)}</span>, median <span class="count">'
            f"{number(centre.median)}</span> of {number(analysis.max_score)} points, over all {centre.count} "
            f"submissions (flagged and rejected ones count 0 until you regrade them). {late_line(analysis)}</p>")


def late_line(analysis: Analysis) -> str:
    """Which scores these are: the gradebook's after late penalties, as nbgrader's export and feedback give them."""
    penalised = analysis.late_penalised
    return (f"Scores are after late penalties ({penalised} submission{'' if penalised == 1 else 's'} penalised), as "
            "nbgrader's export and feedback give them; the exercises' points are before them.")


def exercise_section(analysis: Analysis, figures: dict[str, Path]) -> str:
    rows = []
    for exercise in analysis.exercises:
        for index, test in enumerate(exercise.tests):
            first = [escape(exercise.name), number(exercise.points), number(exercise.mean),
                     number(analysis.exercise_scores[exercise.name].median), percent(exercise.full_marks),
                     percent(exercise.unanswered)] if index == 0 else [""] * 6
            flag = f'<span class="flag">{escape(test.flag)}</span>' if test.flag else ""
            rows.append(first + [escape(test.name), percent(test.passed), number(test.discrimination), flag])
    return ("<h2>Exercises and their tests</h2>"
            + f'<p class="note">Over the {analysis.analysed} graded and unanswered submissions (flagged and rejected '
              "ones say nothing about the exercises). Discrimination is the corrected item-total correlation: how "
              "well passing a test predicts the score on the rest of the notebook (– when everyone passed it, "
              "everyone failed it, or the rest scored the same for everyone).</p>"
            + table(["exercise", "points", "mean", "median", "full marks", "unanswered", "test", "passed",
                     "discrimination", "look at it"], rows, {1, 2, 3, 4, 5, 7, 8})
            + figure(figures["exercises"], "Mean score, full marks and unanswered share per exercise")
            + figure(figures["tests"], "Difficulty and discrimination of each test cell"))


def misconception_section(analysis: Analysis, figures: dict[str, Path]) -> str:
    parts = ["<h2>What the class got wrong</h2>",
             '<p class="note">The failing tests of answered exercises in graded submissions, grouped by the hint their '
             "message ends with (each hint names one misconception), most frequent first. The example is the code "
             "most of those students wrote, without comments and with student names removed.</p>",
             figure(figures["misconceptions"], "Misconceptions per exercise, by number of students")]
    for exercise, groups in analysis.misconceptions.items():
        parts.append(f"<h3>{escape(exercise)}</h3>")
        if not groups:
            parts.append('<p class="note">No failures in answered submissions.</p>')
        for group in groups:
            parts.append(f'<div class="group"><p><span class="count">{group.count}</span> student'
                         f'{"s" if group.count != 1 else ""}: {escape(group.hint)}</p>'
                         f'<p class="note">For example: {escape(group.example_message)}</p>'
                         f"<pre><code>{escape(group.example_code)}</code></pre>"
                         f"{students_line(analysis, group.students)}</div>")
    return "".join(parts)


def integrity_section(analysis: Analysis) -> str:
    head = "<h2>Integrity findings</h2>"
    if not analysis.integrity:
        return head + '<p class="note">No flagged submissions.</p>'
    named = analysis.names is not None
    rows = [[escape(rule.rule), str(rule.findings), str(len(rule.submissions))]
            + ([escape(", ".join(analysis.who(rule.submissions)))] if named else []) for rule in analysis.integrity]
    return (head + '<p class="note">The findings of flagged submissions by rule. Each flagged notebook scored 0: '
                   f"review grading/{escape(analysis.assignment)}/integrity.md and regrade the innocent ones in "
                   "formgrader.</p>"
            + table(["rule", "findings", "submissions"] + (["students"] if named else []), rows, {1, 2}))


def render(analysis: Analysis, figures: dict[str, Path]) -> str:
    title = f"What the class got wrong: {analysis.assignment}"
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
            f'<p>{analysis.submissions} submissions, {analysis.analysed} of them graded or unanswered; maximum score '
            f"{number(analysis.max_score)}.</p>"
            + summary_section(analysis, figures) + exercise_section(analysis, figures)
            + misconception_section(analysis, figures) + integrity_section(analysis)
            + "</body></html>\n")


def render_index(reports: list[dict]) -> str:
    """The overview of every assignment reported into one folder, from their report.json."""
    rows = [[f'<a href="{escape(report["assignment"])}/index.html">{escape(report["assignment"])}</a>',
             str(report["submissions"]), *(str(count) for count in report["statuses"].values())]
            for report in reports]
    statuses = list(reports[0]["statuses"]) if reports else []
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8"><title>What the class got wrong</title>'
            f"<style>{STYLE}</style></head><body><h1>What the class got wrong</h1>"
            + table(["assignment", "submissions", *statuses], rows, set(range(1, 2 + len(statuses))))
            + "</body></html>\n")
