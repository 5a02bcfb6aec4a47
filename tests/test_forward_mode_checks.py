"""12_forward_mode's checks, outside a kernel: what the kernel counts, and what the judge makes of sent values."""

import pytest
import torch

from autograd_course.cases import verdict
from autograd_course.exercises.forward_mode import PassCounter, check_fewest_passes, curve

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
