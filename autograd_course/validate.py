"""``make validate NOTEBOOK=path``: the grader's answer policy and nbgrader's validator, with an exit code.

``nbgrader validate`` prints failures but always exits 0 (nbgrader issue #1908), so neither a
student's script nor GitHub Classroom can tell a pass from a fail. This command first checks the
answers against the policy ``make autograde`` enforces (the same function, on the same answers
and protected names), printing each finding with what to write instead; then runs nbgrader's
validator with the course's nbgrader_config.py, as JupyterLab's Validate button does. It exits 1
when there is a finding, a failing test or an edited locked cell.

Through that configuration the Validate button reports the same findings: ``policy_in_validation``
runs as nbgrader's Execute preprocessor starts a notebook, and fails every test cell with the
findings instead of running it (a finding scores the whole notebook 0 when it is graded).

Usage: python -m autograd_course.validate NOTEBOOK [NOTEBOOK ...]
"""

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.validator import Validator
from traitlets.config.loader import PyFileConfigLoader

from .course import this_course
from .kernels import ipc_socket_path
from .grading.assemble import assemble, is_answer, nbgrader_meta
from .grading.answer_checker import answer_findings
from .grading.findings import Finding
from .grading.protected import notebook_check_names, notebook_protected_names

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
POLICY_ERROR = "AnswerPolicyError"


def course_config():
    """The course's nbgrader_config.py, which JupyterLab's Validate button also reads."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(this_course().root)).load_config()


def validate(notebook: Path) -> dict:
    """nbgrader's verdict: {} when every test passes, else lists under 'failed', 'changed', 'type_changed'."""
    return Validator(config=course_config()).validate(str(notebook))


def policy_findings(notebook, folder: Path) -> list[Finding]:
    """The grader's findings for the answers of a notebook in ``folder``. When the folder is named after an
    assignment of this course, answers and protected names are taken as the grader takes them: assembled into
    the instructor's notebook, whose hidden tests may read more of its names. Any other notebook is judged on
    its own cells."""
    course = this_course()
    source_path, release_path = course.source_notebook(folder.name), course.student_notebook(folder.name)
    if source_path.is_file() and release_path.is_file():
        source = nbformat.read(source_path, as_version=4)
        release = nbformat.read(release_path, as_version=4)
        return answer_findings(assemble(notebook, source, release).answers, notebook_protected_names(source),
                               notebook_check_names(source))
    answers = {nbgrader_meta(cell).get("grade_id", cell.get("id", "?")): cell.source
               for cell in notebook.cells if is_answer(cell)}
    return answer_findings(answers, notebook_protected_names(notebook), notebook_check_names(notebook))


def describe(finding: Finding) -> str:
    """'ex1_answer line 2: uses getattr (code)' and, under it, what to write instead."""
    return f"{finding}\n    instead: {finding.advice}"


def policy_in_validation():
    """nbgrader Execute hooks (nbgrader_config.py): while nbgrader validates a notebook, every test cell fails
    with the policy's findings instead of running. Grading runs are left alone (nbgrader sets
    NBGRADER_EXECUTION=validate only while validating). Plain functions sharing one list, because traitlets
    deep-copies configured values, and with them the object of a bound method."""
    findings: list[Finding] = []

    def notebook_started(notebook, **_) -> None:
        validating = os.environ.get("NBGRADER_EXECUTION") == "validate"
        # The validator runs the notebook from its own folder.
        findings[:] = policy_findings(notebook, Path.cwd()) if validating else []

    def cell_started(cell, **_) -> None:
        if not findings or cell.cell_type != "code" or not nbgrader_meta(cell).get("grade"):
            return
        lines = [f"{POLICY_ERROR}: this test did not run: the answers break the grading rules "
                 "(a finding scores the whole notebook 0):"]
        lines += ["  " + describe(finding).replace("\n", "\n  ") for finding in findings]
        cell.outputs = [new_output("error", ename=POLICY_ERROR, evalue=lines[0], traceback=lines)]
        # nbclient skips a cell with this tag, keeping the outputs above (the Execute default tag).
        cell.metadata.setdefault("tags", []).append("skip-execution")

    return notebook_started, cell_started


def configure_validation(c) -> None:
    """An nbgrader config's settings for validating (the course's nbgrader_config.py, and each student's own on the
    hub, where nbgrader reads no course folder): the answer policy's findings in the test cells, and kernels on local
    IPC sockets in a private folder, so that ipykernel has no reason to warn about unencrypted TCP."""
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = ipc_socket_path("nbgrader-kernel")
    c.Execute.on_notebook_start, c.Execute.on_cell_start = policy_in_validation()


UNANSWERED = "Hint: an answer cell above this test still raises NotImplementedError; replace it with your code."


def teaching_lines(raw_error: str) -> str:
    """The end of a traceback: the exception line that carries the test's message."""
    lines = [line for line in ANSI_ESCAPE.sub("", raw_error).splitlines() if line.strip()]
    exception_at = max((i for i, line in enumerate(lines) if re.match(r"^\w+(Error|Exception|Mismatch|Broken)\b", line)),
                       default=len(lines) - 1)
    message = lines[exception_at:]
    if message and message[0].startswith("NotImplementedError"):
        message.append(UNANSWERED)
    return "\n".join(message)


def cell_names(notebook: Path) -> dict[str, str]:
    """nbgrader's results name a cell by its source; students know it by its grade id."""
    cells = nbformat.read(notebook, as_version=4).cells
    return {cell.source.strip(): cell.metadata.get("nbgrader", {}).get("grade_id", "?") for cell in cells}


def report(notebook: Path, findings: list[Finding], results: dict) -> str:
    if not findings and not results:
        return f"PASS {notebook}: every test passes and the answers keep the grading rules."
    lines = [f"FAIL {notebook}"]
    if findings:
        lines.append(f"  the answers break the grading rules ({len(findings)} finding(s)); graded like this, "
                     "the whole notebook scores 0:")
        lines += ["    " + describe(finding).replace("\n", "\n    ") for finding in findings]
    for cell in results.get("type_changed", []):
        lines.append(f"  a cell was changed from {cell['old_type']} to {cell['new_type']}; change it back:\n"
                     f"    {cell['source'][:80]}")
    for cell in results.get("changed", []):
        lines.append(f"  a locked cell was edited; restore it:\n    {cell['source'][:80]}")
    names = cell_names(notebook)
    for cell in results.get("failed", []):
        if cell["raw_error"].startswith(POLICY_ERROR):
            lines.append(f"  test cell {names.get(cell['source'], '?')} did not run: fix the findings above first")
        else:
            lines.append(f"  test cell {names.get(cell['source'], '?')} fails:\n    "
                         + teaching_lines(cell["raw_error"]).replace("\n", "\n    "))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = False
    for notebook in args.notebooks:
        try:
            findings = policy_findings(nbformat.read(notebook, as_version=4), notebook.resolve().parent)
            results = validate(notebook)
        except Exception as error:  # unreadable JSON, a missing file, a kernel that would not start ...
            print(f"ERROR {notebook}: cannot be validated: {type(error).__name__}: {error}")
            failed = True
            continue
        print(report(notebook, findings, results))
        failed |= bool(findings or results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
