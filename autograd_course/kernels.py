"""Kernels on IPC sockets: ipykernel then prints no "running over TCP without encryption" warning.

A Unix socket's path may be at most 107 bytes, and Jupyter's runtime folder can be deeper than that allows
(under a test's temporary folder, say), so the sockets go to a private folder of their own in the system's
temporary folder, removed when the process exits.
"""

import atexit
import functools
import shutil
import tempfile
import uuid
from pathlib import Path


@functools.cache
def socket_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="kernels-"))  # mode 0700: no other user can reach the sockets
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def ipc_socket_path(name: str) -> str:
    """The ``ip`` of a kernel manager with ``transport = "ipc"``: jupyter_client appends a number per socket."""
    return str(socket_folder() / f"{name}-{uuid.uuid4().hex[:8]}")
