"""What the guard watches whole between cells, each compared with what it was before student code ran.

- ``FunctionWatch``: the functions the tests call (``torch.isclose``, ``math.isclose`` ..., builtins) and every
  name of the course's test modules;
- ``MachineryWatch``: the kernel, shell, session, output streams, display hook and publisher, event manager,
  compiler and input transformers, each as a whole (``snapshots.whole``);
- ``NamespaceWatch``: the notebook names the tests rely on, by name;
- ``TorchStateWatch``: torch's state that decides what a comparison returns (mode stacks, grad and inference
  mode, default dtype and device) and the kernels of its operators in the dispatcher.

Each reports what changed through the guard's ``Reporter``, naming the cell about to run.
"""

import hashlib
import os
import pkgutil
import sys

from .policy import ALLOWED_MAGICS
from .snapshots import differences, volatile, whole

WATCHED_FUNCTIONS = {
    "torch": ["allclose", "isclose", "equal", "eq", "isfinite", "all", "any", "abs", "tensor", "as_tensor",
              "is_tensor", "is_grad_enabled"],
    "torch.testing": ["assert_close"],
    "torch.autograd": ["grad", "gradcheck", "backward"],
    "math": ["isclose", "isfinite", "isnan", "fabs"],
    "numpy": ["allclose", "isclose", "array_equal", "isfinite", "asarray"],
    "numpy.testing": ["assert_allclose", "assert_array_equal"],
    "builtins": ["abs", "all", "any", "bool", "float", "int", "isinstance", "issubclass", "len", "max", "min",
                 "print", "repr", "round", "str", "sum", "type", "AssertionError", "Exception", "ValueError",
                 "TypeError", "NotImplementedError", "__import__", "exec", "compile"],
}
# The course's own test tools are watched whole: every name in their module dicts, whatever the tests call. The
# checks of judged notebooks (autograd_course.exercises) are among them: points no longer rest on them, but a test
# cell whose checks were replaced is still tampering.
COURSE_TEST_MODULES = ("autograd_course.checks", "autograd_course.rules", "autograd_course.numeric",
                       "autograd_course.cases", "autograd_course.values", "autograd_course.record",
                       *(f"autograd_course.exercises.{module.name}"
                         for module in pkgutil.iter_modules([os.path.join(os.path.dirname(os.path.dirname(__file__)), "exercises")])))


class FunctionWatch:
    """The functions the tests call, by dotted name: each must stay the same object."""

    def __init__(self, reporter):
        self.reporter = reporter
        self.snapshot = self.functions()

    @staticmethod
    def functions() -> dict:
        snapshot = {}
        for module_name, names in WATCHED_FUNCTIONS.items():
            module = sys.modules.get(module_name)
            for name in names:
                snapshot[f"{module_name}.{name}"] = getattr(module, name, None)
        for module_name in COURSE_TEST_MODULES:
            for name, value in vars(sys.modules[module_name]).items():
                if not name.startswith("__"):  # the interpreter's own entries (__warningregistry__ ...) may change
                    snapshot[f"{module_name}.{name}"] = value
        return snapshot

    def check(self, next_cell: str) -> None:
        current = self.functions()
        for name, original in self.snapshot.items():
            if current.get(name) is not original:
                self.reporter.report("tamper", "replaced", name, None, next_cell)
                self.snapshot[name] = current.get(name)


def settle(shell, objects) -> None:
    """Create now, from trusted code, what the kernel's machinery creates on first use: the magics an answer may
    use (IPython loads their class on first call and adds it to ``shell.configurables``) and the traits computed
    on first read (the display publisher's thread-local parent header on the first ``display()``)."""
    for name in ALLOWED_MAGICS:
        shell.find_line_magic(name)
    for obj in objects:
        for name in getattr(obj, "trait_names", lambda: [])():
            try:
                getattr(obj, name)
            except Exception:  # a trait without a default stays unset, as it would without the guard
                pass


class MachineryWatch:
    """The kernel's machinery, each object compared whole with what it was before student code ran."""

    def __init__(self, reporter):
        self.reporter = reporter
        self.machinery: dict[str, tuple[object, dict]] | None = None

    @staticmethod
    def objects(shell) -> dict[str, object]:
        kernel = getattr(shell, "kernel", None)
        objects = {"shell": shell, "sys.stdout": sys.stdout, "sys.stderr": sys.stderr,
                   "sys.displayhook": sys.displayhook,
                   "shell.displayhook": shell.displayhook, "shell.display_pub": shell.display_pub,
                   "shell.events": shell.events, "shell.compile": shell.compile,
                   "shell.input_transformer_manager": shell.input_transformer_manager,
                   "shell.InteractiveTB": shell.InteractiveTB}
        if kernel is not None:
            objects.update({"kernel": kernel, "kernel.session": kernel.session})
        return objects

    def check(self, shell, next_cell: str, by_submission: bool) -> None:
        if self.machinery is None or not by_submission:
            objects = self.objects(shell)
            settle(shell, objects.values())
            self.machinery = {name: (obj, whole(obj)) for name, obj in objects.items()}
            return
        if self.machinery["shell"][0] is not shell:
            self.reporter.report("tamper", "replaced", "the IPython shell", None, next_cell)
            return
        for name, obj in self.objects(shell).items():
            original, before = self.machinery.get(name, (None, {}))
            if obj is not original:
                self.reporter.report("tamper", "replaced", name, None, next_cell)
                continue
            now = whole(obj)
            changed = [path for path in differences(before, now) if not volatile(path)]
            if changed:
                self.reporter.report("tamper", "changed", f"{name}: {', '.join(changed[:5])}", None, next_cell)
                self.machinery[name] = (obj, now)


MISSING = object()  # a name the namespace does not hold


class NamespaceWatch:
    """The notebook names the tests rely on (``protected.notebook_protected_names``, sent by the grader) keep the
    objects the instructor's cells bound them to.

    Protection is by name, not by object: a checks module's constant (32) is often the very object a notebook's
    own ``for k in range(33)`` binds (small ints and short strings are shared), and such a name is the notebook's.
    """

    def __init__(self, reporter, protected: set[str]):
        self.reporter = reporter
        self.protected = protected
        self.bound: dict[str, object] = {}  # protected name -> the object an instructor cell left it bound to

    def check(self, namespace: dict, next_cell: str, by_submission: bool) -> None:
        for name in sorted(self.protected):
            value = namespace.get(name, MISSING)
            if name not in self.bound:
                if not by_submission and value is not MISSING:  # a name is the tests' once an instructor cell bound it
                    self.bound[name] = value
                continue
            if value is not self.bound[name]:
                if by_submission:
                    self.reporter.report("tamper", "rebound" if value is not MISSING else "deleted", name, None,
                                         next_cell)
                self.bound[name] = value  # a locked cell may rebind what it likes; either way reported once


def dispatcher_registrations() -> str:
    """A digest of the kernels of torch's own operators (``aten``, ``prims``) in its dispatcher.

    Every kernel is listed with where it was registered, so an override changes the digest even
    when it replaces a kernel with another for the same key. Operators of other namespaces cannot
    change what torch's own return.
    """
    torch = sys.modules["torch"]
    digest = hashlib.sha256()
    for name in sorted(torch._C._dispatch_get_all_op_names()):
        if name.startswith(("aten::", "prims::")):
            digest.update(torch._C._dispatch_dump(name).encode())
    return digest.hexdigest()


class TorchStateWatch:
    """Torch's global state, which a cell must leave as it found it, and its dispatcher against the kernel host's."""

    def __init__(self, reporter, dispatcher: str):
        self.reporter = reporter
        self.dispatcher = dispatcher  # dispatcher_registrations() as the kernel host computed it, before any fork
        self.state = self.torch_state()

    @staticmethod
    def torch_state() -> dict:
        torch = sys.modules["torch"]
        return {"function modes": torch._C._len_torch_function_stack(),
                "dispatch modes": torch._C._len_torch_dispatch_stack(),
                "grad mode": torch.is_grad_enabled(), "inference mode": torch.is_inference_mode_enabled(),
                "default dtype": torch.get_default_dtype(), "default device": str(torch.get_default_device())}

    def check(self, next_cell: str, by_submission: bool) -> None:
        state = self.torch_state()
        if state != self.state and by_submission:
            changed = ", ".join(name for name in state if state[name] != self.state[name])
            self.reporter.report("tamper", "torch state", f"left changed after a cell: {changed}", None, next_cell)
        self.state = state

    def check_dispatcher(self, next_cell: str) -> None:
        if dispatcher_registrations() != self.dispatcher:
            self.reporter.report("tamper", "operator registration",
                                 "torch's dispatcher has kernels the kernel host had not", None, next_cell)
            self.dispatcher = dispatcher_registrations()
