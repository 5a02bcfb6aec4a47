"""The trusted grader on the adversarial corpus: every case graded in one batch beside honest work."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from adversarial_corpus import CASES, KERNEL_AT_WORK
from autograd_course.grading.execute import TrustedCell, TrustedNotebookClient, output_node
from autograd_course.grading import student_ids
from autograd_course.grading.batch import TrustedAutograder
from autograd_course.grading.feedback import HideHiddenTests
from autograd_course.grading.channel import Channel, Seal
from autograd_course.grading.sandbox import Unconfined
from autograd_course.grading.outputs import MAX_DATA_CHARACTERS, MAX_TEXT_CHARACTERS, MAX_TRACEBACK_LINES, capped
from autograd_course.grading.evidence import judge_evidence
from autograd_course.grading.findings import AFTER_THE_RUN, Finding
from autograd_course.validate import cell_names, policy_findings, validate
from grading_course import (ASSIGNMENT, SHIPPED, SHIPPED_TEXT, findings_said, grade, gradebook_scores, make_course, outcome, solved,
                            student_version, submit)

@pytest.fixture(scope="module")
def graded_corpus(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("corpus"))
    solved_notebook = solved(root)
    for case in CASES:
        content = case.build(solved_notebook, root)
        submit(root, case.name, nbformat.read(student_version(root), as_version=4) if content is None else content)
        for name, text in case.files:
            path = submitted_notebook(root, case.name).parent / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    result = grade(root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root, result.stdout


def test_corpus_is_large_enough():
    hostile = [case for case in CASES if not case.name.startswith("honest_")]
    assert len(hostile) >= 25 and len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_scores_what_it_earned_with_its_reason(graded_corpus, case):
    root, _ = graded_corpus
    recorded = outcome(root, case.name)
    said = " ".join([recorded["reason"], *recorded["notes"], *findings_said(recorded)])
    assert (recorded["status"], recorded["score"]) == (case.status, case.score), said
    assert gradebook_scores(root)[case.name] == case.score
    assert case.reason in said


def submitted_notebook(root, student: str) -> Path:
    return root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def cells_short_of_full_marks(root, student: str) -> set[str]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "autograd-course") as gradebook:
        submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {grade.name for grade in submission.grades if grade.score < grade.max_score}


HONEST = [case for case in CASES if case.name.startswith("honest_")]


def test_the_kernels_normal_behaviour_is_honest_work():
    assert {case.name for case in KERNEL_AT_WORK} <= {case.name for case in HONEST}


@pytest.mark.parametrize("case", HONEST, ids=[case.name for case in HONEST])
def test_make_validate_and_grading_agree_on_honest_work(graded_corpus, case):
    """What make validate says of an honest notebook is what grading gives it: no finding, the same cells failing
    (its visible tests decide an honest answer as the hidden ones do)."""
    root, _ = graded_corpus
    path = submitted_notebook(root, case.name)
    assert policy_findings(nbformat.read(path, as_version=4), path.parent) == []
    names = cell_names(path)
    assert {names[cell["source"]] for cell in validate(path).get("failed", [])} == cells_short_of_full_marks(
        root, case.name)


NOTEBOOKS = [case for case in CASES if case.status != "rejected"]


@pytest.mark.parametrize("case", NOTEBOOKS, ids=[case.name for case in NOTEBOOKS])
def test_make_validate_reports_the_policy_findings_grading_records(graded_corpus, case):
    """The answer policy says the same in both: make validate lists every finding the grader recorded for it
    (the guard's findings come from running the notebook in the grader's kernel, which make validate does not)."""
    root, _ = graded_corpus
    path = submitted_notebook(root, case.name)
    found = [str(finding) for finding in policy_findings(nbformat.read(path, as_version=4), path.parent)]
    recorded = outcome(root, case.name)
    assert [finding for finding in findings_said(recorded) if finding in found] == found
    assert not found or recorded["status"] == "flagged"


def test_every_submission_has_exactly_one_outcome(graded_corpus):
    root, summary = graded_corpus
    outcomes = sorted(path.stem for path in (root / "grading" / ASSIGNMENT).glob("*.json"))
    assert outcomes == sorted(case.name for case in CASES)
    assert sorted(gradebook_scores(root)) == outcomes
    assert f"{sum(case.status == 'flagged' for case in CASES)} flagged" in summary


def test_integrity_report_names_cell_and_line_of_each_flagged_submission(graded_corpus):
    root, _ = graded_corpus
    report = (root / "grading" / ASSIGNMENT / "integrity.md").read_text()
    for case in CASES:
        assert (f"## {case.name}\n" in report) == (case.status == "flagged"), case.name
    assert "- ex1_answer line 1: assigns the attribute allclose of an object it did not create" in report


def test_nothing_outside_a_sandbox_was_touched(graded_corpus):
    root, _ = graded_corpus
    for folder in ("source", "notebooks"):
        assert (root / folder / ASSIGNMENT / SHIPPED).read_text() == SHIPPED_TEXT
    assert not (root / "source" / ASSIGNMENT / "gradebook.db").exists()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "autograd-course") as gradebook:
        assert len(gradebook.students) == len(CASES)


def test_output_is_capped_in_the_graded_notebook(graded_corpus):
    root, _ = graded_corpus
    graded = root / "autograded" / "megabytes_of_output" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert graded.stat().st_size < 200_000


def test_rerun_grades_nothing_twice(graded_corpus):
    root, _ = graded_corpus
    before = {path.name: path.stat().st_mtime_ns for path in (root / "grading" / ASSIGNMENT).glob("*.json")}
    result = grade(root)
    assert result.returncode == 0, result.stderr
    after = {path.name: path.stat().st_mtime_ns for path in (root / "grading" / ASSIGNMENT).glob("*.json")}
    assert after == before


def test_feedback_shows_hidden_test_failures_but_not_their_source(graded_corpus):
    root, _ = graded_corpus
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--student=hard_coded_answer",
                    "--log-level=WARN"], cwd=root, check=True)
    html = (root / "feedback" / "hard_coded_answer" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Hidden tests ran here; their source is not shown" in html
    assert "for point in" not in html and "BEGIN HIDDEN TESTS" not in html
    assert "your formula must hold at every x, not only at 5.47" in html  # the hidden test's message


def feedback_page(root, student: str) -> str:
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT, f"--student={student}",
                    "--log-level=WARN"], cwd=root, check=True)
    return (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def test_feedback_shows_no_output_of_hidden_tests(graded_corpus):
    root, _ = graded_corpus
    graded = (root / "autograded" / "prints_while_hidden_tests_call_it" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert "called at 0.3" in graded.read_text()  # the hidden tests called the answer at their points
    html = feedback_page(root, "prints_while_hidden_tests_call_it")
    assert "called at 0.3" not in html and "called at 5.47" not in html and "Hidden tests ran here" in html


def test_huge_messages_and_reprs_are_cut_in_the_graded_notebook_and_feedback(graded_corpus):
    root, _ = graded_corpus
    graded = root / "autograded" / "megabytes_of_messages" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert graded.stat().st_size < 300_000
    notebook = nbformat.read(graded, as_version=4)
    error = next(output for c in notebook.cells if c.get("id") == "ex1_tests" for output in c.outputs
                 if output.output_type == "error")
    # cut by the grader, or (01 is judged outside the kernel) by the plain-data form its values leave the kernel in
    assert "m" * 1000 in error.evalue and len(error.evalue) < 10_000
    assert len(feedback_page(root, "megabytes_of_messages")) < 300_000


def test_a_print_that_arrives_in_pieces_is_one_stream_output():
    client = TrustedNotebookClient(nbformat.v4.new_notebook())
    client.reset_execution_trackers()
    client.clear_before_next_output = False  # what starting a cell sets
    outs = []
    for name, text in (("stdout", "called at"), ("stdout", " 0.3\n"), ("stderr", "a warning\n"), ("stdout", "x\n")):
        client.output(outs, {"msg_type": "stream", "header": {"msg_type": "stream"}, "parent_header": {"msg_id": "m"},
                             "content": {"name": name, "text": text}}, None, 0)
    assert [(out.name, out.text) for out in outs] == [("stdout", "called at 0.3\n"), ("stderr", "a warning\n"),
                                                      ("stdout", "x\n")]


def test_outputs_are_capped_one_message_at_a_time():
    huge = "x" * (MAX_TEXT_CHARACTERS * 3)
    error = capped({"msg_type": "error", "content": {"ename": "E" * 1000, "evalue": huge,
                                                      "traceback": [huge] * (MAX_TRACEBACK_LINES * 2)}})["content"]
    assert len(error["evalue"]) < MAX_TEXT_CHARACTERS + 100 and len(error["ename"]) < 300
    assert len(error["traceback"]) == MAX_TRACEBACK_LINES + 1 and "[traceback cut]" in error["traceback"]
    shown = capped({"msg_type": "execute_result", "content": {"data": {"text/plain": huge, "image/png": "i" * 10,
                                                                       "application/x-big": "b" * (MAX_DATA_CHARACTERS + 1)}}})
    data = shown["content"]["data"]
    assert data["text/plain"].endswith("characters of this output]") and data["image/png"] == "i" * 10
    assert "application/x-big" not in data
    assert capped({"msg_type": "display_data", "content": {"data": {"image/png": "p" * (MAX_DATA_CHARACTERS + 1)}}})[
        "content"]["data"] == {"text/plain": f"[image/png output of {MAX_DATA_CHARACTERS + 1} characters: not kept by the grader]"}
    small = {"msg_type": "error", "content": {"ename": "E", "evalue": "v", "traceback": ["E: v"]}}
    assert capped(small) == small
    stream = {"msg_type": "stream", "content": {"name": "stdout", "text": huge}}
    assert capped(stream) is stream  # printed text is capped per cell by the notebook client


def test_an_output_is_what_nbformat_makes_of_its_message_and_an_invalid_one_is_dropped():
    def message(msg_type, **content):
        return {"header": {"msg_type": msg_type}, "msg_type": msg_type, "content": content}

    for valid in (message("stream", name="stdout", text="0.3\n"),
                  message("execute_result", metadata={}, data={"text/plain": "1"}, execution_count=3),
                  message("display_data", metadata={}, data={"image/png": "iVBO", "text/plain": "<Figure>"}, transient={}),
                  message("error", ename="AnswerMismatch", evalue="expected 1", traceback=["AnswerMismatch: expected 1"])):
        assert output_node(valid) == nbformat.v4.output_from_msg(valid)
    for invalid in (message("stream", name="stdout", text=3), message("display_data", metadata={}, data=[1]),
                    message("error", ename="E", evalue="v", traceback="E: v"), message("stream", text="no name"),
                    message("status", execution_state="idle")):
        assert output_node(invalid) is None, invalid


def test_feedback_keeps_a_visible_test_cells_output_and_every_message():
    visible = nbformat.v4.new_code_cell("print('checked')", metadata={"nbgrader": {"grade": True}})
    visible.outputs = [nbformat.v4.new_output("stream", name="stdout", text="checked\n")]
    hidden = nbformat.v4.new_code_cell("check(1)\n### BEGIN HIDDEN TESTS\ncheck(2)\n### END HIDDEN TESTS",
                                       metadata={"nbgrader": {"grade": True}})
    hidden.outputs = [nbformat.v4.new_output("stream", name="stdout", text="secret point 2\n"),
                      nbformat.v4.new_output("error", ename="AnswerMismatch", evalue="m" * 100_000,
                                             traceback=["line 3 of the hidden test", "AnswerMismatch: ..."])]
    for each in (visible, hidden):
        HideHiddenTests().preprocess_cell(each, {}, 0)
    assert [output.text for output in visible.outputs] == ["checked\n"]
    assert [output.output_type for output in hidden.outputs] == ["error"] and "check(2)" not in hidden.source
    assert hidden.outputs[0].traceback == [f"AnswerMismatch: {hidden.outputs[0].evalue}"]
    assert len(hidden.outputs[0].evalue) < 6_000


def test_batch_killed_midway_is_finished_by_running_again(tmp_path):
    root = make_course(tmp_path)
    students = ["ada", "ben", "cy"]
    for student in students:
        submit(root, student, solved(root))
    process = subprocess.Popen([sys.executable, "-m", "autograd_course.grading.autograde", ASSIGNMENT, "--root",
                                str(root), "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    first = root / "grading" / ASSIGNMENT / "ada.json"
    deadline = time.monotonic() + 300
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    graded_before = {path.stem for path in first.parent.glob("*.json")}
    assert "ada" in graded_before and graded_before != set(students)

    result = grade(root)
    assert result.returncode == 0, result.stderr
    assert sorted(path.stem for path in first.parent.glob("*.json")) == students
    assert gradebook_scores(root) == {student: 6 for student in students}


SCRIPTED_ID = "s<img src=x onerror=alert(1)>"


def test_unsafe_student_ids_are_refused_and_findings_escaped_while_the_batch_is_graded(tmp_path):
    root = make_course(tmp_path)
    submit(root, "ada", solved(root))
    submit(root, SCRIPTED_ID, solved(root))
    hostile = solved(root)
    next(c for c in hostile.cells if c.get("id") == "ex1_answer").source += "\nimport os  # <script>alert(2)</script>"
    submit(root, "eve", hostile)
    result = grade(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"refused student id {SCRIPTED_ID!r}" in result.stdout
    assert gradebook_scores(root) == {"ada": 6, "eve": 0}
    assert sorted(path.name for path in (root / "grading" / ASSIGNMENT).glob("*.json")) == ["ada.json", "eve.json"]
    report = (root / "grading" / ASSIGNMENT / "integrity.md").read_text()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in report and "<script>" not in report
    # An unsafe id imported into the gradebook (from a CSV) has no folder to refuse: the next batch names it.
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "autograd-course") as gradebook:
        gradebook.add_student("<b>imported</b>")
    done, todo = TrustedAutograder(root, ASSIGNMENT, Unconfined()).pending()
    assert todo == [SCRIPTED_ID] and {(recorded.student, recorded.status) for recorded in done} == {
        ("ada", "graded"), ("eve", "flagged"), ("<b>imported</b>", "rejected")}
    assert "unsafe student id '<b>imported</b>' in the gradebook" in done[-1].reason
    assert student_ids.refusal("ada.lovelace+1@example.org") is None and student_ids.refusal("s-42_b") is None
    for unsafe in (SCRIPTED_ID, "../ada", "", "-rf", "x" * 101, "a b", "ü"):
        assert student_ids.refusal(unsafe), unsafe


def test_refuses_to_grade_without_a_sandbox_unless_told(tmp_path):
    root = make_course(tmp_path)
    no_bwrap = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    refused = grade(root, env=no_bwrap)
    assert refused.returncode == 2
    assert "Refusing to grade: bubblewrap (bwrap) is not installed" in refused.stderr
    assert "--unsafe" in refused.stderr


def test_unsafe_grades_the_same_without_a_sandbox_and_says_so(tmp_path):
    root = make_course(tmp_path)
    submit(root, "ada", solved(root, exercises={"ex1"}))
    result = grade(root, "--unsafe")
    assert result.returncode == 0, result.stderr
    assert "WITHOUT a sandbox" in result.stderr
    assert outcome(root, "ada")["status"] == "graded" and gradebook_scores(root) == {"ada": 3}


def sealed_channel(records: list[dict]) -> list[bytes]:
    """The lines a guard writes: its key, then each record sealed in turn."""
    key = os.urandom(32)
    seal = Seal(key)
    return [(json.dumps({"key": key.hex()}) + "\n").encode(), *(seal.line(record) for record in records)]


def test_channel_keeps_the_guards_sealed_records_and_nothing_forged():
    lines = sealed_channel([{"kind": "started", "cell": "a"}, {"kind": "ran", "cell": "a"}])
    assert Channel(lines).evidence("ran") == ["a"] and Channel(lines).problems == []
    forged = json.dumps({"body": json.dumps({"seq": 3, "kind": "ran", "cell": "b"}), "mac": "00" * 16}) + "\n"
    tampered = {"forged": [*lines, forged.encode()], "dropped": [lines[0], lines[2]],
                "reordered": [lines[0], lines[2], lines[1]], "garbage": [*lines, b"{}\n"], "keyless": lines[1:],
                "silent": []}
    for name, variant in tampered.items():
        assert Channel(variant).problems, name
    assert Channel(tampered["forged"]).evidence("ran") == ["a"]  # nothing after a bad line is believed
    assert "flooded" in " ".join(map(str, Channel(lines, overflowed=True).problems))


def test_a_test_cell_that_passed_without_evidence_is_a_finding():
    cells = [TrustedCell("setup", "s", test=False, status="ok"), TrustedCell("ex1_tests", "t1", test=True, status="ok"),
             TrustedCell("ex2_tests", "t2", test=True, status="error")]
    honest = Channel(sealed_channel([{"kind": "started", "cell": "s"}, {"kind": "started", "cell": "t1"},
                                     {"kind": "ran", "cell": "t1"}, {"kind": "started", "cell": "t2"}]))
    assert judge_evidence(cells, honest) == []
    skipped = Channel(sealed_channel([{"kind": "started", "cell": "s"}]))
    assert list(map(str, judge_evidence(cells, skipped))) == [
        "ex1_tests: the kernel reported it finished, but the guard has no evidence that its code started",
        "ex1_tests: the kernel reported it finished, but the guard has no evidence that its code ran to the end"]
    twice = Channel(sealed_channel([{"kind": "started", "cell": "s"}, {"kind": "started", "cell": "t1"},
                                    {"kind": "ran", "cell": "t1"}, {"kind": "ran", "cell": "t1"}]))
    assert judge_evidence(cells, twice) == [Finding(AFTER_THE_RUN, 0, "the guard saw instructor cells ran out of their "
                                                    "place in the notebook", "1 cell(s)")]


def test_execute_and_worker_import_one_way():
    """worker drives execute; execute needs only the kernel host's protocol, never the worker."""
    source = (Path(__file__).parents[1] / "autograd_course" / "grading" / "execute.py").read_text()
    assert "from .worker" not in source and "import worker" not in source
