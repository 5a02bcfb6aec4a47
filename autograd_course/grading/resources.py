"""What one worker slot may take of the machine, enforced by the operating system from outside the sandbox.

- ``Scratch``: a size-limited tmpfs, mounted by the grader (as root) and holding everything a submission can
  write, its folder and its ``/tmp`` together. A write past the size fails in the kernel with ``ENOSPC``, an
  ordinary ``OSError``; the sandbox user has no capability that could remount it bigger.
- ``MemoryCgroup``: a memory cgroup (v1 or v2) that the sandbox starts in, limiting the resident memory of the
  kernel host and its kernel, tmpfs pages included; past it the kernel is killed there, not elsewhere.

Both are optional: unprivileged, or on a machine without a memory controller the grader can write to, a slot
has neither, and ``Sandbox`` falls back to what bubblewrap and rlimits can do (README, "Grading you can trust").
"""

import os
import subprocess
import threading
import time
from pathlib import Path

MOUNT_NAME = "autograd-course-scratch"  # and "-<pid of the grader>", so that a dead grader's mounts can be found
NEAR_FULL = 8  # within an eighth of its size, a scratch is full: no exercise writes anything like it


def size_text(size: int) -> str:
    """``256 MiB``, ``2 GiB``: how the README states the limits."""
    return f"{size // 2**30} GiB" if size >= 2**30 and size % 2**30 == 0 else f"{round(size / 2**20)} MiB"


class Scratch:
    """A tmpfs of ``size`` bytes and at most ``files`` inodes at ``path`` (which must exist), until ``unmount``."""

    def __init__(self, path: Path, size: int, files: int):
        self.path = path
        self.size = size
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},nr_inodes={files},mode=0755",
                        f"{MOUNT_NAME}-{os.getpid()}", str(path)], check=True, capture_output=True, text=True)

    @classmethod
    def mount(cls, path: Path, size: int, files: int) -> "Scratch | None":
        """The mounted scratch, or None where the grader may not mount (not root)."""
        if os.geteuid() != 0:
            return None
        unmount_abandoned()
        return cls(path, size, files)

    def used(self) -> int:
        status = os.statvfs(self.path)
        return (status.f_blocks - status.f_bfree) * status.f_frsize

    def filled(self, peak: int) -> bool:
        """Whether a submission that held ``peak`` bytes ran into the limit. Not only a full tmpfs: numpy's
        ``tofile`` asks for a whole block with fallocate, and fails without writing when it does not fit."""
        return peak >= self.size - self.size // NEAR_FULL

    def unmount(self) -> None:
        unmount(self.path)


def unmount(path: Path | str) -> None:
    # Lazily: a sandbox that has not died yet still holds it; its pages go when it does.
    subprocess.run(["umount", "--lazy", str(path)], capture_output=True)


def unmount_abandoned() -> None:
    """Unmount the scratches of graders that died without unmounting them (``kill -9``): their files are RAM."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        mount_point, source = fields[4], fields[fields.index("-") + 2]
        owner = source.removeprefix(f"{MOUNT_NAME}-")
        if owner != source and owner.isdigit() and not alive(int(owner)):
            unmount(mount_point.replace("\\040", " "))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


class UsageWatch(threading.Thread):
    """The most ``scratch`` held while a submission ran, sampled every ``interval`` seconds."""

    def __init__(self, scratch: Scratch, interval: float = 0.01):
        super().__init__(daemon=True)
        self.scratch = scratch
        self.interval = interval
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.interval)

    def sample(self) -> None:
        self.peak = max(self.peak, self.scratch.used())

    def stop(self) -> int:
        """Stop watching (after a last look); the peak, in bytes."""
        self.done.set()
        self.join()
        self.sample()
        return self.peak


class MemoryCgroup:
    """A child of the grader's own memory cgroup whose processes may have ``limit`` bytes of RAM between them."""

    def __init__(self, path: Path, version: int):
        self.path = path
        self.version = version

    @classmethod
    def create(cls, name: str, limit: int) -> "MemoryCgroup | None":
        """The cgroup, limited; None where there is no memory controller the grader may write to."""
        found = own_memory_cgroup()
        if found is None:
            return None
        parent, version = found
        try:
            if version == 2:
                (parent / "cgroup.subtree_control").write_text("+memory")
            path = parent / name
            path.mkdir(exist_ok=True)
            group = cls(path, version)
            group.limit(limit)
        except OSError:
            return None
        return group

    def limit(self, size: int) -> None:
        if self.version == 2:
            (self.path / "memory.max").write_text(str(size))
            if (self.path / "memory.swap.max").exists():  # swapped-out pages are memory too
                (self.path / "memory.swap.max").write_text("0")
            return
        swap = self.path / "memory.memsw.limit_in_bytes"  # memory plus swap, never below the memory limit
        if swap.exists():
            swap.write_text("-1")  # first, so that a cgroup left behind with a lower limit can be raised
        (self.path / "memory.limit_in_bytes").write_text(str(size))
        if swap.exists():  # the same as memory alone: no swap
            swap.write_text(str(size))

    def enter(self, argv: list[str]) -> list[str]:
        """``argv`` started inside this cgroup: its first process joins before it runs, so all its children do."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *argv]

    def oom_kills(self) -> int:
        """How many processes the kernel has killed here for want of memory."""
        events = self.path / ("memory.events" if self.version == 2 else "memory.oom_control")
        for line in events.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        """Remove the cgroup once its processes are gone (an empty cgroup left behind is reused by the next grader
        with this slot's uid)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)


def own_memory_cgroup() -> tuple[Path, int] | None:
    """The folder of this process's memory cgroup and its cgroup version, from /proc/self/cgroup and mountinfo."""
    try:
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    v1 = {}
    v2 = None
    for line in mounts:
        fields = line.split()
        separator = fields.index("-")
        fstype, options, mount_point = fields[separator + 1], fields[separator + 3], fields[4]
        if fstype == "cgroup" and "memory" in options.split(","):
            v1["memory"] = Path(mount_point)
        elif fstype == "cgroup2":
            v2 = Path(mount_point)
    for line in memberships:
        hierarchy, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(",") and "memory" in v1:
            return v1["memory"] / path.lstrip("/"), 1
        if hierarchy == "0" and v2 is not None:
            own = v2 / path.lstrip("/")
            controllers = own / "cgroup.controllers"
            if controllers.is_file() and "memory" in controllers.read_text().split():
                return own, 2
    return None
