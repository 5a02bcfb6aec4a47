"""Findings are records from the check that makes them to every page that shows them."""

import json

import pytest

from autograd_course.grading.findings import Finding, guard_finding
from autograd_course.grading.outcomes import Outcome, OutcomeStore
from autograd_course.report.records import Assignment, Submission
from autograd_course.report.statistics import integrity_counts

POLICY = Finding("ex1_answer", 2, "uses getattr", "getattr(torch, 'exp')(x)", "call the function by its name")
GUARD = Finding("found when ex1_tests ran", 0, "tamper replaced torch.allclose")


def test_a_finding_renders_its_place_line_rule_and_code():
    assert str(POLICY) == "ex1_answer line 2: uses getattr (getattr(torch, 'exp')(x))"
    assert str(GUARD) == "found when ex1_tests ran: tamper replaced torch.allclose"
    assert str(Finding("after the run", 0, "the guard's channel was flooded")) == \
        "after the run: the guard's channel was flooded"


def test_an_outcome_keeps_its_findings_as_records(tmp_path):
    store = OutcomeStore(tmp_path)
    store.record(Outcome("ada", "01_chain_rule", "flagged", "d", findings=[POLICY, GUARD]))
    assert json.loads((tmp_path / "ada.json").read_text())["findings"][0] == {
        "place": "ex1_answer", "line": 2, "rule": "uses getattr", "code": "getattr(torch, 'exp')(x)",
        "advice": "call the function by its name"}
    assert store.recorded("ada").findings == [POLICY, GUARD]


@pytest.mark.parametrize("stored", [
    "ex1_answer line 2: uses getattr (getattr)",  # a text, as an older grader wrote them
    {"place": "ex1_answer", "line": "2", "rule": "uses getattr"},
    {"place": "ex1_answer", "line": 2},
    {"place": "ex1_answer", "line": 2, "rule": "uses getattr", "verdict": "pass"}])
def test_an_outcome_whose_findings_are_not_records_is_unreadable_and_graded_again(tmp_path, stored):
    (tmp_path / "ada.json").write_text(json.dumps({
        "student": "ada", "assignment": "01_chain_rule", "status": "flagged", "digest": "d", "findings": [stored]}))
    with pytest.raises(ValueError):
        Finding.from_record(stored if isinstance(stored, dict) else {"text": stored})
    assert OutcomeStore(tmp_path).recorded("ada") is None


def test_the_report_counts_findings_by_their_rule_field():
    other_place = Finding("ex2_answer", 7, "uses getattr", "getattr(x, name)")
    submissions = [Submission("ada", ("ada", "", "", ""), "flagged", 0, findings=[POLICY, GUARD]),
                   Submission("bob", ("bob", "", "", ""), "flagged", 0, findings=[other_place]),
                   Submission("cy", ("cy", "", "", ""), "graded", 6)]
    counts = integrity_counts(Assignment("01_chain_rule", 6, [], [], [], submissions))
    assert [(count.rule, count.findings, count.submissions) for count in counts] == [
        ("uses getattr", 2, ["ada", "bob"]), ("tamper replaced torch.allclose", 1, ["ada"])]


def test_a_guard_report_is_taken_as_plain_text_whatever_the_kernel_put_in_it():
    names = {"d1": "ex1_answer", "d2": "ex1_tests"}
    assert guard_finding({"cell": "d1", "line": 3, "kind": "escape", "event": "open", "detail": "/etc/passwd"},
                         names) == Finding("ex1_answer", 3, "escape open /etc/passwd")
    assert guard_finding({"next_cell": "d2", "kind": "tamper", "event": "replaced", "detail": "torch.allclose"},
                         names) == GUARD
    forged = guard_finding({"cell": ["d1"], "line": "2; rm -rf /", "kind": {"x": 1}, "event": None, "detail": 7}, names)
    assert forged == Finding("an answer cell", 0, "{'x': 1} None 7")
