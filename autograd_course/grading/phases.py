"""Where one submission's grading time goes: named phases on one clock, and what is left of each span.

A submission's grading is three spans: ``prepare`` (the grader's thread: read, assemble, policy check), ``run`` (a
worker: folder, kernel start, each cell, evidence, reset) and ``finish`` (the grader's thread again: judging the
values, the gradebook write, the outcome). Each span is timed whole, and the phases inside it one by one; what the
phases of a span leave of it is its ``rest``, so a submission's phases always add up to its total.

``make bench`` has the grader write one JSON line per submission (``--timings``) and prints their means
(``breakdown``), so that a reader sees which part costs what.
"""

import json
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CELL = "cell "  # a phase named after the cell it ran: "cell ex1_tests"
SPANS = ("prepare", "run", "finish")


@dataclass
class PhaseClock:
    """The phases of one submission, each summed over its uses, and the spans they sit in."""

    phases: dict[str, float] = field(default_factory=dict)
    spans: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    @contextmanager
    def span(self, name: str):
        """A span: its length, and (as the phase ``rest <span>``) what its phases timed while it ran leave of it."""
        timed_before = sum(self.phases.values())
        started = time.perf_counter()
        try:
            yield
        finally:
            length = time.perf_counter() - started
            self.spans[name] = self.spans.get(name, 0.0) + length
            self.add(f"rest {name}", max(0.0, length - (sum(self.phases.values()) - timed_before)))

    def add(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds

    def merge(self, other: "PhaseClock") -> None:
        """Another part's clock (a worker's run) into this one."""
        for name, seconds in other.phases.items():
            self.add(name, seconds)
        for name, seconds in other.spans.items():
            self.spans[name] = self.spans.get(name, 0.0) + seconds

    @property
    def total(self) -> float:
        return sum(self.spans.values())

    def as_record(self, assignment: str, student: str) -> dict:
        return {"assignment": assignment, "student": student, "total": self.total, "spans": self.spans,
                "phases": self.phases}


class TimingsFile:
    """One JSON line per graded submission, appended as outcomes are recorded (``--timings``), and a last one for
    the batch: its wall time from the pool's creation and how long each kernel host took to start."""

    def __init__(self, path: Path, fresh: bool = False):
        self.path = path
        if fresh:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def _append(self, record: dict) -> None:
        with self.path.open("a") as lines:
            lines.write(json.dumps(record) + "\n")

    def write(self, assignment: str, student: str, clock: PhaseClock) -> None:
        self._append(clock.as_record(assignment, student))

    def write_batch(self, seconds: float, host_starts: list[float]) -> None:
        self._append({"batch": True, "seconds": seconds, "host_starts": host_starts})


def read_timings(path: Path) -> tuple[list[dict], dict]:
    """The submissions' records, and the batch's (empty if the batch did not finish)."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    batches = [record for record in records if record.get("batch")]
    return [record for record in records if not record.get("batch")], (batches[-1] if batches else {})


def phase_group(name: str) -> str:
    """Cells are summed into one row of the breakdown; every other phase is its own row."""
    return "cells" if name.startswith(CELL) else name


def breakdown(records: list[dict]) -> dict:
    """Mean seconds per submission of each phase (cells as one row), the slowest cells, and the mean total."""
    if not records:
        return {"submissions": 0, "total": 0.0, "phases": {}, "cells": {}}
    count = len(records)
    phases, cells = defaultdict(float), defaultdict(float)
    for record in records:
        for name, seconds in record["phases"].items():
            phases[phase_group(name)] += seconds / count
            if name.startswith(CELL):
                cells[f"{record['assignment']} {name.removeprefix(CELL)}"] += seconds
    per_cell = {name: seconds / sum(r["assignment"] == name.split(" ")[0] for r in records)
                for name, seconds in cells.items()}
    return {"submissions": count, "total": sum(r["total"] for r in records) / count,
            "phases": dict(sorted(phases.items(), key=lambda item: -item[1])),
            "cells": dict(sorted(per_cell.items(), key=lambda item: -item[1]))}


def breakdown_table(summary: dict, batch: dict | None = None, slowest_cells: int = 8) -> str:
    """The breakdown as text: one row per phase (ms per submission, share of the total), then the slowest cells,
    and the kernel hosts' start-up, which the batch pays once per slot before its first submission."""
    total = summary["total"] or 1.0
    width = max([len(name) for name in summary["phases"]] + [32]) + 2  # the longest phase name sets the column
    lines = [f"where a submission's grading time goes (mean of {summary['submissions']}, one worker's view; "
             f"total {summary['total'] * 1000:.0f} ms):",
             f"  {'phase':<{width}}{'ms':>8}{'share':>8}"]
    lines += [f"  {name:<{width}}{seconds * 1000:>8.1f}{seconds / total:>8.0%}" for name, seconds in summary["phases"].items()]
    if summary["cells"]:
        lines.append("  slowest cells (ms per submission of that assignment):")
        lines += [f"    {name:<48}{seconds * 1000:>8.1f}" for name, seconds in list(summary["cells"].items())[:slowest_cells]]
    if batch and batch.get("host_starts"):
        starts = ", ".join(f"{seconds:.1f}" for seconds in batch["host_starts"])
        lines.append(f"  once per batch: kernel host start-up per slot {starts} s (in parallel, while the grader "
                     f"prepares), batch {batch['seconds']:.1f} s from the pool's creation")
    return "\n".join(lines)
