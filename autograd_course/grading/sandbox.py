"""The operating-system boundary around one submission's kernel: bubblewrap plus resource limits.

Inside the sandbox a kernel sees the system's programs and libraries (read-only), the Python
environment and the course package (read-only), and one scratch folder: its own copy of the
submission and of the files the assignment ships. It has no network (its own empty network
namespace), its own process and IPC namespaces, an empty ``/tmp``, and dies with the grader.
Run by root, it also runs as a dedicated unprivileged user per worker slot, so that a limit on
processes is enforced (Linux does not apply RLIMIT_NPROC to root), its folder and ``/tmp`` share
one size-limited tmpfs (``resources.Scratch``) and its memory is a cgroup's (``resources.MemoryCgroup``).
"""

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from traitlets import Integer
from traitlets.config import LoggingConfigurable

import autograd_course

SYSTEM_READ_ONLY = ["/usr", "/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"]
MERGED_USR_LINKS = {"/bin": "usr/bin", "/lib": "usr/lib", "/lib64": "usr/lib64", "/sbin": "usr/sbin"}
FIRST_SANDBOX_UID = 61000
SANDBOX_UIDS = 1000
RESERVED_UID_LOCKS: list[int] = []  # open for the life of the grader: closing one would free its uid


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here (for example on macOS)."""


class Sandbox(LoggingConfigurable):
    """Builds the command line that runs a program inside the sandbox."""

    confined = True  # alone in its own PID namespace, with its own /tmp

    memory_limit = Integer(4 * 2**30, help="Address-space limit of the kernel, in bytes.").tag(config=True)
    process_limit = Integer(64, help="Processes and threads the sandbox user may have.").tag(config=True)
    cpu_time_limit = Integer(600, help="CPU seconds the kernel may use.").tag(config=True)
    file_size_limit = Integer(64 * 2**20, help="Largest file the kernel may write, in bytes.").tag(config=True)
    storage_limit = Integer(256 * 2**20, help="Bytes a submission may have in files, its folder and /tmp "
                                              "together.").tag(config=True)
    file_count_limit = Integer(10_000, help="Files and folders a submission may have (tmpfs inodes are memory "
                                            "that its size does not count).").tag(config=True)
    resident_memory_limit = Integer(2 * 2**30, help="Resident memory of the kernel and its host, tmpfs pages "
                                                    "included, in bytes (where there is a memory cgroup).").tag(
        config=True)

    @staticmethod
    def read_only_paths() -> list[str]:
        """What a kernel needs to read: system libraries, this Python, the course package (not the course)."""
        package = str(Path(autograd_course.__file__).resolve().parent)
        paths = [*SYSTEM_READ_ONLY, sys.prefix, sys.base_prefix, package]
        return [path for path in dict.fromkeys(paths) if os.path.exists(path)]

    def check_available(self) -> None:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed: on Debian or Ubuntu, apt-get install "
                                     "bubblewrap")
        trial = subprocess.run([bwrap, *self._namespaces(), "--ro-bind", "/", "/", "true"],
                               capture_output=True, text=True)
        if trial.returncode != 0:
            raise SandboxUnavailable(f"bubblewrap cannot create a sandbox here: {trial.stderr.strip()}")

    @staticmethod
    def _namespaces() -> list[str]:
        unshare = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        if os.geteuid() != 0:
            unshare.append("--unshare-user")
        return unshare

    @staticmethod
    def reserve_uid() -> int | None:
        """A user for one sandbox that no other sandbox on this machine runs as, None when the grader is not root.

        The process limit counts per user, and a host's reset may signal every process of its user: two graders
        running at once (two instructors, parallel test files) must not share one. The reservation is an
        exclusive lock on a file per uid, held until this process exits.
        """
        if os.geteuid() != 0:
            return None
        for uid in range(FIRST_SANDBOX_UID, FIRST_SANDBOX_UID + SANDBOX_UIDS):
            lock = os.open(Path(tempfile.gettempdir()) / f"autograd-course-sandbox-{uid}.lock", os.O_CREAT | os.O_RDWR,
                           0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock)
                continue
            RESERVED_UID_LOCKS.append(lock)
            return uid
        raise SandboxUnavailable(f"all {SANDBOX_UIDS} sandbox users are in use by other graders")

    def _process_limit(self) -> int:
        if os.geteuid() == 0:
            return self.process_limit
        # Unprivileged, the limit counts every process of the instructor's user, not only the sandbox's.
        own = sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit() and _owned_by_me(entry))
        return own + self.process_limit

    def limits(self, process_limit: int | None) -> list[str]:
        """The prlimit prefix; no process limit where it would count processes outside the kernel's own.

        CPU time is limited per kernel by the kernel host (``cpu_time_limit``): a limit here would
        count the host's own time over the whole batch.
        """
        nproc = [f"--nproc={process_limit}"] if process_limit is not None else []
        return ["prlimit", f"--as={self.memory_limit}", *nproc, f"--fsize={self.file_size_limit}", "--core=0", "--"]

    def wrap(self, argv: list[str], folder: Path, env: dict[str, str], uid: int | None,
             tmp: Path | None = None) -> list[str]:
        """``argv`` in the sandbox, with ``folder`` writable and ``tmp`` (on the same size-limited scratch) as /tmp.

        Without ``tmp`` (the grader could not mount a scratch), /tmp is a tmpfs of its own limited to
        ``storage_limit``.
        """
        # /tmp as on any Linux (sticky, writable by all): torch.func's first use names a cache folder in it.
        private_tmp = ["--bind", str(tmp), "/tmp"] if tmp else ["--perms", "1777", "--size", str(self.storage_limit),
                                                                 "--tmpfs", "/tmp"]
        command = ["bwrap", *self._namespaces(), "--die-with-parent", "--new-session", *private_tmp,
                   "--proc", "/proc", "--dev", "/dev"]
        made = set()
        for path, bind in [*((path, "--ro-bind") for path in self.read_only_paths()), (str(folder), "--bind")]:
            # bubblewrap makes missing parent folders 0700, which the sandbox user could not enter.
            for parent in reversed(Path(path).parents[:-1]):
                if str(parent) not in made and str(parent) != "/tmp":
                    made.add(str(parent))
                    command += ["--perms", "0755", "--dir", str(parent)]
            command += [bind, path, path]
        for link, target in MERGED_USR_LINKS.items():
            if os.path.islink(link):
                command += ["--symlink", target, link]
        command += ["--chdir", str(folder), "--clearenv"]
        for name, value in env.items():
            command += ["--setenv", name, value]
        command += ["--", *self.limits(process_limit=self._process_limit())]
        if uid is not None:
            command += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                        "--inh-caps=-all", "--bounding-set=-all", "--"]
        return command + argv


class Unconfined(Sandbox):
    """``--unsafe``: the same limits and audit, but no namespaces; only for machines without bubblewrap."""

    confined = False

    def check_available(self) -> None:
        return None

    def wrap(self, argv: list[str], folder: Path, env: dict[str, str], uid: int | None,
             tmp: Path | None = None) -> list[str]:
        return ["env", "-i", *(f"{name}={value}" for name, value in env.items()),
                *(self.limits(process_limit=None) if shutil.which("prlimit") else []), *argv]


def _owned_by_me(entry: Path) -> bool:
    try:
        return entry.stat().st_uid == os.geteuid()
    except OSError:
        return False
