"""The kernel host: one per worker slot, inside the sandbox, forking a fresh kernel per submission.

Starting a kernel the ordinary way costs a new Python process that imports torch (about 1.4 s
here) before the first cell runs. The host pays that once: it imports what every graded kernel
needs, then, for each submission, forks a child that installs the guard and becomes an
ipykernel. The grader drives it over a Unix socket (``--control-fd``), one JSON request per
message: ``start`` (with the guard's report pipe attached), ``poll``, ``signal`` and ``reset``.

Isolation between submissions does not weaken:

- every child is forked from a host that has never run student code, so no state carries over;
- the child closes the control socket, and the host is made non-dumpable, so a child can neither
  talk to the grader as the host nor read or write the host's memory (ptrace, /proc/PID/mem);
- ``reset`` kills every process in the sandbox but the host (``kill(-1)`` reaches only this
  sandbox's PID namespace) and empties ``/tmp`` and ``/dev/shm`` before the next fork; the
  grader then empties the writable folder and seeds it again. A child that kills the host only ends its own run:
  the grader starts a new sandbox.

Usage (by the grader): python -m autograd_course.grading.kernel_host --control-fd FD --work DIR [--confined]
"""

import argparse
import contextlib
import ctypes
import importlib
import json
import os
import resource
import shutil
import signal
import socket
import sys
import time
import traceback

from . import guard, traceback_lexer, watches

PR_SET_DUMPABLE = 4
MESSAGE_BYTES = 1 << 20


class HostDied(RuntimeError):
    """The kernel host is gone (a submission killed it, or it could not start)."""


# What a graded kernel imports after the fork unless the host has: IPython's shell at start-up (its history database,
# debugger, inspector, magics) and its traceback display at the first error (stack_data, pygments); the guard's
# snapshot of the course's test modules (watches.COURSE_TEST_MODULES). Imported here, each kernel saves their import
# (about 0.5 s for a notebook with an error, measured by make bench's breakdown); only trusted code runs meanwhile.
KERNEL_IMPORTS = ("IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
                  "IPython.core.logger", "IPython.extensions.storemagic", "IPython.utils.wildcard", "sqlite3",
                  "faulthandler", "psutil", "tornado.platform.asyncio", "stack_data", "executing", "asttokens",
                  "pure_eval", "pygments.lexers.python", "pygments.formatters.terminal256", "pygments.formatters.html",
                  "pygments.filters", "pygments.styles", "pygments.console", *watches.COURSE_TEST_MODULES)


def preload() -> None:
    """Import, once, everything a graded kernel would otherwise import on every start."""
    import pdb  # noqa: F401 - ipykernel's init_pdb
    import IPython  # noqa: F401
    import ipykernel.debugger  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import numpy.testing  # noqa: F401
    import torch
    import torch.testing  # noqa: F401

    import autograd_course.checks  # noqa: F401

    for module in KERNEL_IMPORTS:
        importlib.import_module(module)
    torch.set_num_threads(1)
    # torch.func's first use registers kernels for aten operators (and imports torch.distributed): done here, the
    # guard's snapshot of the dispatcher (watches.dispatcher_registrations) already holds them.
    import torch.func

    point = torch.zeros(2, requires_grad=True)
    torch.func.vmap(torch.sin)(point)
    torch.func.jacrev(torch.sin)(point)
    torch.func.grad(lambda values: values.sin().sum())(point)
    torch.autograd.functional.jacobian(torch.sin, point)
    traceback_lexer.install()
    warm_traceback_display()


def warm_traceback_display() -> None:
    """Show one error from torch's backward as a kernel does, so that every kernel inherits what IPython's traceback
    display (stack_data) reads and parses of torch's files on a first error: about 1 s of a notebook whose cells show
    an error, on a loaded machine. Trusted code only, before any student code exists."""
    import torch
    from IPython.core.ultratb import AutoFormattedTB

    point = torch.ones(1, requires_grad=True)
    value = (point * point).sum()
    value.backward()
    try:
        value.backward()  # a second backward through freed buffers: the error this course's notebooks show
    except RuntimeError:
        AutoFormattedTB(mode="Context").structured_traceback(*sys.exc_info())


def become_kernel(request: dict, report_fd: int, dispatcher: str) -> None:
    """In the forked child: a private session, the limits, the guard, then ipykernel; never returns.

    ``dispatcher`` is torch's operator registrations as the host saw them, before any student code.
    """
    try:
        os.setsid()
        folder = request["folder"]
        log = os.open(os.path.join(folder, ".kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        for target, source in ((0, null), (1, log), (2, log)):
            os.dup2(source, target)
        os.closerange(3, report_fd)
        os.closerange(report_fd + 1, 1 << 16)
        # CPU time is counted per process: a forked child starts from zero with the full allowance.
        cpu = request["cpu_time_limit"]
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        os.chdir(folder)
        os.environ.clear()
        os.environ.update(request["env"], COURSE_GUARD_FD=str(report_fd))
        guard.install(dispatcher)
        from ipykernel.kernelapp import IPKernelApp

        # The history in memory, as Jupyter starts kernels: not a database written after every cell.
        IPKernelApp.launch_instance(argv=["-f", request["connection_file"], "--HistoryManager.hist_file=:memory:"])
    except BaseException:
        traceback.print_exc()  # into .kernel.log, which the grader quotes when a kernel does not start
        os._exit(1)
    os._exit(0)


def empty(folder: str, keep: str) -> None:
    """Remove everything in ``folder`` but ``keep`` (the grader's folder, bound in, which it empties itself)."""
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if path == keep:
            continue
        if keep.startswith(path + os.sep):
            empty(path, keep)
        elif os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.remove(path)


class Host:
    """The request loop; at most one kernel (and whatever it spawned) is alive at a time."""

    def __init__(self, control: socket.socket, confined: bool, work: str, dispatcher: str):
        self.control = control
        self.dispatcher = dispatcher
        self.confined = confined
        self.work = work
        self.child: int | None = None
        self.status: int | None = None

    def serve(self) -> None:
        while True:
            message, fds, _, _ = socket.recv_fds(self.control, MESSAGE_BYTES, 1)
            if not message:
                self.reset()
                return
            request = json.loads(message)
            reply = getattr(self, f"op_{request['op']}")(request, fds)
            self.control.send(json.dumps(reply).encode())

    def op_start(self, request: dict, fds: list[int]) -> dict:
        self.reset()
        pid = os.fork()
        if pid == 0:
            self.control.close()
            become_kernel(request, fds[0], self.dispatcher)
        os.close(fds[0])
        self.child, self.status = pid, None
        return {"pid": pid}

    def op_poll(self, request: dict, fds: list[int]) -> dict:
        if self.child is not None and self.status is None:
            pid, status = os.waitpid(self.child, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return {"status": self.status}

    def op_signal(self, request: dict, fds: list[int]) -> dict:
        """Signal the kernel's session; SIGKILL answers once the kernel is reaped, so its end is seen at once."""
        if self.child is not None and self.status is None:
            try:
                os.killpg(self.child, request["signum"])
            except ProcessLookupError:
                pass
            if request["signum"] == signal.SIGKILL:
                self.status = os.waitstatus_to_exitcode(os.waitpid(self.child, 0)[1])
        return {}

    def op_reset(self, request: dict, fds: list[int]) -> dict:
        self.reset()
        return {"reset": True}

    def reset(self) -> None:
        """Nothing from the last submission survives: no process, no file in /tmp or /dev/shm."""
        if self.confined:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.kill(-1, signal.SIGKILL)  # every process of this PID namespace but init and the host
                except ProcessLookupError:
                    break
                self._reap()
                time.sleep(0.005)
            for scratch in ("/tmp", "/dev/shm"):
                empty(scratch, keep=self.work)
        elif self.child is not None:
            try:
                os.killpg(self.child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._reap()
        self.child = None

    @staticmethod
    def _reap() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--confined", action="store_true", help="alone in a PID namespace: reset may kill(-1)")
    parser.add_argument("--work", required=True, help="the folder the grader binds in and empties itself")
    args = parser.parse_args()
    control = socket.socket(fileno=args.control_fd)
    preload()
    dispatcher = watches.dispatcher_registrations()  # once here, not in every kernel
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    control.send(json.dumps({"ready": True}).encode())
    Host(control, args.confined, os.path.realpath(args.work), dispatcher).serve()


if __name__ == "__main__":
    sys.exit(main())
