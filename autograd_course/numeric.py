"""A gradient reference that shares no code with autograd: central differences in float64.

The error of a central difference is O(h²) from truncation plus O(ε/h) from round-off;
with float64 (ε ≈ 2.2e-16) and h = 1e-6 both are far below the four digits torch prints.
"""

import torch


def central_difference(f, x, h: float = 1e-6) -> torch.Tensor:
    """∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h for every element i of ``x``.

    ``f`` maps a float64 tensor shaped like ``x`` to a scalar.
    """
    point = torch.as_tensor(x, dtype=torch.float64).detach().clone()
    grad = torch.zeros_like(point)
    with torch.no_grad():
        for i in range(point.numel()):
            step = torch.zeros_like(point).view(-1)
            step[i] = h
            step = step.view_as(point)
            grad.view(-1)[i] = (f(point + step) - f(point - step)) / (2 * h)
    return grad


def seeded_two_layer_network(batch: int, n_in: int, n_hidden: int, n_out: int, seed: int):
    """x, W1 and W2 (the weights requiring gradients) from a private generator: the values do not depend on how many
    numbers earlier cells drew from torch's own."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, n_in, generator=generator)
    W1 = torch.randn(n_in, n_hidden, generator=generator).requires_grad_()
    W2 = torch.randn(n_hidden, n_out, generator=generator).requires_grad_()
    return x, W1, W2
