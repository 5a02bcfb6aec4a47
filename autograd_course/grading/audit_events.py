"""The audit events the guard judges as the submission's: what is tampering, an escape, or unsafe deserializing.

An event whose innermost Python code is the submission's is judged as the submission's:

- ``tamper``: imports beyond the allowed modules, ``compile``/``exec`` of generated code, frame access
  (``sys._getframe``, ``tb_frame``, ``gi_frame``), class or function attribute patching, ``marshal``; refused
  outright (the kernel ends at once): the garbage collector, tracing, ctypes, new audit hooks, building code or
  function objects;
- ``escape``: files outside the folder (and ``/proc/*/mem``, ``maps``, ``fd``, ``environ`` ...), sockets,
  processes, signals, ``chdir``;
- ``deserialize``: a pickle class look-up of anything beyond plain data, whoever asks for it.
"""

import os

from .policy import ALLOWED_IMPORTS
from .provenance import caller
from .snapshots import plain

PATH_EVENTS = {"os.chdir", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.rmdir", "os.symlink",
               "os.link", "shutil.rmtree", "os.chmod", "os.chown", "os.truncate", "os.mkdir"}
READING_PATH_EVENTS = {"os.listdir", "os.scandir"}
ESCAPE_EVENTS = PATH_EVENTS | {
    "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto", "subprocess.Popen",
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "signal.pthread_kill", "builtins.input", "sqlite3.connect"}
# Events that could reach the hook itself or rebuild code: the kernel ends at once, so nothing runs after them.
REFUSED_EVENTS = {"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile",
                  "sys.addaudithook", "sys._current_frames", "object.__delattr__", "function.__new__",
                  "code.__new__", "sys.set_asyncgen_hooks_firstiter", "cpython.PyInterpreterState_Clear"}
# Events libraries raise all the time on their own behalf: judged only when the submission's code raised them.
INNERMOST_EVENTS = {"import", "compile", "sys._getframe", "object.__setattr__", "object.__getattr__",
                    "marshal.loads", "marshal.load"}
# What a pickle may name and still be plain data.
PLAIN_PICKLE_GLOBALS = {("builtins", name) for name in ("set", "frozenset", "bytearray", "complex", "slice",
                                                         "range", "bytes", "list", "dict", "tuple")} \
    | {("collections", "OrderedDict"), ("_codecs", "encode")}
# What a process's /proc files tell of its memory and descriptors: where the hook, the key and the hidden tests are.
PRIVATE_PROC_FILES = ("/mem", "/fd", "/fdinfo", "/environ", "/map_files", "/pagemap", "/maps", "/smaps", "/numa_maps",
                      "/auxv", "/stack", "/syscall", "/task", "/root", "/cwd", "/exe")
REFUSED_EXIT_STATUS = 86


class EventJudge:
    """Judges one audit event at a time, reporting the submission's. Every judgement is called by the hook
    through ``Guard.in_guard`` and calls ``caller()`` itself, which counts on exactly that depth."""

    def __init__(self, reporter, provenance, folder: str, read_only_roots: tuple[str, ...], shipped_files: set[str]):
        self.reporter = reporter
        self.provenance = provenance
        self.folder = folder
        self.read_only_roots = read_only_roots
        self.shipped_files = shipped_files

    def refuse(self, event: str) -> None:
        frame = self.provenance.submission_frame(caller(), innermost_only=False)
        if frame is not None:
            self.reporter.report("tamper", event, "refused: the kernel was stopped", frame)
            os._exit(REFUSED_EXIT_STATUS)

    def pickle(self, args: tuple) -> None:
        self.reporter.report("deserialize", "pickle.find_class", f"{plain(args[0])}.{plain(args[1])}",
                             self.provenance.submission_frame(caller(), innermost_only=False))

    def innermost(self, event: str, args: tuple) -> None:
        frame = self.provenance.submission_frame(caller(), innermost_only=True)
        if frame is None:
            return
        if event == "import":
            if str(args[0]).split(".")[0] not in ALLOWED_IMPORTS:
                self.reporter.report("tamper", event, plain(args[0]), frame)
        elif event in ("object.__setattr__", "object.__getattr__"):
            self.reporter.report("tamper", event, f"{type(args[0]).__name__}.{plain(args[1])}", frame)
        else:
            self.reporter.report("tamper", event, "", frame)

    def anywhere(self, event: str, args: tuple) -> None:
        frame = self.provenance.submission_frame(caller(), innermost_only=False)
        if frame is None:
            return
        if event == "open":
            path, mode = args[0], args[1]
            if type(path) is not str:
                return
            writes = type(mode) is str and any(flag in mode for flag in "wax+")
            if path.startswith("/dev/") or (path.startswith("/proc/") and not writes
                                            and not any(part in path for part in PRIVATE_PROC_FILES)):
                return
            self._judge_path(event, path, writes, frame, f"{path} ({plain(mode)})")
        elif event in PATH_EVENTS:
            path = args[0] if args and type(args[0]) is str else "."
            self._judge_path(event, path, event not in READING_PATH_EVENTS, frame, plain(args))
        else:
            self.reporter.report("escape", event, plain(args), frame)

    def _outside_folder(self, path: str) -> bool:
        real = os.path.realpath(path)
        return not (real == self.folder or real.startswith(self.folder + os.sep))

    def _judge_path(self, event: str, path: str, writes: bool, frame, detail: str) -> None:
        real = os.path.realpath(path)
        if event == "os.chdir" or path.startswith("/proc/") or (self._outside_folder(path) and (
                writes or not real.startswith(self.read_only_roots))):
            self.reporter.report("escape", event, detail, frame)
        elif writes and os.path.relpath(real, self.folder) in self.shipped_files:
            self.reporter.report("escape", event, f"modifies shipped file {path}", frame)
