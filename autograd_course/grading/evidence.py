"""The grader's reading of the guard's channel, and the evidence held against what the kernel replied.

The guard's channel is read here, from outside the sandbox, while the kernel runs (``ChannelReader``), verified
(``channel.Channel``) and judged after the run (``judge_evidence``): a test cell that the kernel said passed earns
its points only if the guard's sealed ``ran`` record for it arrived, once and in order.
"""

import os
import threading

from .channel import MAX_RECORD_BYTES, Channel
from .execute import TrustedCell
from .findings import AFTER_THE_RUN, Finding

MAX_CHANNEL_LINES = 5_000  # far more than a run's evidence and capped findings; more is a flood


class ChannelReader(threading.Thread):
    """The guard's lines until every holder of the pipe's other end (the kernel and its children) is gone."""

    def __init__(self, pipe_end: int):
        super().__init__(daemon=True)
        self.pipe_end = pipe_end
        self.lines: list[bytes] = []
        self.overflowed = False

    def run(self) -> None:
        with os.fdopen(self.pipe_end, "rb") as channel:
            while line := channel.readline(MAX_RECORD_BYTES + 1):
                if len(self.lines) < MAX_CHANNEL_LINES:
                    self.lines.append(line)
                else:
                    self.overflowed = True


def judge_evidence(trusted: list[TrustedCell], channel: Channel) -> list[Finding]:
    """Findings where the kernel's replies and the guard's evidence disagree.

    Every instructor cell that the kernel reported as finished (or that timed out) needs its
    ``started`` record, and every test cell reported as passed its ``ran`` record, in notebook
    order. A cell that failed or never ran may lack them (it scores 0 anyway); a record left over
    is a cell that ran where or when it should not have.
    """
    findings = []
    for kind, cells, needs in (("started", trusted, ("ok", "timeout")),
                               ("ran", [cell for cell in trusted if cell.test], ("ok",))):
        records, position = channel.evidence(kind), 0
        for cell in cells:
            if position < len(records) and records[position] == cell.digest:
                position += 1
            elif cell.status in needs:
                reply = "reported it finished" if cell.status == "ok" else "timed out on it"
                findings.append(Finding(cell.name, 0, f"the kernel {reply}, but the guard has no evidence that its "
                                        f"code {'started' if kind == 'started' else 'ran to the end'}"))
        if position < len(records):
            findings.append(Finding(AFTER_THE_RUN, 0, f"the guard saw instructor cells {kind} out of their place "
                                    f"in the notebook", f"{len(records) - position} cell(s)"))
    return findings
