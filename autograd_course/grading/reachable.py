"""Which attribute names lead from an allowed module to a forbidden one, read from the modules themselves.

``derive_reachable_names`` runs in a fresh interpreter (``python -m autograd_course.grading.reachable``), so that
the answer never depends on what the checking process happened to import.
"""

import json
import pkgutil
import subprocess
import sys
import threading
import types
from concurrent.futures import Future

from .policy import ALLOWED_IMPORTS, RAW_MEMORY_ATTRIBUTES, module_allowed


def derive_reachable_names() -> dict[str, list[str]]:
    """Read from the allowed modules themselves: the attribute names under which they hold (or, for submodules
    imported on first use, will hold) a module an answer may not use, and the names of their tensor classes.
    Meant for a fresh interpreter: which submodules are loaded depends on what was imported before."""
    for root in sorted(ALLOWED_IMPORTS):  # the allowed roots, as an answer would import them
        __import__(root)
    torch = sys.modules["torch"]
    allowed = [module for name, module in sorted(sys.modules.items())
               if isinstance(module, types.ModuleType) and module_allowed(name)]
    modes = (sys.modules["torch.overrides"].TorchFunctionMode,
             sys.modules["torch.utils._python_dispatch"].TorchDispatchMode)
    leads_out, leads_in, allowed_modules, tensor_classes, mode_classes = set(), set(), set(), set(), set()
    for module in allowed:
        allowed_modules.add(module.__name__)
        for name, value in vars(module).items():
            if isinstance(value, types.ModuleType):
                (leads_in if module_allowed(value.__name__) else leads_out).add(name)
            elif isinstance(value, type) and issubclass(value, torch.Tensor):
                tensor_classes.add(name)
            elif isinstance(value, type) and issubclass(value, modes):
                mode_classes.add(name)
        for submodule in pkgutil.iter_modules(getattr(module, "__path__", [])):
            full_name = f"{module.__name__}.{submodule.name}"
            (leads_in if module_allowed(full_name) else leads_out).add(submodule.name)
            if module_allowed(full_name):
                allowed_modules.add(full_name)
    # A name that is also an attribute of the values answers work with (ndarray.copy, Tensor.dist) cannot be
    # told apart from that attribute by its name alone: it is judged by the module it is read from.
    ordinary = set().union(*(dir(kind) for kind in (torch.Tensor, torch.nn.Module, torch.Generator,
                                                     sys.modules["numpy"].ndarray, dict, list, set, tuple, str)))
    leads_out = {name for name in leads_out if not name.startswith("_")}
    return {"module_attributes": sorted(leads_out),
            # torch.nn.utils is allowed, torch.utils is not: such names are judged by the module they reach.
            "ambiguous_module_attributes": sorted(leads_out & leads_in),
            "ordinary_attributes": sorted((leads_out & ordinary) - RAW_MEMORY_ATTRIBUTES),
            "allowed_modules": sorted(allowed_modules),
            "tensor_classes": sorted(tensor_classes),
            # torch.autograd.graph.TorchDispatchMode: modes decide what every torch call returns while entered.
            "mode_classes": sorted(mode_classes)}


def _from_fresh_interpreter() -> dict[str, frozenset[str]]:
    output = subprocess.run([sys.executable, "-m", __name__], capture_output=True, text=True, check=True).stdout
    return {key: frozenset(names) for key, names in json.loads(output).items()}


_derived: Future | None = None
_deriving = threading.Lock()


def prefetch() -> Future:
    """Start deriving the names in a thread, once per process: the grader does so while its kernel hosts start,
    so that the fresh interpreter's imports (about 1 s, several on a loaded machine) overlap theirs."""
    global _derived
    with _deriving:
        if _derived is None:
            _derived = Future()
            threading.Thread(target=_fill, args=(_derived,), daemon=True, name="reachable-names").start()
    return _derived


def _fill(future: Future) -> None:
    try:
        future.set_result(_from_fresh_interpreter())
    except BaseException as error:  # raised again wherever the names are wanted
        future.set_exception(error)


def reachable_names() -> dict[str, frozenset[str]]:
    """``derive_reachable_names`` from a fresh interpreter of this environment, once per process (about 1 s)."""
    return prefetch().result()


if __name__ == "__main__":
    print(json.dumps(derive_reachable_names()))
