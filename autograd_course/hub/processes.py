"""Ending what the class runs, and knowing it has ended: a killed process exists until it is reaped, and a port
accepts connections until its process is gone, so each step waits until it holds (with a deadline)."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable

# A server's process name (/proc/PID/comm, 15 characters), which a server that has exited but is not yet reaped
# (a zombie, until init takes it from the hub that started it) still has.
SERVER_PROCESS_NAME = "jupyterhub-singleuser"[:15]


def until(condition: Callable[[], bool], seconds: float, every: float = 0.2) -> bool:
    """Whether ``condition`` came to hold within ``seconds``, asking every ``every`` seconds."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)
    return True


def accepts(ip: str, port: int) -> bool:
    """Whether something accepts connections on the port (binding would also fail on closed connections' TIME_WAIT)."""
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((ip, port)) == 0


def has_processes(user: str, name: str | None = None) -> bool:
    """Whether the user has a process (named ``name``), dead or alive."""
    return subprocess.run(["pgrep", "-u", user, *(["-x", name] if name else [])], capture_output=True).returncode == 0


def end_servers(users: list[str], seconds: float = 30) -> None:
    """The users' servers (or the service) that outlived the hub: asked to stop, waited for until none is left, dead
    or alive, and killed at the end."""
    for user in users:
        subprocess.run(["pkill", "-TERM", "-u", user, "-f", "jupyterhub-singleuser"], check=False)
    if not until(lambda: not any(has_processes(user, SERVER_PROCESS_NAME) for user in users), seconds):
        for user in users:
            subprocess.run(["pkill", "-KILL", "-u", user, "-x", SERVER_PROCESS_NAME], check=False)


def end_process_group(group: int, seconds: float = 30) -> None:
    """Until no process of the group is left, dead or alive (the proxy can outlive the hub by a moment); what is left
    at the end is killed."""
    def gone(signum: int) -> bool:
        try:
            os.killpg(group, signum)
        except ProcessLookupError:
            return True
        return False

    if not gone(signal.SIGTERM) and not until(lambda: gone(0), seconds):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
