"""The grader's end of one sandboxed kernel host: its process, its control socket, and the slot it runs in.

``KernelHostProcess`` starts ``kernel_host`` inside the sandbox (``Sandbox.wrap``) with one Unix socket to talk
over, and restarts it if a submission killed it. Everything the sandbox can write (the folder and ``/tmp``) is on
one size-limited tmpfs, and the host runs in a memory cgroup (``resources``), both the slot's for its whole life.
It is what running a notebook needs of a slot (``execute.KernelHost``): the host, the sandbox, the folder.
"""

import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import matplotlib

from ..arithmetic import REPRODUCIBLE_ARITHMETIC
from .kernel_host import HostDied
from .resources import MemoryCgroup, Scratch
from .sandbox import Sandbox

MESSAGE_BYTES = 1 << 20
HOST_START_SECONDS = 180


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


class KernelHostProcess:
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

    def environment(self) -> dict[str, str]:
        # IPYTHONDIR: IPython reads its profile (config files, startup scripts run before the first cell) from
        # ~/.ipython, and HOME is the submission's folder. Outside it, in the folder that is emptied after every
        # submission, a kernel starts from IPython's defaults, whatever files a submission brought.
        return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(self.folder),
                "IPYTHONDIR": str(self.work / "ipython"),
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

    def reset(self) -> None:
        """Kill everything the submission left (closing the guard's pipe), then empty and re-seed the folder."""
        with contextlib.suppress(HostDied):
            self.request("reset")
        remove_contents(self.work)
        self.seed_matplotlib()

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
