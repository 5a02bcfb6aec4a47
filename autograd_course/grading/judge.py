"""Points decided outside the kernel: each judged test cell's cases, from the values the kernel sent out.

For a notebook with a module of checks (``autograd_course.exercises``), every test cell is a list of calls
(``test_calls``), and every call sent out one record of what the answer returned (``record``, a display
output of the test cell). After the run, here in the grader's process, ``Judge.judge`` takes those
records out of the notebook and holds them against the cases the grader read from ``source/``: one record per
case, exactly once, in order, for the same check and the same inputs. Each case is then judged by the check's own
``judge``, with expected values computed here, from the inputs, by code that never ran in the sandbox.

A test cell the kernel reported as passed earns its points only if every case passes here too; otherwise it gets
the message of its first failing case as an error output, which scores it 0 in nbgrader. A hidden case failing
is an ordinary wrong answer (the kernel never judged it). A visible case the kernel passed but that fails here,
or records missing, duplicated, out of order or malformed after a passing cell, mean the kernel's verdict was not
the checks' own: that is a finding.
"""

from dataclasses import dataclass

from nbformat import NotebookNode
from nbformat.v4 import new_output

from ..cases import Check, verdict
from ..checks import same_value
from ..exercises import checks_of
from ..record import RECORD_MIME
from ..values import BadValue, decode
from .assemble import nbgrader_meta
from .cells import cell_digest
from .findings import Finding
from .test_calls import Case, NotJudged, cases_of, kernel_version


@dataclass(frozen=True)
class Received:
    """One record as the grader decoded it."""

    check: str
    inputs: tuple
    seen: dict


def receive(record) -> Received:
    """A record from the kernel, decoded; ``BadValue`` for anything that is not one."""
    if not isinstance(record, dict) or set(record) != {"check", "inputs", "seen"} or type(record["check"]) is not str \
            or type(record["inputs"]) is not list or not isinstance(record["seen"], dict):
        raise BadValue("not a record of a case's values")
    return Received(record["check"], tuple(decode(value) for value in record["inputs"]),
                    {str(key): decode(value) for key, value in record["seen"].items()})


def take_records(cell: NotebookNode) -> list:
    """The cell's records, removed from its outputs (they are for the grader, not for the student)."""
    records = [output.data[RECORD_MIME] for output in cell.get("outputs", [])
               if output.get("output_type") == "display_data" and RECORD_MIME in output.get("data", {})]
    cell.outputs = [output for output in cell.get("outputs", []) if RECORD_MIME not in output.get("data", {})]
    return records


def failure(message: str) -> NotebookNode:
    return new_output("error", ename="AnswerMismatch", evalue=message, traceback=[f"AnswerMismatch: {message}"])


class Judge:
    """One judged assignment: its test cells' cases, read from ``source/``, and its module of checks."""

    def __init__(self, source: NotebookNode, checks):
        self.checks = checks
        self.cases: dict[str, list[Case]] = {}
        self.kernel_versions: dict[str, str] = {}  # digest of a test cell as shipped -> the source the kernel runs
        for cell in source.cells:
            if cell.cell_type == "code" and nbgrader_meta(cell).get("grade"):
                grade_id = nbgrader_meta(cell)["grade_id"]
                try:
                    self.cases[grade_id] = cases_of(cell.source)
                except (NotJudged, SyntaxError) as error:
                    raise NotJudged(f"{grade_id}: {error}") from None
                unknown = {case.check for case in self.cases[grade_id]} - set(self.known_checks())
                if unknown:
                    raise NotJudged(f"{grade_id}: {', '.join(sorted(unknown))} is not a check of {checks.__name__}")
                self.kernel_versions[cell_digest(cell.source)] = kernel_version(cell.source)

    @classmethod
    def for_assignment(cls, assignment_id: str, source: NotebookNode) -> "Judge | None":
        """The assignment's judge, or None when its test cells still check inside themselves."""
        checks = checks_of(assignment_id)
        return None if checks is None else cls(source, checks)

    def known_checks(self) -> dict[str, Check]:
        return {name: value for name, value in vars(self.checks).items() if isinstance(value, Check)}

    def judge(self, notebook: NotebookNode) -> list[Finding]:
        """Judge every test cell of an executed notebook in place; the findings, for the whole notebook."""
        findings = []
        for cell in notebook.cells:
            records = take_records(cell) if cell.cell_type == "code" else []
            grade_id = nbgrader_meta(cell).get("grade_id")
            passed_in_kernel = not any(output.output_type == "error" for output in cell.get("outputs", []))
            if grade_id in self.cases and passed_in_kernel:
                message, contradiction = self.first_failure(self.cases[grade_id], records)
                if message is not None:
                    cell.outputs.append(failure(message))
                if contradiction:  # the case and its message are in the cell; the finding names what kind it is
                    findings.append(Finding(grade_id, 0, f"the kernel reported it passed, but {contradiction}"))
        return findings

    def first_failure(self, cases: list[Case], records: list) -> tuple[str | None, str | None]:
        """The message of the first case that fails, and how it contradicts the kernel's pass of the cell (None
        for a hidden case the kernel never judged)."""
        unmatched = "the values it sent out do not match its cases"
        if len(records) != len(cases):
            return f"the grader received values for {len(records)} of its {len(cases)} cases", unmatched
        checks = self.known_checks()
        for case, record in zip(cases, records):
            try:
                received = receive(record)
            except BadValue as error:
                return f"the values sent for {case.check} are malformed: {error}", unmatched
            if received.check != case.check or not same_value(received.inputs, case.inputs):
                return f"the values received are for {received.check}{received.inputs}, not for the case " \
                       f"{case.check}{case.inputs}", unmatched
            message = verdict(checks[case.check], received.seen, case.inputs, case.options)
            if message is not None:
                return message, None if case.hidden else "a visible case fails when its values are judged outside it"
        return None, None
