"""Probes that tell how an answer computed its result, for exercises whose rule is the lesson.

``AutogradCalls`` is a ``TorchFunctionMode``: while it is active, torch reports every call of a torch
function to it, including ``Tensor.backward``, ``torch.autograd.backward`` and ``torch.autograd.grad``,
which every autograd API ends in (``torch.func.grad``, ``jacrev``, ``autograd.functional.jacobian`` ...).
It replaces nothing, so an answer cannot dodge it by having imported a function under another name,
and it is gone when the ``with`` block ends.
"""

import inspect
import os
from collections import Counter

import torch
from torch.overrides import TorchFunctionMode

BACKWARD_FUNCTIONS = {torch.Tensor.backward: "backward()", torch.autograd.backward: "torch.autograd.backward"}
GRAD_FUNCTIONS = {torch.autograd.grad: "torch.autograd.grad"}


class AutogradCalls(TorchFunctionMode):
    """Counts the backward passes an answer asks for while the ``with`` block runs."""

    def __init__(self):
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = BACKWARD_FUNCTIONS.get(func) or GRAD_FUNCTIONS.get(func)
        if name is not None:
            self.calls[name] += 1
        return func(*args, **(kwargs or {}))

    @property
    def backward_passes(self) -> int:
        return sum(self.calls.values())

    def summary(self) -> str:
        """What the answer called, for a message: 'called backward() 2 times'."""
        if not self.calls:
            return "called no backward pass (neither backward() nor torch.autograd.grad)"
        return "called " + ", ".join(f"{name} {count} time{'s' if count > 1 else ''}"
                                     for name, count in sorted(self.calls.items()))


class MarkedSine(torch.autograd.Function):
    """sin going forward, but its backward reports cos + 1 on purpose.

    Only an answer that asks autograd for the derivative returns cos + 1; a finite difference or a formula
    returns the true slope cos, so a test can tell "used autograd" from "computed it another way".
    """

    @staticmethod
    def forward(t):
        return torch.sin(t)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * (torch.cos(t) + 1)


def ready_made_callers(ready_made: dict[str, str]) -> set[str]:
    """Which of the ready-made helpers (module prefix -> name to report) are on the call stack right now."""
    found, frame = set(), inspect.currentframe()
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        found.update(name for prefix, name in ready_made.items() if module.startswith(prefix))
        frame = frame.f_back
    return found


def defining_package(*functions) -> str:
    """The package whose modules define these functions, read from the functions themselves: ``torch.func``'s
    transforms live in a private package, whose name this finds without writing it (a rename follows by itself)."""
    # commonprefix compares any sequences item by item: here lists of the modules' dotted parts
    return ".".join(os.path.commonprefix([function.__globals__["__name__"].split(".") for function in functions]))

# Where torch.func's transforms (jacrev, vmap, hessian ...) run: a frame of these modules is torch.func's.
TORCH_FUNC_PACKAGE = defining_package(torch.func.jacrev, torch.func.vmap)

__all__ = ["AutogradCalls", "MarkedSine", "TORCH_FUNC_PACKAGE", "defining_package", "ready_made_callers"]
