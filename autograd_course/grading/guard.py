"""The kernel side of trusted grading: an audit hook installed before any student code runs.

Each graded kernel, forked by the kernel host (``kernel_host``), calls ``install()`` before
ipykernel starts: it imports the libraries the tests rely on, remembers their comparison
functions, and installs a ``sys.addaudithook`` hook, which no Python code can remove.

The hook reports, one JSON line per event on a pipe the grader reads (file descriptor
``COURSE_GUARD_FD``), what code from a student's cell tried:

- ``tamper``: replacing a function the tests use (``torch.isclose``, ``math.isclose``, builtins,
  the course's checks, IPython's error display), patching a type, tracing frames, walking the
  garbage collector, loading C code through ctypes;
- ``escape``: opening files outside its folder, listing directories, changing directory,
  network sockets, starting, forking or signalling processes.

Introspection that could reach the hook itself (gc, ctypes, tracing, new audit hooks) is refused
by raising, so student code cannot find the hook's snapshot to forge it. This is a tripwire
inside one Python process, not a security boundary: the boundary is the bubblewrap sandbox.
"""

import hashlib
import json
import linecache
import os
import sys

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
                 "TypeError", "NotImplementedError", "__import__"],
    "autograd_course.checks": ["AnswerMismatch", "fail", "describe", "as_float64", "expect_close", "expect_equal",
                               "expect_finite", "expect_true"],
}
# IPython methods that decide whether a test cell's error is shown and reported as an error.
SHELL_METHODS = ["run_cell", "run_cell_async", "run_code", "run_ast_nodes", "showtraceback", "_showtraceback",
                 "showsyntaxerror", "get_exception_only", "set_custom_exc"]

FORBIDDEN_IMPORTS = {"os", "sys", "subprocess", "socket", "ctypes", "gc", "inspect", "importlib", "builtins",
                     "IPython", "ipykernel", "signal", "shutil", "pathlib", "sqlite3", "pickle", "marshal", "io",
                     "threading", "multiprocessing", "asyncio", "urllib", "http", "requests", "resource",
                     "autograd_course", "nbgrader", "traceback", "types", "atexit", "mmap", "fcntl", "pty"}
PATH_EVENTS = {"os.chdir", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.rmdir", "os.symlink",
               "os.link", "shutil.rmtree", "os.chmod", "os.chown", "os.truncate", "os.mkdir"}
READING_PATH_EVENTS = {"os.listdir", "os.scandir"}
ESCAPE_EVENTS = PATH_EVENTS | {
    "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto", "subprocess.Popen",
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "signal.pthread_kill", "builtins.input", "sqlite3.connect"}
REFUSED_EVENTS = {"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile",
                  "sys.addaudithook", "sys._current_frames", "object.__delattr__", "function.__new__",
                  "code.__new__", "sys.set_asyncgen_hooks_firstiter", "cpython.PyInterpreterState_Clear"}
MAX_REPORTS = 200


def cell_digest(source: str) -> str:
    """How grader and guard name a cell: the hash of its stripped source (IPython's linecache copy of it)."""
    return hashlib.sha256(source.strip().encode()).hexdigest()


class Guard:
    """What the tests rely on, as it was before student code ran, and the channel to the grader."""

    def __init__(self, channel: int, trusted_cells: set[str], folder: str, read_only_roots: tuple[str, ...],
                 shipped_files: set[str]):
        self.channel = channel
        self.trusted_cells = trusted_cells
        self.folder = folder
        self.read_only_roots = read_only_roots
        self.shipped_files = shipped_files
        self.reported = 0
        self.busy = False
        self.cell_hashes = {}
        self.snapshot = self._functions()
        self.shell_snapshot = None
        self.protected_names: dict[str, object] = {}
        self.audit_hook = self._hook

    @staticmethod
    def _functions() -> dict:
        snapshot = {}
        for module_name, names in WATCHED_FUNCTIONS.items():
            module = sys.modules.get(module_name)
            for name in names:
                snapshot[f"{module_name}.{name}"] = getattr(module, name, None)
        return snapshot

    def report(self, kind: str, event: str, detail: str, frame, next_cell: str | None = None) -> None:
        """One line to the grader; ``next_cell`` names the cell about to run when a change is found between cells."""
        if self.reported >= MAX_REPORTS:
            return
        self.reported += 1
        cell, line = self._cell_of(frame)
        record = {"kind": kind, "event": event, "detail": detail[:300], "cell": cell, "line": line,
                  "next_cell": next_cell}
        try:
            os.write(self.channel, (json.dumps(record) + "\n").encode())
        except OSError:
            pass

    def _cell_of(self, frame) -> tuple[str | None, int | None]:
        if frame is None:
            return None, None
        return self._cell_hash(frame.f_code.co_filename), frame.f_lineno

    def _cell_hash(self, filename: str) -> str:
        if filename not in self.cell_hashes:
            self.cell_hashes[filename] = cell_digest("".join(linecache.getlines(filename)))
        return self.cell_hashes[filename]

    @staticmethod
    def _is_cell_code(code) -> bool:
        name = getattr(code, "co_filename", "")
        return "/ipykernel_" in name or name.startswith("<ipython-input")

    def _is_cell(self, frame) -> bool:
        return self._is_cell_code(frame.f_code)

    def _student_frame(self, frame, innermost_only: bool):
        """The student's cell frame running on this stack (only the nearest non-library caller when asked)."""
        while frame is not None:
            if self._is_cell(frame):
                if self._cell_hash(frame.f_code.co_filename) not in self.trusted_cells:
                    return frame
                if innermost_only:
                    return None
            elif innermost_only and not frame.f_code.co_filename.startswith("<frozen"):
                return None
            frame = frame.f_back
        return None

    def _outside_folder(self, path: str) -> bool:
        real = os.path.realpath(path)
        return not (real == self.folder or real.startswith(self.folder + os.sep))

    def _student_caller(self, innermost_only: bool):
        """The student's frame behind the event being audited (frame 2: the hook is frame 1)."""
        self.busy = True
        try:
            return self._student_frame(sys._getframe(2), innermost_only)
        finally:
            self.busy = False

    def _hook(self, event: str, args: tuple) -> None:
        if self.busy:
            return
        if event in REFUSED_EVENTS or event.startswith("ctypes."):
            frame = self._student_caller(innermost_only=False)
            if frame is not None:
                self.report("tamper", event, repr(args)[:200], frame)
                raise RuntimeError(f"{event} is not allowed while grading")
            return
        if event == "exec":
            if self._is_cell_code(args[0]):
                self._check_unchanged(self._cell_hash(args[0].co_filename))
            elif (frame := self._student_caller(innermost_only=True)) is not None:
                self.report("tamper", event, "exec() of generated code", frame)
            return
        if event == "open" and isinstance(args[0], str) and args[0].startswith(self.read_only_roots) \
                and not any(flag in str(args[1]) for flag in "wax+"):
            return
        if event in ("open", "import", "object.__setattr__", "sys._getframe", "compile") or event in ESCAPE_EVENTS:
            self.busy = True
            try:
                self._judge(event, args)
            finally:
                self.busy = False

    def _judge(self, event: str, args: tuple) -> None:
        caller = sys._getframe(2)
        if event in ("import", "sys._getframe", "compile", "object.__setattr__"):
            # Libraries do these all the time on the student's behalf: only the student's own line counts.
            frame = self._student_frame(caller, innermost_only=True)
            if frame is None:
                return
            if event == "import":
                if str(args[0]).split(".")[0] in FORBIDDEN_IMPORTS:
                    self.report("tamper", event, str(args[0]), frame)
            elif event == "object.__setattr__":
                target, name = args[0], args[1]
                self.report("tamper", event, f"{getattr(target, '__qualname__', type(target).__name__)}.{name}",
                            frame)
            else:
                self.report("tamper", event, "", frame)
            return
        frame = self._student_frame(caller, innermost_only=False)
        if frame is None:
            return
        if event == "open":
            path, mode = args[0], args[1]
            if not isinstance(path, str) or path.startswith(("/proc/self/", "/dev/")):
                return
            writes = isinstance(mode, str) and any(flag in mode for flag in "wax+")
            self._judge_path(event, path, writes, frame, f"{path} ({mode})")
        elif event in PATH_EVENTS:
            path = args[0] if args and isinstance(args[0], str) else "."
            self._judge_path(event, path, event not in READING_PATH_EVENTS, frame, repr(args)[:200])
        else:
            self.report("escape", event, repr(args)[:200], frame)

    def _judge_path(self, event: str, path: str, writes: bool, frame, detail: str) -> None:
        real = os.path.realpath(path)
        if event == "os.chdir" or (self._outside_folder(path) and (writes or not real.startswith(
                self.read_only_roots))):
            self.report("escape", event, detail, frame)
        elif writes and os.path.relpath(real, self.folder) in self.shipped_files:
            self.report("escape", event, f"modifies shipped file {path}", frame)

    def _check_unchanged(self, next_cell: str) -> None:
        """Before every cell: the functions the tests call are still the originals."""
        self.busy = True
        try:
            current = self._functions()
            for name, original in self.snapshot.items():
                if current[name] is not original:
                    self.report("tamper", "replaced", name, None, next_cell)
                    self.snapshot[name] = current[name]
            shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
            if shell is not None:
                self._check_shell(shell, next_cell)
        finally:
            self.busy = False

    def _check_shell(self, shell, next_cell: str) -> None:
        methods = {name: (getattr(type(shell), name, None), vars(shell).get(name)) for name in SHELL_METHODS}
        methods["custom_exceptions"] = (shell.custom_exceptions, None)
        if self.shell_snapshot is None:
            self.shell_snapshot = methods
        for name, (method, override) in methods.items():
            original, original_override = self.shell_snapshot[name]
            if method is not original or override is not original_override:
                self.report("tamper", "replaced", f"IPython shell.{name}", None, next_cell)
                self.shell_snapshot[name] = (method, override)
        self._check_namespace(shell.user_ns, next_cell)

    def _check_namespace(self, namespace: dict, next_cell: str) -> None:
        """Names the notebook bound to modules or to the course's checks keep their objects."""
        watched = {id(value) for value in self.snapshot.values()}
        for name, value in list(namespace.items()):
            if name.startswith("_"):
                continue
            if name in self.protected_names:
                if value is not self.protected_names[name]:
                    self.report("tamper", "rebound", name, None, next_cell)
                    self.protected_names[name] = value
            elif type(value).__name__ == "module" or id(value) in watched:
                self.protected_names[name] = value


def install() -> Guard:
    """Import what the tests use, snapshot it, then hook every audit event of this process."""
    import math  # noqa: F401 - snapshotted
    import numpy  # noqa: F401
    import numpy.testing  # noqa: F401
    import torch  # noqa: F401
    import torch.testing  # noqa: F401

    import autograd_course.checks  # noqa: F401

    trusted = set(filter(None, os.environ.pop("COURSE_GUARD_TRUSTED", "").split(",")))
    shipped = set(filter(None, os.environ.pop("COURSE_GUARD_SHIPPED", "").split(",")))
    roots = tuple(filter(None, os.environ.pop("COURSE_GUARD_READ_ONLY", "").split(",")))
    guard = Guard(int(os.environ.pop("COURSE_GUARD_FD")), trusted, os.path.realpath(os.getcwd()), roots, shipped)
    sys.addaudithook(guard.audit_hook)
    return guard
