"""A finding: one thing a submission did that the tests cannot allow, where it did it and what to do instead."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    cell: str
    line: int
    rule: str
    code: str
    advice: str = ""

    def __str__(self) -> str:
        return f"{self.cell} line {self.line}: {self.rule} ({self.code})"
