"""``make bench``: grade a simulated class with plain nbgrader and with the trusted grader, and compare.

Both graders get identical copies of one simulated class (``simulate.build_class``). The run
measures, on this machine and in this run:

- the floor: the median wall time of ``python -c "import torch"``, what any grader that starts a
  fresh Python per notebook pays before the first cell;
- plain nbgrader: ``nbgrader autograde`` for each assignment, one after the other, as instructors
  run it (its usual configuration: no sandbox, no audit);
- the trusted grader: ``python -m autograd_course.grading.autograde`` on every assignment at once,
  with one worker per core, then again with 1, 2, ... workers on a smaller class for the
  throughput-against-workers plot.

Per-notebook cost is wall time divided by notebooks graded. Where it goes is printed too: the trusted grader
writes each submission's phases (``phases``: policy check, assembly, fork, kernel start-up, each cell, evidence,
gradebook write, and what is left of each span), and their means are the breakdown, also per assignment in
``results.json``. Peak memory is the largest sum of
resident set sizes over the grader's whole process tree (sandboxes and kernels included), sampled
every 0.1 s; shared pages are counted once per process, so it overstates. Every honest
submission must get the same score from both graders, or the benchmark fails.

The class the trusted grader graded stays in ``<output>/class`` (an instructor's course folder, gradebook
included) with ``simulation.json``, what each submission must get (``simulate.expected``): ``make report
COURSE=build/bench/class ASSIGNMENT=<id>`` reports on it, and its counts can be checked against that file.

Usage: python -m autograd_course.grading.bench [--students 60] [--sweep-students 12] [--output build/bench]
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from nbgrader.api import Gradebook

from ..course import this_course
from ..release import record_in_gradebook
from ..report.records import Reader
from ..report.statistics import status_counts
from .phases import breakdown, breakdown_table, read_timings
from .simulate import HONEST, build_class, expected

COURSE_ID = "autograd-course"


@dataclass
class Timing:
    grader: str
    workers: int
    notebooks: int
    seconds: float
    peak_memory_mib: float

    @property
    def per_notebook(self) -> float:
        return self.seconds / self.notebooks


class PeakMemory:
    """The largest total RSS of a process and all its descendants, sampled in a thread."""

    def __init__(self, process: subprocess.Popen):
        self.root = psutil.Process(process.pid)
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.wait(0.1):
            total = 0
            try:
                for process in [self.root, *self.root.children(recursive=True)]:
                    try:
                        total += process.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return self.peak / 2**20


def timed(grader: str, workers: int, notebooks: int, commands: list[list[str]], cwd: Path) -> Timing:
    """Run ``commands`` one after the other; their total wall time and the peak memory of any of them."""
    started, peak = time.perf_counter(), 0.0
    for command in commands:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        memory = PeakMemory(process)
        _, errors = process.communicate()
        peak = max(peak, memory.stop())
        if process.returncode not in (0, 1):  # 1: nbgrader's "some submissions failed" (the broken ones)
            raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {errors[-2000:]}")
    return Timing(grader, workers, notebooks, time.perf_counter() - started, peak)


def import_floor(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.perf_counter() - started)
    return times


def scores(root: Path, assignments: list[str]) -> dict[tuple[str, str], float]:
    found = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gradebook:
        for assignment in assignments:
            for submission in gradebook.find_assignment(assignment).submissions:
                found[assignment, submission.student.id] = submission.score
    return found


def plain_nbgrader(root: Path, assignments: list[str], notebooks: int) -> Timing:
    for assignment in assignments:  # the gradebook entries nbgrader's autograde expects (not timed)
        record_in_gradebook(root, assignment)
    commands = [[sys.executable, "-m", "nbgrader", "autograde", assignment, "--log-level=ERROR"]
                for assignment in assignments]
    return timed("nbgrader autograde", 1, notebooks, commands, root)


def trusted(root: Path, assignments: list[str], notebooks: int, workers: int, timings: Path | None = None) -> Timing:
    command = [sys.executable, "-m", "autograd_course.grading.autograde", *assignments, "--root", str(root),
               "--workers", str(workers), "--force", "--no-progress",
               *(["--timings", str(timings)] if timings else [])]
    return timed("trusted grader", workers, notebooks, [command], root)


def plot(sweep: list[Timing], plain: Timing, floor: float, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot([t.workers for t in sweep], [1 / t.per_notebook for t in sweep], "o-", label="trusted grader")
    axis.axhline(1 / plain.per_notebook, color="tab:red", linestyle="--", label="plain nbgrader autograde")
    axis.axhline(1 / floor, color="grey", linestyle=":", label="1 / (python -c 'import torch')")
    axis.set_xlabel("workers")
    axis.set_ylabel("notebooks graded per second")
    axis.set_xticks([t.workers for t in sweep])
    axis.set_ylim(bottom=0)
    axis.legend()
    axis.set_title(f"Throughput on {os.cpu_count()} cores")
    figure.tight_layout()
    figure.savefig(target, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60, help="class size for the nbgrader comparison")
    parser.add_argument("--sweep-students", type=int, default=12, help="class size for the workers sweep")
    parser.add_argument("--assignment", action="append", help="only these assignments (default: all)")
    parser.add_argument("--floor-repeats", type=int, default=7)
    parser.add_argument("--output", type=Path, default=Path("build/bench"))
    args = parser.parse_args(argv)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    course = this_course()
    assignments = args.assignment or course.assignment_ids()
    cores = os.cpu_count() or 1
    graded_class = (args.output / "class").resolve()  # kept for make report; absolute: the grader runs in it
    shutil.rmtree(graded_class, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        scratch = Path(scratch)
        submissions = build_class(course, scratch / "plain", args.students, assignments)
        build_class(course, graded_class, args.students, assignments)
        expectations = [expected(course, submission) for submission in submissions]
        (graded_class / "simulation.json").write_text(json.dumps(expectations, indent=1) + "\n")
        notebooks = len(submissions)
        print(f"Simulated class: {args.students} students x {len(assignments)} assignments = {notebooks} notebooks")
        floor_times = import_floor(args.floor_repeats)
        floor = statistics.median(floor_times)
        print(f"Floor, median of {len(floor_times)} x python -c 'import torch': {floor:.2f} s")
        plain = plain_nbgrader(scratch / "plain", assignments, notebooks)
        print(f"Plain nbgrader: {plain.per_notebook:.2f} s per notebook, peak {plain.peak_memory_mib:.0f} MiB")
        timings_file = (args.output / "timings.jsonl").resolve()
        ours = trusted(graded_class, assignments, notebooks, cores, timings_file)
        print(f"Trusted grader, {cores} workers: {ours.per_notebook:.2f} s per notebook, "
              f"peak {ours.peak_memory_mib:.0f} MiB")
        phase_records, batch = read_timings(timings_file)
        where = breakdown(phase_records)
        print(breakdown_table(where, batch))
        plain_scores, our_scores = scores(scratch / "plain", assignments), scores(graded_class, assignments)
        honest = [s for s in submissions if s.kind in HONEST]
        differ = [f"{s.assignment}/{s.student} ({s.kind}): nbgrader {plain_scores.get((s.assignment, s.student))}, "
                  f"trusted {our_scores.get((s.assignment, s.student))}" for s in honest
                  if plain_scores.get((s.assignment, s.student)) != our_scores.get((s.assignment, s.student))]
        mismatches = item_analysis_mismatches(graded_class, expectations, assignments)
        cheated = sum(plain_scores.get((s.assignment, s.student), 0) > our_scores.get((s.assignment, s.student), 0)
                      for s in submissions if s.kind == "hostile")
        build_class(course, scratch / "sweep", args.sweep_students, assignments)
        sweep_notebooks = args.sweep_students * len(assignments)
        sweep = [trusted(scratch / "sweep", assignments, sweep_notebooks, workers) for workers in range(1, cores + 2)]
    args.output.mkdir(parents=True, exist_ok=True)
    results = {
        "machine": {"cores": cores, "python": platform.python_version(), "platform": platform.platform()},
        "class": {"students": args.students, "assignments": assignments, "notebooks": notebooks},
        "floor_seconds": floor, "floor_samples": floor_times,
        "plain_nbgrader": {**asdict(plain), "per_notebook": plain.per_notebook},
        "trusted": {**asdict(ours), "per_notebook": ours.per_notebook},
        "breakdown": where, "batch_timings": batch,
        "breakdown_per_assignment": {assignment: breakdown([r for r in phase_records if r["assignment"] == assignment])
                                     for assignment in assignments},
        "throughput_ratio": plain.per_notebook / ours.per_notebook,
        "honest_submissions": len(honest), "honest_score_differences": differ,
        "hostile_submissions_plain_nbgrader_overscored": cheated,
        "item_analysis_mismatches": mismatches,
        "sweep": [{**asdict(t), "per_notebook": t.per_notebook, "notebooks_per_second": 1 / t.per_notebook}
                  for t in sweep],
    }
    (args.output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(sweep, plain, floor, args.output / "throughput.png")
    print(report(results))
    print(f"Figures: {args.output / 'results.json'}, {args.output / 'throughput.png'}")
    print(f"Graded class: {graded_class} (what each submission must get: simulation.json); item analysis: "
          f"make report COURSE={graded_class} ASSIGNMENT=\"{' '.join(assignments)}\"")
    return 1 if differ or mismatches else 0


def item_analysis_mismatches(graded_class: Path, expectations: list[dict], assignments: list[str]) -> list[str]:
    """Where ``make report``'s reading of the graded class differs from what the simulation says each submission
    gets: its status, score and unanswered exercises, and the status counts the report shows."""
    mismatches, reader = [], Reader(graded_class)
    for assignment in assignments:
        recorded = reader.assignment(assignment)
        wanted = {e["student"]: e for e in expectations if e["assignment"] == assignment}
        for submission in recorded.submissions:
            expectation = wanted.pop(submission.student, None)
            got = (submission.status, submission.score, sorted(submission.unanswered))
            if expectation is None or got != (expectation["status"], expectation["score"],
                                              sorted(expectation["unanswered"])):
                mismatches.append(f"{assignment}/{submission.student}: report {got}, simulation {expectation}")
        mismatches += [f"{assignment}/{student}: simulated, but not in the report" for student in wanted]
        counts = status_counts(recorded)
        simulated = {status: sum(e["status"] == status for e in expectations if e["assignment"] == assignment)
                     for status in counts}
        if counts != simulated:
            mismatches.append(f"{assignment}: report counts {counts}, simulation {simulated}")
    return mismatches


def report(results: dict) -> str:
    plain, ours = results["plain_nbgrader"], results["trusted"]
    lines = [
        f"{'':<34}{'s / notebook':>13}{'peak MiB':>10}",
        f"{'plain nbgrader autograde':<34}{plain['per_notebook']:>13.2f}{plain['peak_memory_mib']:>10.0f}",
        f"{'trusted grader, ' + str(ours['workers']) + ' workers':<34}{ours['per_notebook']:>13.2f}"
        f"{ours['peak_memory_mib']:>10.0f}",
        f"{'floor: python -c import torch':<34}{results['floor_seconds']:>13.2f}",
        f"throughput ratio (trusted / plain): {results['throughput_ratio']:.2f}x",
        f"honest submissions with the same score from both: "
        f"{results['honest_submissions'] - len(results['honest_score_differences'])} of {results['honest_submissions']}",
        f"hostile submissions plain nbgrader scored higher: {results['hostile_submissions_plain_nbgrader_overscored']}",
        f"make report on the graded class: {len(results['item_analysis_mismatches'])} differences from the simulation",
        "workers sweep: " + ", ".join(f"{t['workers']} -> {t['notebooks_per_second']:.2f} notebooks/s"
                                      for t in results["sweep"]),
    ]
    lines += [f"  differs: {line}" for line in results["honest_score_differences"][:20]]
    lines += [f"  report differs: {line}" for line in results["item_analysis_mismatches"][:20]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
