"""The report's figures, as PNG files: drawn on bare matplotlib Figures (the Agg renderer, no pyplot state)."""

import textwrap
from pathlib import Path

from matplotlib.figure import Figure

from .analysis import Analysis
from .misconceptions import Group
from .statistics import ALMOST_EVERYONE, WEAK_DISCRIMINATION, Bin, ExerciseStats

STATUS_COLOURS = {"graded": "tab:blue", "unanswered": "tab:gray", "flagged": "tab:red", "rejected": "tab:orange",
                  "error": "black"}
DPI = 110
HINT_WIDTH = 55  # characters per line of a hint beside its bar
SHOWN_PER_EXERCISE = 6  # misconceptions per exercise in the figure (the page lists them all)


def save(figure: Figure, path: Path) -> Path:
    # bbox "tight": long hint labels widen the figure instead of being cut; no version string in the metadata
    figure.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return path


def scores(bins: list[Bin], statuses: dict[str, int], max_score: float, path: Path) -> Path:
    """Score histogram stacked by status, above one bar of the status shares."""
    figure = Figure(figsize=(7, 4.6), layout="constrained")
    histogram, shares = figure.subplots(2, 1, height_ratios=(4, 1))
    width = [b.high - b.low for b in bins]
    unit = all(w == 1 for w in width)
    left = [b.low - 0.5 if unit else b.low for b in bins]
    bottom = [0] * len(bins)
    for status, colour in STATUS_COLOURS.items():
        heights = [b.counts[status] for b in bins]
        if any(heights):
            histogram.bar(left, heights, width=[w * 0.9 for w in width], bottom=bottom, align="edge", color=colour,
                          label=status)
            bottom = [base + height for base, height in zip(bottom, heights)]
    histogram.set_xlabel(f"score (out of {max_score:g})")
    histogram.set_ylabel("submissions")
    histogram.yaxis.get_major_locator().set_params(integer=True)
    histogram.legend(frameon=False)
    histogram.set_title(f"Scores of {sum(statuses.values())} submissions")
    start = 0
    for status, count in statuses.items():
        if count:
            shares.barh(0, count, left=start, color=STATUS_COLOURS[status])
            shares.text(start + count / 2, 0, f"{status}\n{count}", ha="center", va="center", fontsize=8,
                        color="white")
            start += count
    shares.set_xlim(0, max(start, 1))
    shares.set_axis_off()
    return save(figure, path)


def exercises(stats: list[ExerciseStats], path: Path) -> Path:
    """Per exercise: mean score as a share of its points, share of full marks, share unanswered."""
    figure = Figure(figsize=(7, 1.2 + 0.7 * len(stats)), layout="constrained")
    axis = figure.subplots()
    rows = range(len(stats))
    measures = (("mean score / points", [e.mean / e.points if e.points else 0 for e in stats], "tab:blue"),
                ("full marks", [e.full_marks for e in stats], "tab:green"),
                ("unanswered", [e.unanswered or 0 for e in stats], "tab:gray"))
    height = 0.8 / len(measures)
    for offset, (label, values, colour) in enumerate(measures):
        positions = [row + (offset - 1) * height for row in rows]
        axis.barh(positions, values, height=height, color=colour, label=label)
        for position, value in zip(positions, values):
            axis.text(value + 0.01, position, f"{value:.0%}", va="center", fontsize=7)
    axis.set_yticks(list(rows), [e.name for e in stats])
    axis.invert_yaxis()
    axis.set_xlim(0, 1.12)
    axis.xaxis.set_major_formatter("{x:.0%}")
    axis.legend(frameon=False, loc="lower right", fontsize=8)
    axis.set_title("Exercises (graded and unanswered submissions)")
    return save(figure, path)


def tests(stats: list[ExerciseStats], path: Path) -> Path:
    """Each test cell's difficulty against its discrimination, with the regions that deserve a look shaded."""
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    axis = figure.subplots()
    for edge in ((0, 1 - ALMOST_EVERYONE), (ALMOST_EVERYONE, 1)):
        axis.axvspan(*edge, color="tab:red", alpha=0.08, lw=0)
    axis.axhspan(-1.1, WEAK_DISCRIMINATION, color="tab:orange", alpha=0.08, lw=0)
    undefined_shown = False
    for test in (test for exercise in stats for test in exercise.tests):
        if test.discrimination is None:
            axis.scatter(test.passed, -1.0, marker="o", facecolors="none", edgecolors="grey",
                         label=None if undefined_shown else "discrimination undefined")
            undefined_shown = True
            y = -1.0
        else:
            axis.scatter(test.passed, test.discrimination, color="tab:red" if test.flag else "tab:blue")
            y = test.discrimination
        axis.annotate(test.name, (test.passed, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    axis.set_xlim(-0.03, 1.03)
    axis.set_ylim(-1.1, 1.1)
    axis.xaxis.set_major_formatter("{x:.0%}")
    axis.set_xlabel("passed it (share of graded and unanswered submissions)")
    axis.set_ylabel("discrimination (corrected item-total r)")
    if undefined_shown:
        axis.legend(frameon=False, loc="upper left", fontsize=8)
    axis.set_title("Test cells: shaded, almost everyone passes or fails (red), or weak discrimination (orange)",
                   fontsize=9)
    return save(figure, path)


def misconceptions(groups: dict[str, list[Group]], path: Path) -> Path:
    """The most frequent misconceptions of each exercise, as bars of how many students made them."""
    shown = [group for exercise in groups.values() for group in exercise[:SHOWN_PER_EXERCISE]]
    labels = [f"{group.exercise}: " + textwrap.shorten(group.hint, 2 * HINT_WIDTH, placeholder=" …")
              for group in shown]
    labels = ["\n".join(textwrap.wrap(label, HINT_WIDTH)) for label in labels]
    figure = Figure(figsize=(9, 1.2 + 0.5 * max(len(shown), 1)), layout="constrained")
    axis = figure.subplots()
    colours = {exercise: f"C{index}" for index, exercise in enumerate(groups)}
    axis.barh(range(len(shown)), [group.count for group in shown], color=[colours[g.exercise] for g in shown])
    for row, group in enumerate(shown):
        axis.text(group.count, row, f" {group.count}", va="center", fontsize=8)
    axis.set_yticks(range(len(shown)), labels, fontsize=7)
    axis.invert_yaxis()
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.set_xlabel("students")
    axis.set_title("Failures grouped by the hint that names the mistake")
    if not shown:
        axis.text(0.5, 0.5, "no failures in answered exercises", ha="center", va="center",
                  transform=axis.transAxes)
    return save(figure, path)


def draw(analysis: Analysis, folder: Path) -> dict[str, Path]:
    """Every figure of one report, in ``folder``: name -> PNG file."""
    return {
        "scores": scores(analysis.histogram, analysis.statuses, analysis.max_score, folder / "scores.png"),
        "exercises": exercises(analysis.exercises, folder / "exercises.png"),
        "tests": tests(analysis.exercises, folder / "tests.png"),
        "misconceptions": misconceptions(analysis.misconceptions, folder / "misconceptions.png"),
    }
