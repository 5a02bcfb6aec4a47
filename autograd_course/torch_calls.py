"""Which torch functions an answer ran, however it reached them.

A check that must know whether an answer used a part of torch (GradScaler's kernels, torch's own backward) cannot
rely on wrapping an attribute: the answer may have saved the function before the test. A ``TorchFunctionMode``
sees every torch function that runs while it is on, whatever name the caller used for it.
"""

import torch


class NamedTorchCalls(torch.overrides.TorchFunctionMode):
    """Counts the torch functions run inside the ``with`` block whose name ``matches`` (a predicate on the name).

    Functions are matched by their name, never by an attribute of torch: a function torch renames is simply not
    counted, so an upgrade can make a check miss a use, never charge one to a correct answer.
    """

    def __init__(self, matches):
        super().__init__()
        self.matches = matches
        self.count = 0

    def __torch_function__(self, function, types, args=(), kwargs=None):
        if self.matches(str(getattr(function, "__name__", ""))):
            self.count += 1
        return function(*args, **(kwargs or {}))


__all__ = ["NamedTorchCalls"]
