"""One grading slot: a sandboxed kernel host, and the folder each submission's kernel runs in.

A ``Worker`` starts ``kernel_host`` inside the sandbox (``Sandbox.wrap``) with one Unix socket
to talk over, and restarts it if a submission killed it. Everything the sandbox can write (the
folder and ``/tmp``) is on one size-limited tmpfs, and the host runs in a memory cgroup
(``resources``), both the slot's for its whole life. ``Worker.run(job)`` writes the
submission's files into a fresh folder, runs the notebook in a kernel forked by the host, checks
the shipped files from outside, then has the host kill everything the submission left behind and
empties the folder, so that the next submission starts from nothing.

A ``Job`` carries everything a run needs as plain data (notebook JSON, file contents), so the
same ``run`` serves the local pool and remote Dask workers.

The guard's channel is read here, from outside the sandbox, and judged after the run
(``channel.Channel``, ``judge_evidence``): a test cell that the kernel said passed earns its points
only if the guard's sealed ``ran`` record for it arrived, once and in order.
"""

import contextlib
import errno
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import nbformat

from ..arithmetic import REPRODUCIBLE_ARITHMETIC
from .execute import TrustedCell, execute
from .channel import MAX_RECORD_BYTES, Channel
from .kernel_host import HostDied
from .resources import MemoryCgroup, Scratch, UsageWatch, size_text
from .sandbox import Sandbox

MESSAGE_BYTES = 1 << 20
HOST_START_SECONDS = 180
MAX_CHANNEL_LINES = 5_000  # far more than a run's evidence and capped findings; more is a flood


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


@dataclass
class Result:
    """What came back from a run: the executed notebook JSON, audit reports, and findings from outside."""

    notebook: str
    reports: list[dict] = field(default_factory=list)
    stopped: str | None = None
    changed_shipped: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # findings about the guard's channel and its evidence
    cell_names: dict[str, str] = field(default_factory=dict)  # digest of each code cell as run -> its id
    exceeded: list[str] = field(default_factory=list)  # limits the submission ran into, seen from outside


class SubmissionTooLarge(RuntimeError):
    """The student's files alone fill the scratch: nothing can run."""


class ChannelReader(threading.Thread):
    """The guard's lines until every holder of the pipe's other end (the kernel and its children) is gone."""

    def __init__(self, pipe_end: int):
        super().__init__(daemon=True)
        self.pipe_end = pipe_end
        self.lines: list[bytes] = []
        self.overflowed = False

    def run(self) -> None:
        with os.fdopen(self.pipe_end, "rb") as channel:
            while line := channel.readline(MAX_RECORD_BYTES + 1):
                if len(self.lines) < MAX_CHANNEL_LINES:
                    self.lines.append(line)
                else:
                    self.overflowed = True


def judge_evidence(trusted: list[TrustedCell], channel: Channel) -> list[str]:
    """Findings where the kernel's replies and the guard's evidence disagree.

    Every instructor cell that the kernel reported as finished (or that timed out) needs its
    ``started`` record, and every test cell reported as passed its ``ran`` record, in notebook
    order. A cell that failed or never ran may lack them (it scores 0 anyway); a record left over
    is a cell that ran where or when it should not have.
    """
    findings = []
    for kind, cells, needs in (("started", trusted, ("ok", "timeout")),
                               ("ran", [cell for cell in trusted if cell.test], ("ok",))):
        records, position = channel.evidence(kind), 0
        for cell in cells:
            if position < len(records) and records[position] == cell.digest:
                position += 1
            elif cell.status in needs:
                reply = "reported it finished" if cell.status == "ok" else "timed out on it"
                findings.append(f"{cell.name}: the kernel {reply}, but the guard has no evidence that its code "
                                f"{'started' if kind == 'started' else 'ran to the end'}")
        if position < len(records):
            findings.append(f"the guard saw {len(records) - position} instructor cell(s) {kind} out of their "
                            f"place in the notebook")
    return findings


def remove_contents(folder: Path) -> None:
    """Empty a folder the sandbox user could have chmod-ed or filled with read-only subfolders."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


class Worker:
    """The grader's end of one sandboxed kernel host, running as a sandbox user of its own (as root)."""

    def __init__(self, sandbox: Sandbox, root: Path):
        self.sandbox = sandbox
        self.uid = sandbox.reserve_uid()
        self.root = root.resolve()
        self.scratch_root = self.root / "scratch"  # a tmpfs of sandbox.storage_limit bytes, mounted on first start
        self.work = self.scratch_root / "work"  # bound read-write into the sandbox
        self.tmp = self.scratch_root / "tmp"  # the sandbox's /tmp
        self.folder = self.work / "submission"  # the kernel's working directory
        self.matplotlib_config = self.work / "matplotlib"  # must be writable, so it is seeded again every time
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.scratch: Scratch | None = None
        self.memory: MemoryCgroup | None = None
        self.limited = False  # the scratch and cgroup are set up (they may still be None where impossible)

    # -- the host process ----------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(self.folder),
                "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(self.matplotlib_config),
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1", **REPRODUCIBLE_ARITHMETIC}

    def limit(self) -> None:
        """Mount the slot's scratch and make its memory cgroup, once (the host may be restarted many times)."""
        if self.limited:
            return
        for folder in (self.root, self.scratch_root):
            folder.mkdir(parents=True, exist_ok=True)
        self.scratch = Scratch.mount(self.scratch_root, self.sandbox.storage_limit, self.sandbox.file_count_limit)
        # Named after the slot's reserved uid, so that a cgroup a killed grader left behind is reused.
        owner = self.uid if self.uid is not None else f"{os.getpid()}-{id(self)}"
        self.memory = MemoryCgroup.create(f"autograd-course-sandbox-{owner}", self.sandbox.resident_memory_limit)
        self.limited = True

    def start(self) -> None:
        self.stop_host()
        self.limit()
        for folder in (self.root, self.scratch_root, self.work):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o755)
        self.tmp.mkdir(exist_ok=True)
        for folder in (self.work, self.tmp):  # a host a submission killed could not empty /tmp
            remove_contents(folder)
        os.chmod(self.tmp, 0o1777)  # as on any Linux (sticky, writable by all)
        self.seed_matplotlib()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = [sys.executable, "-m", "autograd_course.grading.kernel_host", "--control-fd", str(theirs.fileno()),
                "--work", str(self.work), *(["--confined"] if self.sandbox.confined else [])]
        command = self.sandbox.wrap(argv, self.work, self.environment(), self.uid,
                                    tmp=self.tmp if self.scratch else None)
        if self.memory:
            command = self.memory.enter(command)
        with open(self.root / "host.log", "ab") as log:
            self.process = subprocess.Popen(command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log)
        theirs.close()
        self.control = ours
        try:
            self._receive(HOST_START_SECONDS)
        except HostDied:
            tail = (self.root / "host.log").read_text(errors="replace").strip().splitlines()[-3:]
            raise HostDied(f"the kernel host did not start: {' | '.join(tail)}") from None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def request(self, op: str, fds: tuple[int, ...] = (), timeout: float = 30, **fields) -> dict:
        if not self.alive():
            raise HostDied("the kernel host has exited")
        try:
            socket.send_fds(self.control, [json.dumps({"op": op, **fields}).encode()], list(fds))
        except OSError as error:
            self.stop_host()
            raise HostDied(f"the kernel host has exited: {error}") from None
        return self._receive(timeout)

    def _receive(self, timeout: float) -> dict:
        """The host's answer; without one, the host is stopped, so that no late answer is read as the next one."""
        self.control.settimeout(timeout)
        try:
            message = self.control.recv(MESSAGE_BYTES)
        except OSError as error:
            message, reason = b"", f"no answer from the kernel host: {error}"
        else:
            reason = "the kernel host has exited"
        if not message:
            self.stop_host()
            raise HostDied(reason)
        return json.loads(message)

    def stop_host(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def close(self) -> None:
        """Stop the host and give back the slot's scratch and cgroup."""
        self.stop_host()
        if self.scratch:
            self.scratch.unmount()
        if self.memory:
            self.memory.remove()
        self.scratch = self.memory = None
        self.limited = False

    def seed_matplotlib(self) -> None:
        """matplotlib's font list, prebuilt: building it inside the sandbox would write to stderr."""
        self.matplotlib_config.mkdir()
        for font_list in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
            shutil.copy(font_list, self.matplotlib_config)
        self.give_to_sandbox_user(self.matplotlib_config)

    def give_to_sandbox_user(self, folder: Path) -> None:
        if self.uid is not None:
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, self.uid, self.uid, follow_symlinks=False)

    # -- one submission ------------------------------------------------------------------------
    def fresh_folder(self) -> Path:
        """An empty working folder (``start`` and ``end_submission`` leave the writable folder clean)."""
        if not self.alive():
            self.start()
        # Unprivileged (no sandbox user), the host's own start may have made its HOME, this folder (IPython does).
        self.folder.mkdir(exist_ok=True)
        remove_contents(self.folder)
        self.give_to_sandbox_user(self.folder)
        return self.folder

    def write_files(self, files: dict[str, bytes]) -> None:
        for name, content in files.items():
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(content)
            except OSError as error:
                if self.scratch and error.errno == errno.ENOSPC:
                    raise SubmissionTooLarge(f"the submission's own files do not fit in the "
                                             f"{size_text(self.scratch.size)} a submission may write") from None
                raise
        self.give_to_sandbox_user(self.folder)

    def changed_shipped_files(self, shipped: dict[str, bytes]) -> list[str]:
        """Compared after the run, from outside: writes from C code (torch.save) escape the audit hook."""
        changed = []
        for name, content in shipped.items():
            copy = self.folder / name
            if not copy.is_file() or copy.is_symlink() or copy.read_bytes() != content:
                changed.append(f"after the run: modifies shipped file {name}")
        return changed

    def files_at_size_limit(self) -> list[str]:
        """The files the kernel wrote up to the limit on one file (RLIMIT_FSIZE), in its folder or its /tmp."""
        places = [(self.folder, ""), *([(self.tmp, "/tmp/")] if self.scratch else [])]
        found = []
        for place, shown_as in places:
            for folder, _, names in os.walk(place):
                for name in names:
                    path = Path(folder, name)
                    with contextlib.suppress(OSError):
                        if path.lstat().st_size >= self.sandbox.file_size_limit:
                            found.append(f"{shown_as}{path.relative_to(place)}")
        return found

    def limits_reached(self, peak: int, at_size_limit: list[str]) -> list[str]:
        """Findings for a submission that ran into the limits on what it may write."""
        findings = [f"after the run: wrote {name} up to the limit of {size_text(self.sandbox.file_size_limit)} on "
                    f"one file" for name in at_size_limit]
        if self.scratch and self.scratch.filled(peak):
            findings.append(f"after the run: wrote {size_text(peak)}, up to the limit of {size_text(self.scratch.size)}"
                            f" on what a submission may write (its folder and /tmp together)")
        return findings

    def run(self, job: Job) -> Result:
        self.fresh_folder()
        try:
            self.write_files({**job.files, **job.shipped})  # the shipped files win over the student's
        except BaseException:
            self.end_submission()  # the next submission's folder starts empty all the same
            raise
        read_end, write_end = os.pipe()
        reader = ChannelReader(read_end)
        reader.start()
        watch = UsageWatch(self.scratch) if self.scratch else None
        if watch:
            watch.start()
        kills = self.memory.oom_kills() if self.memory else 0
        try:
            run = execute(job.notebook, self, report_fd=write_end, trusted_cells=job.trusted_cells,
                          shipped_files=set(job.shipped), cell_timeout=job.cell_timeout,
                          kernel_versions=job.kernel_versions)
            changed = self.changed_shipped_files(job.shipped)
            at_size_limit = self.files_at_size_limit()
        finally:
            os.close(write_end)
            peak = watch.stop() if watch else 0
            self.end_submission()  # the pipe closes when the last process of the submission is killed
            reader.join(timeout=5)
        channel = Channel(reader.lines, reader.overflowed)
        evidence = channel.problems + judge_evidence(run.trusted, channel)
        exceeded = self.limits_reached(peak, at_size_limit)
        stopped = run.stopped
        if self.memory and self.memory.oom_kills() > kills:
            stopped = (f"the kernel was killed at the memory limit ({size_text(self.sandbox.resident_memory_limit)} "
                       f"resident, files in /tmp included)")
        return Result(nbformat.writes(run.notebook), channel.findings, stopped, changed, evidence, run.cell_names,
                      exceeded)

    def end_submission(self) -> None:
        """Kill everything the submission left (closing the guard's pipe), then empty and re-seed the folder."""
        with contextlib.suppress(HostDied):
            self.request("reset")
        remove_contents(self.work)
        self.seed_matplotlib()
