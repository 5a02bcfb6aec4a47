"""One grading slot: a sandboxed kernel host, and the folder each submission's kernel runs in.

A ``Worker`` holds the slot's ``KernelHostProcess`` (``host_process``) and its ``SubmissionFolder``
(``submission_folder``). ``Worker.run(job)`` writes the submission's files into a fresh folder, runs the notebook
in a kernel forked by the host, reads the guard's channel while it runs (``evidence``), checks the shipped files
from outside, then has the host kill everything the submission left behind and empty the folder, so that the next
submission starts from nothing.

A ``Job`` carries everything a run needs as plain data (notebook JSON, file contents), so the
same ``run`` serves the local pool and remote Dask workers.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path


from .channel import Channel
from .evidence import ChannelReader, judge_evidence
from .execute import execute
from .findings import Finding
from .host_process import KernelHostProcess
from .phases import PhaseClock
from .resources import UsageWatch, size_text
from .sandbox import Sandbox
from .submission_folder import SubmissionFolder
from .transport import to_json


@dataclass
class Job:
    """One submission, ready to run: the assembled notebook and every file its folder should hold."""

    student: str
    notebook: str  # nbformat JSON
    files: dict[str, bytes]  # the student's own files (not notebooks)
    shipped: dict[str, bytes]  # the assignment's files: written over the student's, compared after the run
    trusted_cells: set[str]
    cell_timeout: int
    assignment: str
    kernel_versions: dict[str, str] = field(default_factory=dict)  # digest of a cell as shipped -> as run
    protected: frozenset[str] = frozenset()  # the names the tests rely on, which the guard keeps bound


@dataclass
class Result:
    """What came back from a run: the executed notebook JSON, audit reports, and findings from outside."""

    notebook: str
    reports: list[dict] = field(default_factory=list)
    stopped: str | None = None
    changed_shipped: list[Finding] = field(default_factory=list)
    evidence: list[Finding] = field(default_factory=list)  # findings about the guard's channel and its evidence
    cell_names: dict[str, str] = field(default_factory=dict)  # digest of each code cell as run -> its id
    exceeded: list[Finding] = field(default_factory=list)  # limits the submission ran into, seen from outside
    timings: PhaseClock = field(default_factory=PhaseClock)  # where the run's time went (``phases``)


class Worker:
    """One slot: its kernel host and its submission folder, for one submission after another."""

    def __init__(self, sandbox: Sandbox, root: Path):
        self.sandbox = sandbox
        self.host = KernelHostProcess(sandbox, root)
        self.files = SubmissionFolder(self.host)

    def start(self) -> None:
        """Start the slot's kernel host ahead of its first submission (``run`` starts it when it is not alive)."""
        if not self.host.alive():
            self.host.start()

    def run(self, job: Job) -> Result:
        clock = PhaseClock()
        with clock.span("run"):
            return self._run(job, clock)

    def _run(self, job: Job, clock: PhaseClock) -> Result:
        host, files = self.host, self.files
        with clock.phase("host start (a new slot or a killed host)"):
            files.fresh_folder()
        try:
            with clock.phase("folder write"):
                files.write_files({**job.files, **job.shipped})  # the shipped files win over the student's
        except BaseException:
            host.reset()  # the next submission's folder starts empty all the same
            raise
        read_end, write_end = os.pipe()
        reader = ChannelReader(read_end)
        reader.start()
        watch = UsageWatch(host.scratch) if host.scratch else None
        if watch:
            watch.start()
        kills = host.memory.oom_kills() if host.memory else 0
        try:
            run = execute(job.notebook, host, report_fd=write_end, trusted_cells=job.trusted_cells,
                          shipped_files=set(job.shipped), cell_timeout=job.cell_timeout,
                          kernel_versions=job.kernel_versions, protected=job.protected, clock=clock)
            with clock.phase("shipped files check"):
                changed = files.changed_shipped_files(job.shipped)
                at_size_limit = files.files_at_size_limit()
        finally:
            os.close(write_end)
            peak = watch.stop() if watch else 0
            with clock.phase("reset"):
                host.reset()  # the pipe closes when the last process of the submission is killed
                reader.join(timeout=5)
        with clock.phase("evidence (channel and its records)"):
            channel = Channel(reader.lines, reader.overflowed)
            evidence = channel.problems + judge_evidence(run.trusted, channel)
        exceeded = files.limits_reached(peak, at_size_limit)
        stopped = run.stopped
        if host.memory and host.memory.oom_kills() > kills:
            stopped = (f"the kernel was killed at the memory limit ({size_text(self.sandbox.resident_memory_limit)} "
                       f"resident, files in /tmp included)")
        return Result(to_json(run.notebook), channel.findings, stopped, changed, evidence, run.cell_names,
                      exceeded, clock)

    def close(self) -> None:
        self.host.close()
