"""The parts of 14_low_precision_gradients' checks that the corpus does not pin: the GradScaler probe, the data the
checks rebuild from section 3.3, and the growth tracker they count themselves."""

import contextlib

import nbformat
import pytest
import torch

from autograd_course.exercises import low_precision_gradients as checks
from conftest import COURSE
from notebook_cells import nbgrader


def test_the_probe_counts_gradscaler_steps_and_puts_the_methods_back():
    before = {name: vars(torch.amp.GradScaler)[name] for name in checks.GradScalerCalls.METHODS}
    weight = torch.tensor([1.0, 2.0], requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=0.1)
    with checks.GradScalerCalls() as untouched:
        (weight * 2).sum().backward()
        optimizer.step()
    with checks.GradScalerCalls() as used:
        scaler = torch.amp.GradScaler("cpu")
        scaler.scale((weight * 2).sum()).backward()
        scaler.step(optimizer)
        scaler.update()
    assert (untouched.count, used.method_calls) == (0, 3)  # step, the unscale_ step runs, update
    assert used.kernels.count == 2  # its unscaling kernel and its update kernel
    assert {name: vars(torch.amp.GradScaler)[name] for name in checks.GradScalerCalls.METHODS} == before


def test_the_probe_counts_gradscaler_methods_saved_before_it():
    unscale, step, update = torch.amp.GradScaler.unscale_, torch.amp.GradScaler.step, torch.amp.GradScaler.update
    weight = torch.tensor([1.0, 2.0], requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    scaler.scale((weight * 2).sum()).backward()
    with checks.GradScalerCalls() as saved:
        unscale(scaler, optimizer)
        step(scaler, optimizer)
        update(scaler)
    assert saved.method_calls == 0 and saved.count == 2


def test_the_probe_puts_the_methods_back_when_the_answer_raises():
    before = vars(torch.amp.GradScaler)["step"]
    with contextlib.suppress(ZeroDivisionError), checks.GradScalerCalls():
        raise ZeroDivisionError
    assert vars(torch.amp.GradScaler)["step"] is before


def test_the_rebuilt_cast_input_is_section_3_4s():
    notebook = nbformat.read(COURSE.source_notebook("14_low_precision_gradients"), as_version=4)
    namespace = {"torch": torch}
    for cell in notebook.cells:
        if nbgrader(cell).get("grade_id") in ("finfo-table", "model"):
            exec(compile(cell.source, "cell", "exec"), namespace)
    notebook_cast_input = 2 * (namespace["initial_weights"] * namespace["x"] - namespace["y"]) / namespace["n"]
    assert torch.equal(checks.model_cast_input(), notebook_cast_input)


def test_settings_are_read_from_pairs_with_the_defaults_filled_in():
    assert checks.settings_of([("optimizer", "Adam"), ("lr", 0.01), ("init_scale", 3.0)]) == {
        "init_scale": 3.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2,
        "optimizer": "Adam", "options": {"lr": 0.01}}
    assert checks.settings_of([])["options"] == {"lr": 0.1, "momentum": 0.9}


@pytest.mark.parametrize("steps, pairs", [
    (["good", "good", "inf in b", "good", "NaN in a"], []),
    (["good", "good", "inf in b", "good", "good", "good", "good"], [("growth_interval", 3)]),
    (["0-d 1e-3", "0-d NaN", "0-d -2"], [("init_scale", 2.0**20), ("growth_interval", 1)]),
])
def test_the_counted_growth_tracker_is_gradscalers_own(steps, pairs):
    """The checks count the tracker from the steps; here it is compared with the private key GradScaler keeps it
    under (pinned torch), which the checks themselves never read."""
    layout = [[()]] if steps[0].startswith("0-d") else [[(3,), (2, 2)]]
    groups, settings = checks.parameters(layout), checks.settings_of(pairs)
    optimizer = checks.optimizer_of(groups, settings)
    factors = checks.factors_of(settings)
    scaler = torch.amp.GradScaler("cpu", init_scale=settings["init_scale"], **factors)
    tracker = 0
    for step in steps:
        coefficients = checks.STEPS[step]
        scaler.scale(checks.coefficient_loss(groups, coefficients)).backward()
        scaler.step(optimizer)
        scaler.update()
        tracker = checks.counted_tracker(tracker, coefficients, factors["growth_interval"])
        assert tracker == scaler.state_dict()["_growth_tracker"]
        optimizer.zero_grad()
