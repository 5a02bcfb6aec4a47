"""``grading/<id>/integrity.md``: the flagged submissions of an assignment and their findings, for a person to
review and regrade by hand in formgrader where a finding is innocent."""

from html import escape
from pathlib import Path


def write_integrity_report(path: Path, assignment: str, flagged: list) -> Path:
    """The report of ``flagged`` outcomes, written to ``path``."""
    lines = [f"# Integrity report: {assignment}", "",
             "Submissions whose code tried something the tests cannot allow. Each was scored 0;",
             "review the lines below and regrade by hand in formgrader where the finding is innocent.", ""]
    for outcome in flagged:
        # Markdown viewers render HTML: the findings quote the submission's code.
        lines += [f"## {escape(outcome.student, quote=False)}", "",
                  *(f"- {escape(str(finding), quote=False)}" for finding in outcome.findings), ""]
    if not flagged:
        lines.append("No findings.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
