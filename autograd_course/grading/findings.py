"""A finding: one thing a submission did that the tests cannot allow, where it did it and what to do instead.

Findings are records from the check that makes them to every page that shows them (``make validate``, the
outcome's JSON, ``integrity.md``, the class report, feedback): each page renders the fields, and nobody reads a
rule back out of a rendered text. ``rule`` says what was broken in the same words for every submission that broke
it, which is what the class report counts by; ``place`` says where (a cell, ``found when ex1_tests ran``, ``after
the run``), ``line`` the line in that cell (0: none), ``code`` the submission's own code or the event's detail.
"""

from dataclasses import asdict, dataclass, fields

AFTER_THE_RUN = "after the run"


@dataclass(frozen=True)
class Finding:
    place: str
    line: int
    rule: str
    code: str = ""
    advice: str = ""

    def __str__(self) -> str:
        where = f"{self.place} line {self.line}" if self.line else self.place
        return f"{where}: {self.rule}" + (f" ({self.code})" if self.code else "")

    def record(self) -> dict:
        """As the outcome's JSON stores it."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> "Finding":
        """A stored record; a record of another shape is a ``ValueError`` (an outcome that cannot be read)."""
        names = {field.name for field in fields(cls)}
        if not isinstance(record, dict) or not {"place", "line", "rule"} <= set(record) <= names:
            raise ValueError(f"not a finding: {record!r:.120}")
        finding = cls(**record)
        if not (isinstance(finding.line, int) and all(isinstance(getattr(finding, name), str)
                                                       for name in names - {"line"})):
            raise ValueError(f"not a finding: {record!r:.120}")
        return finding


def guard_finding(report: dict, cell_names: dict[str, str]) -> Finding:
    """A report of the in-kernel guard as a finding: 'ex1_answer line 2: escape open /etc/passwd', or 'found when
    ex1_tests ran: tamper replaced torch.isclose'. What the guard saw touched is part of the rule (the class report
    counts 'tamper replaced torch.isclose' apart from other replacements). The report comes from the kernel: every
    field is taken as plain text."""
    if report.get("cell"):
        where = cell_names.get(str(report["cell"]), "an answer cell")
        line = report["line"] if isinstance(report.get("line"), int) and report["line"] > 0 else 0
    else:
        where, line = f"found when {cell_names.get(str(report.get('next_cell')), 'a cell')} ran", 0
    return Finding(where, line, f"{report.get('kind')} {report.get('event')} {report.get('detail', '')}".strip())
