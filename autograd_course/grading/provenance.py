"""Whose code it is: the instructor's (trusted) or the submission's, for a file name or a stack of frames.

Code is trusted only if its code object comes from a file under the read-only roots (standard library, the
environment, the course package, or frozen modules) or is a cell whose source digest is the instructor's.
Everything else is the submission's wherever it sits on the stack: answer cells, and code compiled at run time
from strings.
"""

import linecache
import os
import sys

from .cells import cell_digest, is_cell_file
from .snapshots import plain


def caller():
    """The frame that raised the audited event: past the hook, ``Guard.in_guard`` and the judgement that calls
    this (so it is called directly from the judgement the hook ran)."""
    return sys._getframe(4)


class Provenance:
    """Which code is the instructor's, remembered per file name (a file's verdict never changes within a run)."""

    def __init__(self, trusted_cells: set[str], read_only_roots: tuple[str, ...]):
        self.trusted_cells = trusted_cells
        self.read_only_roots = read_only_roots
        self.trusted_files: dict[str, bool] = {}
        self.cell_hashes: dict[str, str] = {}

    def cell_hash(self, filename: str) -> str:
        if filename not in self.cell_hashes:
            self.cell_hashes[filename] = cell_digest("".join(linecache.getlines(filename)))
        return self.cell_hashes[filename]

    def trusted(self, filename: str) -> bool:
        """Instructor code: a file under the read-only roots, a frozen module, or a cell with an instructor digest."""
        trusted = self.trusted_files.get(filename)
        if trusted is None:
            if is_cell_file(filename):
                trusted = self.cell_hash(filename) in self.trusted_cells
            else:
                trusted = filename.startswith("<frozen ") or (filename.startswith("/") and os.path.realpath(
                    filename).startswith(self.read_only_roots))
            self.trusted_files[filename] = trusted
        return trusted

    def submission_frame(self, frame, innermost_only: bool):
        """The submission's frame on this stack: anywhere, or only as the innermost code (frozen import glue aside)."""
        while frame is not None:
            filename = frame.f_code.co_filename
            if not self.trusted(filename):
                return frame
            if innermost_only and not filename.startswith("<frozen"):
                return None
            frame = frame.f_back
        return None

    def where(self, frame, detail: str) -> tuple[str | None, int | None, str]:
        """The cell (its digest) and line a submission's frame runs in, and the detail saying when that frame is
        code compiled at run time rather than the cell itself."""
        cell = line = None
        cell_frame = frame
        while cell_frame is not None and not is_cell_file(cell_frame.f_code.co_filename):
            cell_frame = cell_frame.f_back
        if cell_frame is not frame:
            detail = f"{detail} (in code compiled at run time, {plain(frame.f_code.co_filename)})"
        if cell_frame is not None:
            cell, line = self.cell_hash(cell_frame.f_code.co_filename), cell_frame.f_lineno
        return cell, line, detail
