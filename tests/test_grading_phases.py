"""Where grading time goes (``grading.phases``): every submission's phases add up to its total, on a real run."""

import time

import nbformat
import pytest

from autograd_course.grading.phases import CELL, SPANS, PhaseClock, breakdown, breakdown_table, read_timings
from grading_course import grade, make_course, solved, student_version, submit


def test_the_rest_of_a_span_is_what_its_phases_leave():
    clock = PhaseClock()
    with clock.span("prepare"):
        with clock.phase("assembly"):
            time.sleep(0.02)
        time.sleep(0.03)  # in the span, in no phase
    assert clock.phases["assembly"] >= 0.02
    assert clock.phases["rest prepare"] >= 0.03
    assert sum(clock.phases.values()) == pytest.approx(clock.total)


def test_a_merged_run_keeps_the_sum():
    prepared, run = PhaseClock(), PhaseClock()
    with prepared.span("prepare"), prepared.phase("policy check"):
        time.sleep(0.01)
    with run.span("run"), run.phase(CELL + "ex1_tests"):
        time.sleep(0.01)
    prepared.merge(run)
    assert set(prepared.spans) == {"prepare", "run"}
    assert sum(prepared.phases.values()) == pytest.approx(prepared.total)


def test_the_breakdown_sums_cells_into_one_row_and_names_the_slowest():
    records = [{"assignment": "01_chain_rule", "student": student, "total": 1.0, "spans": {"run": 1.0},
                "phases": {"fork": 0.25, CELL + "a": 0.5, CELL + "b": 0.25}} for student in ("s1", "s2")]
    summary = breakdown(records)
    assert summary["phases"] == {"cells": 0.75, "fork": 0.25}
    assert summary["cells"] == {"01_chain_rule a": 0.5, "01_chain_rule b": 0.25}
    assert "cells" in breakdown_table(summary) and "01_chain_rule a" in breakdown_table(summary)


@pytest.fixture(scope="module")
def graded_with_timings(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("phases"))
    for student in ("alice", "bob"):
        submit(root, student, solved(root))
    started = time.perf_counter()
    result = grade(root, "--workers", "1", "--timings", str(root / "timings.jsonl"))
    wall = time.perf_counter() - started
    assert result.returncode == 0, result.stdout + result.stderr
    return root, *read_timings(root / "timings.jsonl"), wall


def test_each_graded_submission_has_its_phases_adding_up_to_its_total(graded_with_timings):
    root, records, _, wall = graded_with_timings
    assert sorted(record["student"] for record in records) == ["alice", "bob"]
    code_cells = [cell.get("id") for cell in nbformat.read(student_version(root), as_version=4).cells
                  if cell.cell_type == "code"]
    for record in records:
        assert set(record["spans"]) == set(SPANS)
        assert sum(record["phases"].values()) == pytest.approx(record["total"], rel=1e-9)
        assert all(seconds >= 0 for seconds in record["phases"].values())
        for phase in ("policy check", "assembly", "fork", "kernel start-up", "reset", "gradebook write",
                      "evidence (channel and its records)", "judge values outside"):
            assert record["phases"][phase] > 0, phase
        assert sorted(name.removeprefix(CELL) for name in record["phases"] if name.startswith(CELL)) \
            == sorted(code_cells)
    # Each submission's spans are parts of the run (one worker: they do not overlap but for preparing ahead).
    assert max(record["total"] for record in records) < wall
    assert sum(record["spans"]["run"] for record in records) < wall


def test_the_batch_record_has_the_host_start_up_outside_every_submission(graded_with_timings):
    _, records, batch, wall = graded_with_timings
    assert len(batch["host_starts"]) == 1 and batch["host_starts"][0] > 0  # one worker: one host, started ahead
    assert all(record["phases"].get("host start (a new slot or a killed host)", 0) < batch["host_starts"][0]
               for record in records)
    assert sum(record["spans"]["run"] for record in records) + batch["host_starts"][0] < batch["seconds"] < wall
    assert "kernel host start-up per slot" in breakdown_table(breakdown(records), batch)
