"""Objects compared as a whole, and described without calling them (the guard's, inside the kernel).

A snapshot of an object is its class, the dict of every class in its MRO and its instance dict, where plain data
may come, go and change freely and anything else must stay the same object. Two snapshots differ by the paths
whose object changed; a description of a value never calls the submission's code (no repr of unknown objects).
"""

import datetime
import re
import types

PLAIN = frozenset({type(None), bool, int, float, complex, str, bytes, datetime.datetime, datetime.date,
                   datetime.timedelta})
CONTAINERS = frozenset({list, tuple, set, frozenset, dict})
UNCHANGED_DEPTH = 3  # how deep instance dicts are compared (traitlets keep notifiers in dicts of dicts of lists)
# Values of the kernel's machinery that change with every cell and decide nothing the grader reads.
VOLATILE = ("_trait_values.last_execution_result", "_trait_values.exec_result", "_last_traceback", "tb", "_buffers",
            "_filename_map", "_shell_context",
            "_user_ns", "ns_table.user_global", "ns_table.user_local")  # the notebook's names: NamespaceWatch
# IPython's output history: what a cell's last bare expression showed (``_``, ``__``, ``___``, ``_N``, ``Out[N]``),
# kept by the display hook and the shell. Only the values recorded change; the objects holding them stay watched.
OUTPUT_HISTORY = re.compile(r"(user_ns_hidden\.)?(_{1,3}|_\d+|(Out|_oh)\.\d+)(\..*)?")
# The same paths as tuples: ``whole`` does not descend into them (the notebook's namespace alone is thousands of paths
# in a long notebook), which changes no verdict, since ``volatile`` drops every path below them.
VOLATILE_PATHS = frozenset(tuple(name.split(".")) for name in VOLATILE)


def flatten(value, path: tuple, out: dict, depth: int) -> None:
    """Every value reachable through containers, by path: plain data as its type, anything else as itself."""
    if path[1:] in VOLATILE_PATHS:
        return
    kind = type(value)
    if kind in PLAIN:
        out[path] = PLAIN
    elif kind is types.FunctionType:
        out[path] = value.__code__  # IPython swaps in a fresh closure of the same code for every cell
    elif kind is types.MethodType:
        out[(*path, "self")], out[(*path, "code")] = value.__self__, getattr(value.__func__, "__code__", value)
    elif kind in CONTAINERS and kind is not dict and all(type(item) in PLAIN for item in value):
        out[path] = PLAIN
    elif kind in CONTAINERS and depth > 0:
        out[path] = kind
        items = value.items() if kind is dict else enumerate(value) if kind in (list, tuple) else (
            (id(item), item) for item in value)
        for key, item in items:
            flatten(item, (*path, key if type(key) in PLAIN else id(key)), out, depth - 1)
    else:
        out[path] = value


def whole(obj) -> dict:
    """An object as a whole: its class, every class dict of its MRO, its instance dict (one level per container)."""
    kind = type(obj)
    out = {("class",): kind}
    for cls in kind.__mro__:
        for name, value in vars(cls).items():
            out[("class", cls.__qualname__, name)] = value
    try:
        instance = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        instance = {}
    for name, value in instance.items():
        flatten(value, ("instance", name), out, UNCHANGED_DEPTH)
    return out


def differences(before: dict, after: dict) -> list[str]:
    """Paths whose value changed, where plain data may come, go and change freely."""
    changed = [path for path in before.keys() | after.keys() if before.get(path, PLAIN) is not after.get(path, PLAIN)]
    return sorted(".".join(str(part) for part in path[1:]) or path[0] for path in changed)


def volatile(path: str) -> bool:
    """A path of the kernel's normal work between cells (``VOLATILE``, the output history)."""
    return any(path == name or path.startswith(name + ".") for name in VOLATILE) or bool(OUTPUT_HISTORY.fullmatch(path))


def plain(value) -> str:
    """A description that never calls the submission's code (no repr of unknown objects)."""
    if type(value) in PLAIN:
        return str(value)[:200]
    if type(value) in (tuple, list):
        return "(" + ", ".join(plain(item) for item in value[:6]) + ")"
    return f"<{type(value).__name__}>"
