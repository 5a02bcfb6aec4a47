"""12_forward_mode's checks, outside a kernel: what the kernel counts, and what the judge makes of sent values."""

import math

import numpy as np
import pytest
import torch

from autograd_course.cases import verdict
from autograd_course.exercises.forward_mode import PassCounter, check_dual, check_fewest_passes, curve, foreign_names

NAME = "v₀·cos(v₁·k) for k = 0…4 (n = 2, m = 5)"
POINT = [1.5, 0.4]


def counted(build):
    counter = PassCounter(curve)
    with counter:
        build(counter.watched_f, torch.tensor(POINT))
    return counter.jvps, counter.backward_passes, sorted(counter.batching)


VMAP = "torch.func.vmap (jacfwd, jacrev and hessian batch their passes with it)"


@pytest.mark.parametrize("build, expected", [
    (lambda f, x: [torch.func.jvp(f, (x,), (seed,)) for seed in torch.eye(2)], (2, 0, [])),
    (lambda f, x: [torch.func.vjp(f, x)[1](seed) for seed in torch.eye(5)[:1]], (0, 1, [])),
    (lambda f, x: torch.func.grad(lambda v: f(v).sum())(x), (0, 1, [])),
    (lambda f, x: torch.func.jacfwd(f)(x), (1, 0, [VMAP])),
    (lambda f, x: torch.func.jacrev(f)(x), (0, 1, [VMAP])),
    (lambda f, x: torch.func.vmap(f)(torch.ones(3, 2)), (0, 0, [VMAP])),
], ids=["jvp", "vjp", "grad", "jacfwd", "jacrev", "vmap"])
def test_the_counter_tells_batched_passes_from_single_ones(build, expected):
    assert counted(build) == expected


def test_counts_the_kernel_could_forge_earn_nothing_with_a_wrong_jacobian():
    exact = torch.func.jacfwd(curve)(torch.tensor(POINT))
    forged = {"jvps": 2, "backward passes": 0, "batching": [], "x requires grad": False, "x grad": None}
    assert verdict(check_fewest_passes, {**forged, "got": exact}, (NAME, POINT), {}) is None
    message = verdict(check_fewest_passes, {**forged, "got": exact.T.contiguous()}, (NAME, POINT), {})
    assert message.startswith(f"jacobian_fewest_passes({NAME}, x of shape (2,)): expected shape (5, 2)")
    assert "that is Jᵀ" in message


tangent = torch.tensor(1.0)  # a global tensor whose name a Dual may also use as an attribute or a local


def exp_by_numpy(v):
    return float(np.exp(v))


class MathDual:
    def __init__(self, value, derivative=0.0):
        self.value, self.tangent = float(value), float(derivative)

    @property
    def derivative(self):
        return self.tangent

    def exp(self):
        tangent = math.exp(self.value) * self.derivative
        return MathDual(math.exp(self.value), tangent)


class TorchDual(MathDual):
    def sin(self):
        leaf = torch.tensor(self.value, requires_grad=True)
        (slope,) = torch.autograd.grad(leaf.sin(), leaf)
        return MathDual(math.sin(self.value), slope.item() * self.derivative)


class NumpyHelperDual(MathDual):
    @staticmethod
    def lifted(v):
        return [exp_by_numpy(v)]

    def exp(self):
        value = self.lifted(self.value)[0]
        return NumpyHelperDual(value, value * self.derivative)


def test_the_libraries_a_dual_reaches_are_its_global_names_not_its_attributes_or_locals():
    assert foreign_names(MathDual) == []
    assert foreign_names(TorchDual) == ["torch"]
    assert foreign_names(NumpyHelperDual) == ["np"]
    assert foreign_names(lambda: torch) == []  # not a class: nothing to follow


def test_a_dual_that_asks_torch_breaks_the_rule_even_when_its_numbers_are_right():
    name, point, seed = "x * (x * x).sin(), section 3.1", 1.5, 1.0
    seen = check_dual.observe(MathDual, name, point, seed)
    assert seen["numpy or torch"] == []
    message = verdict(check_dual, {**seen, "numpy or torch": ["torch"]}, (name, point, seed), {})
    assert "Python floats with math, not numpy or torch, but your code uses torch" in message
