"""The guard's NamespaceWatch without a kernel: it keeps the names the tests rely on bound, by name, and leaves the
notebook's own names alone whatever objects they hold (the real Reporter writes sealed records on a pipe, read back
by the grader's Channel)."""

import os

import nbformat
import pytest

from autograd_course.exercises import memory_of_backward
from autograd_course.grading.channel import Channel, Reporter
from autograd_course.grading.protected import notebook_protected_names
from autograd_course.grading.watches import NamespaceWatch
from conftest import COURSE

LOW_PRECISION = "14_low_precision_gradients"


@pytest.fixture
def watched():
    """A NamespaceWatch over 14's protected names, its namespace after the setup cell, and its findings."""
    read_end, write_end = os.pipe()
    notebook = nbformat.read(COURSE.root / "source" / LOW_PRECISION / f"{LOW_PRECISION}.ipynb", as_version=4)
    watch = NamespaceWatch(Reporter(write_end, provenance=None), notebook_protected_names(notebook))
    namespace = {}
    exec("import torch\nfrom autograd_course.exercises.low_precision_gradients import check_scale", namespace)
    watch.check(namespace, "answer", by_submission=False)  # the setup cell ran: an answer cell comes next

    def findings():
        os.close(write_end)
        with os.fdopen(read_end, "rb") as lines:
            return [(record["event"], record["detail"]) for record in Channel(list(lines)).findings]
    return watch, namespace, findings


def test_a_loop_variable_equal_to_a_checks_constant_is_the_notebooks_own(watched):
    watch, namespace, findings = watched
    assert memory_of_backward.WEIGHT_BYTES == 32  # the same object as the loop's last k: small ints are shared
    exec("for k in range(33):\n    pass", namespace)
    assert namespace["k"] is memory_of_backward.WEIGHT_BYTES
    watch.check(namespace, "next answer", by_submission=True)
    exec("for k in (7, 17, 28):\n    pass", namespace)
    watch.check(namespace, "tests", by_submission=True)
    assert findings() == []


def test_rebinding_or_deleting_a_check_the_tests_call_is_tampering(watched):
    watch, namespace, findings = watched
    exec("globals()['check_scale'] = lambda *args, **kwargs: None\ndel globals()['torch']", namespace)
    watch.check(namespace, "tests", by_submission=True)
    watch.check(namespace, "next answer", by_submission=True)  # each change is reported once
    assert findings() == [("rebound", "check_scale"), ("deleted", "torch")]


def test_a_locked_cell_may_rebind_what_the_tests_use(watched):
    watch, namespace, findings = watched
    exec("import torch as torch", namespace)  # the same module: nothing changed
    exec("from autograd_course.exercises.low_precision_gradients import check_scaler_steps as check_scale", namespace)
    watch.check(namespace, "answer", by_submission=False)
    watch.check(namespace, "tests", by_submission=True)
    assert findings() == []
