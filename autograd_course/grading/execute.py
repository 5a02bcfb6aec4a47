"""Run one assembled notebook in a sandboxed, audited kernel and record what really happened.

The outputs recorded here come from the kernel's messages, cell by cell, with two rules a
student's code cannot bend: a cell whose execute reply says "error" gets an error output even if
the student silenced IPython's error display, and ``clear_output`` messages are ignored, so an
error once shown stays in the notebook. A cell that runs past its time limit, and a kernel that
dies (``os._exit``, a signal, the memory limit), end the run: the remaining cells are marked failed.
"""

import asyncio
import json
import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from traitlets import Integer, List

from .guard import MAX_REPORTS
from .sandbox import Sandbox

MAX_OUTPUT_CHARACTERS = 20_000


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is the audited guard, started through the sandbox's command line."""

    sandbox_prefix = List()
    sandbox_uid = Integer(None, allow_none=True)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        # Called right after the connection file is written: hand it to the sandbox user.
        if self.sandbox_uid is not None:
            os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)
        return [*self.sandbox_prefix, sys.executable, "-m", "autograd_course.grading.guard", "-f",
                self.connection_file]


class TrustedNotebookClient(NotebookClient):
    """nbclient that caps outputs, ignores clear_output and keeps each cell's execute reply."""

    output_budget = Integer(MAX_OUTPUT_CHARACTERS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stream_characters: dict[int, int] = {}
        self.replies: dict[int, dict] = {}
        self.on_cell_executed = self._keep_reply

    def _keep_reply(self, cell, cell_index, execute_reply):
        self.replies[cell_index] = execute_reply

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            used = self._stream_characters.get(cell_index, 0)
            room = self.output_budget - used
            if room <= 0:
                return None
            text = msg["content"].get("text", "")
            if len(text) > room:
                cut = f"\n[output cut: the grader keeps {self.output_budget} characters per cell]\n"
                msg = {**msg, "content": {**msg["content"], "text": text[:room] + cut}}
            self._stream_characters[cell_index] = used + len(text)
        return super().output(outs, msg, display_id, cell_index)

    def clear_output(self, outs, msg, cell_index):
        return None


@dataclass
class Run:
    """What one execution produced: the notebook with outputs, audit reports, and why it stopped early."""

    notebook: NotebookNode
    reports: list[dict] = field(default_factory=list)
    stopped: str | None = None


def _failure(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _read_reports(pipe_end: int, reports: list[dict]) -> None:
    with os.fdopen(pipe_end, "rb") as channel:
        for line in channel:
            if len(reports) >= MAX_REPORTS:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = {"kind": "tamper", "event": "forged audit line", "detail": line[:200].decode(errors="replace")}
            if isinstance(record, dict):
                reports.append(record)


def seed_matplotlib_cache(folder: Path) -> Path:
    """A private matplotlib config folder with the font list already built (building it writes to stderr)."""
    target = folder / ".matplotlib"
    target.mkdir(exist_ok=True)
    for font_list in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
        shutil.copy(font_list, target)
    return target


async def _run_cells(client: TrustedNotebookClient, notebook: NotebookNode, run: Run, pass_fds, kernel_log) -> None:
    try:
        async with client.async_setup_kernel(pass_fds=pass_fds, stdout=kernel_log, stderr=kernel_log):
            await _run_each_cell(client, notebook, run)
    finally:
        # nbclient leaves a kernel manager it did not create running; killing bwrap ends the whole sandbox.
        if client.km.has_kernel:
            await client.km.shutdown_kernel(now=True)


async def _run_each_cell(client: TrustedNotebookClient, notebook: NotebookNode, run: Run) -> None:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if run.stopped:
            cell.outputs.append(_failure("GradingStopped", run.stopped))
            continue
        try:
            await client.async_execute_cell(cell, index, execution_count=index + 1)
        except CellTimeoutError:
            run.stopped = f"the cell ran longer than {client.timeout} s and the kernel was stopped"
            cell.outputs.append(_failure("CellTimeout", run.stopped))
        except DeadKernelError:
            run.stopped = "the kernel died (os._exit, a signal, or the memory limit)"
            cell.outputs.append(_failure("KernelDied", run.stopped))
        else:
            reply = client.replies.get(index)
            if reply and reply["content"].get("status") == "error" and not any(
                    out.output_type == "error" for out in cell.outputs):
                content = reply["content"]
                cell.outputs.append(_failure(content.get("ename", "Error"), content.get("evalue", "")))


def execute(notebook: NotebookNode, folder: Path, sandbox: Sandbox, *, slot: int, trusted_cells: set[str],
            shipped_files: set[str], cell_timeout: int, log_path: Path) -> Run:
    """Execute ``notebook`` with ``folder`` as the kernel's working directory and only writable place."""
    run = Run(notebook)
    uid = sandbox.uid_for(slot)
    if uid is not None:
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
    read_end, write_end = os.pipe()
    reader = threading.Thread(target=_read_reports, args=(read_end, run.reports), daemon=True)
    reader.start()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(seed_matplotlib_cache(folder)), "OMP_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "COURSE_GUARD_FD": str(write_end), "COURSE_GUARD_TRUSTED": ",".join(sorted(trusted_cells)),
        "COURSE_GUARD_SHIPPED": ",".join(sorted(shipped_files)),
        "COURSE_GUARD_READ_ONLY": ",".join(sandbox.read_only_paths()),
    }
    km = SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(folder / ".kernel"),
                                connection_file=str(folder / ".kernel.json"))
    km.sandbox_prefix = sandbox.wrap([], folder, env, uid)
    km.sandbox_uid = uid
    client = TrustedNotebookClient(notebook, km=km, timeout=cell_timeout, allow_errors=True,
                                   record_timing=False, startup_timeout=120, shutdown_kernel="immediate",
                                   resources={"metadata": {"path": str(folder)}})
    with open(log_path, "wb") as kernel_log:
        try:
            asyncio.run(_run_cells(client, notebook, run, (write_end,), kernel_log))
        except RuntimeError as error:
            kernel_log.flush()
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{error}: {' | '.join(tail)}") from None
        finally:
            os.close(write_end)
            reader.join(timeout=5)
    return run
