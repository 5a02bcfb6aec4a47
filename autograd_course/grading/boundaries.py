"""The guard at cell boundaries: which cell runs, the evidence that instructor cells started and test cells ran,
and the watches (``watches``) compared whenever a cell starts and when a test cell ends.

IPython executes a cell one top-level statement at a time, each an ``exec`` audit event carrying the statement's
code object. ``CellWatch`` writes a ``started`` record when an instructor cell (locked or test) begins, and follows
each test cell statement by statement; when the grader's end marker (``cells.end_marker``) starts, every statement
before it has run to its end, in order, from a cell whose source hashes to the shipped digest, with no submission
code on the stack, and only then does it write a ``ran`` record for that digest.
"""

import linecache
import sys

from .cells import first_line, is_cell_file, statement_lines
from .provenance import caller
from .watches import FunctionWatch, MachineryWatch, NamespaceWatch, TorchStateWatch


class CellWatch:
    """Follows the cells the kernel runs; its ``exec`` is called by the hook through ``Guard.in_guard``."""

    def __init__(self, reporter, provenance, trusted_cells: set[str], tests: set[str], dispatcher: str,
                 protected: set[str]):
        self.reporter = reporter
        self.provenance = provenance
        self.trusted_cells = trusted_cells
        self.tests = tests
        self.statements: dict[str, list[int]] = {}
        self.progress: dict[str, int | None] = {}
        self.current_cell: str | None = None
        self.current_digest: str | None = None
        self.functions = FunctionWatch(reporter)
        self.machinery = MachineryWatch(reporter)
        self.namespace = NamespaceWatch(reporter, protected)
        self.torch = TorchStateWatch(reporter, dispatcher)

    def exec(self, code) -> None:
        filename = code.co_filename
        if not is_cell_file(filename):
            frame = self.provenance.submission_frame(caller(), innermost_only=True)
            if frame is not None:
                self.reporter.report("tamper", "exec", "exec() of generated code", frame)
            return
        digest = self.provenance.cell_hash(filename)
        submission = self.provenance.submission_frame(caller(), innermost_only=False)
        if submission is not None:
            self.reporter.report("tamper", "exec", "a cell's code run from the submission's code", submission)
            if digest in self.tests:
                self.progress[digest] = None
            return
        if filename != self.current_cell:
            self.between_cells(self.current_digest, digest)
            self.current_cell, self.current_digest = filename, digest
            if digest in self.trusted_cells:
                self.reporter.emit({"kind": "started", "cell": digest})
        if digest in self.tests:
            self.test_statement(code, filename, digest)

    def test_statement(self, code, filename: str, digest: str) -> None:
        """Follow a test cell statement by statement; its last one (the marker) means every other one ran."""
        if digest not in self.statements:
            self.statements[digest] = statement_lines("".join(linecache.getlines(filename)))
        lines, line = self.statements[digest], first_line(code)
        index = 0 if line == lines[0] else self.progress.get(digest)
        if index is None or index >= len(lines) or line != lines[index]:
            self.reporter.report("tamper", "exec", f"a statement of a test cell ran out of order (line {line})", None,
                                 digest)
            self.progress[digest] = None
            return
        self.functions.check(digest)
        if index < len(lines) - 1:
            self.progress[digest] = index + 1
            return
        self.progress[digest] = None
        self.between_cells(digest, digest)
        self.reporter.emit({"kind": "ran", "cell": digest})

    def between_cells(self, previous: str | None, next_cell: str) -> None:
        """What must hold whenever a cell starts (and when a test cell ends)."""
        # Changes made while an answer cell or a test cell (which calls the answers) ran are the submission's;
        # a locked cell may change what it likes.
        by_submission = previous is not None and (previous in self.tests or previous not in self.trusted_cells)
        self.functions.check(next_cell)
        shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
        if shell is not None:
            self.machinery.check(shell, next_cell, by_submission)
            self.namespace.check(shell.user_ns, next_cell, by_submission)
        self.torch.check(next_cell, by_submission)
        if next_cell in self.tests and previous != next_cell:
            self.torch.check_dispatcher(next_cell)
