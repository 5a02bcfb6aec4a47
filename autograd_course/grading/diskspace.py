"""The grader's own writes on a full disk: room checked before each write of grades, and a clean stop without it.

The gradebook, the outcome records and the autograded notebooks live in the course folder. The grader checks
that there is room for them before a batch and before each submission's grades, and stops with ``DiskFull``
when there is not, or when a write fails for want of space anyway (another program filled the disk). Nothing
committed is lost by stopping: SQLite rolls back a transaction it could not write, an outcome is replaced
atomically, and a submission without a new outcome is graded again by the next run.
"""

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .resources import size_text

RESERVE_BYTES = 32 * 2**20  # a gradebook transaction and its journal, an outcome, a graded notebook, with margin
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
FULL_MESSAGES = ("database or disk is full", "No space left on device")  # SQLite's SQLITE_FULL, and ENOSPC's text


class DiskFull(BaseException):
    """The course folder has no room for the grader's own writes; every grade committed so far is kept.

    Like ``KeyboardInterrupt``, not an ``Exception``: it stops the batch, past the handlers that record one
    submission's failure as its outcome.
    """


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged program may still write on the filesystem holding ``path`` (or its nearest parent)."""
    while not path.exists():
        path = path.parent
    status = os.statvfs(path)
    return status.f_bavail * status.f_frsize


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def check_room(paths: Iterable[Path], needed: int) -> None:
    """Raise ``DiskFull`` unless the filesystem of each of ``paths`` has ``needed`` bytes free."""
    for path in paths:
        free = free_bytes(path)
        if free < needed:
            raise DiskFull(f"only {size_text(free)} free for {path}, and the grader needs {size_text(needed)} to "
                           f"write the next grades")


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, is a write that found no space (OSError or SQLite)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
            return True
        if any(message in str(error) for message in FULL_MESSAGES):
            return True
        error = error.__cause__ or error.__context__
    return False


@contextlib.contextmanager
def stop_when_full() -> Iterator[None]:
    """Turn a write that found no space into ``DiskFull``; any other error passes unchanged."""
    try:
        yield
    except Exception as error:
        if is_disk_full(error):
            raise DiskFull(f"a write found no space: {error}") from error
        raise
