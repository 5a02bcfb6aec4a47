"""The guard's channel to the grader: sealed JSON lines, written in the kernel and verified outside it.

The guard draws a random key before any student code exists, sends it as the channel's first line, and from then
on keeps it only inside a keyed BLAKE2 state (``Seal``), which Python code outside the hook cannot reach. Every
record carries a sequence number and a MAC chained over the previous record. A forged, malformed, reordered or
missing line breaks the chain (``Channel``); a channel closed, redirected or silenced leaves test cells without
their ``ran`` records: each of these is a finding, never a pass.
"""

import hashlib
import hmac
import json
import os

from .findings import AFTER_THE_RUN, Finding

MAX_REPORTS = 200  # findings; evidence records are never capped
EVIDENCE = ("started", "ran")  # an instructor cell began; a test cell ran to its end marker
MAX_RECORD_BYTES = 3000  # below PIPE_BUF: one record is one atomic write


def channel_problem(rule: str, code: str = "") -> Finding:
    return Finding(AFTER_THE_RUN, 0, rule, code)


class Seal:
    """A MAC chained over every record; the key lives only in BLAKE2's C state."""

    def __init__(self, key: bytes):
        self._state = hashlib.blake2b(key=key, digest_size=16)
        self.previous = b""
        self.seq = 0

    def line(self, record: dict) -> bytes:
        self.seq += 1
        body = json.dumps({"seq": self.seq, **record}, sort_keys=True)
        mac = self._state.copy()
        mac.update(self.previous + body.encode())
        self.previous = mac.digest()
        return (json.dumps({"body": body, "mac": self.previous.hex()}) + "\n").encode()


class Reporter:
    """The kernel's end: the key as the first line, then sealed records (evidence and capped findings)."""

    def __init__(self, channel: int, provenance):
        self.channel = channel
        self.provenance = provenance
        self.reported = 0
        key = os.urandom(32)
        self._write((json.dumps({"key": key.hex()}) + "\n").encode())
        self.seal = Seal(key)
        del key

    def _write(self, line: bytes) -> None:
        try:
            os.write(self.channel, line)
        except OSError:
            pass  # a closed or redirected channel: the grader misses the records that follow, which is a finding

    def emit(self, record: dict) -> None:
        """One sealed record (details are cut to 300 characters, so a line stays under MAX_RECORD_BYTES)."""
        self._write(self.seal.line(record))

    def report(self, kind: str, event: str, detail: str, frame, next_cell: str | None = None) -> None:
        """One finding; ``next_cell`` names the cell about to run when a change is found between cells."""
        if self.reported >= MAX_REPORTS:
            return
        self.reported += 1
        cell = line = None
        if frame is not None:
            cell, line, detail = self.provenance.where(frame, detail)
        self.emit({"kind": kind, "event": event, "detail": detail[:300], "cell": cell, "line": line,
                   "next_cell": next_cell})


class Channel:
    """The grader's reading of the guard's lines: verified records, and what was wrong with the rest."""

    def __init__(self, lines: list[bytes], overflowed: bool = False):
        self.records: list[dict] = []
        self.problems: list[Finding] = []
        if overflowed:
            self.problems.append(channel_problem("the guard's channel was flooded"))
        if not lines:
            self.problems.append(channel_problem("the guard's channel was silent: no key arrived"))
            return
        try:
            hello = json.loads(lines[0])
            state = hashlib.blake2b(key=bytes.fromhex(hello["key"]), digest_size=16)
        except (ValueError, KeyError, TypeError):
            self.problems.append(channel_problem("the guard's channel did not start with its key"))
            return
        previous = b""
        for number, line in enumerate(lines[1:], start=1):
            try:
                sealed = json.loads(line)
                body, mac = sealed["body"], bytes.fromhex(sealed["mac"])
                expected = state.copy()
                expected.update(previous + body.encode())
                record = json.loads(body)
            except (ValueError, KeyError, TypeError, AttributeError):
                self.problems.append(channel_problem("a malformed line on the guard's channel", f"line {number}: {line[:120]!r}"))
                return
            if not hmac.compare_digest(expected.digest(), mac) or record.get("seq") != number:
                self.problems.append(channel_problem("a forged or out-of-order line on the guard's channel", f"line {number}"))
                return
            previous = mac
            self.records.append(record)

    @property
    def findings(self) -> list[dict]:
        return [record for record in self.records if record.get("kind") not in EVIDENCE]

    def evidence(self, kind: str) -> list[str]:
        """The cells of the ``started`` or ``ran`` records, in the order they came."""
        return [record.get("cell") for record in self.records if record.get("kind") == kind]
