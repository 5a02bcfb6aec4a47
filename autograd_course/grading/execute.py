"""Run one assembled notebook in a sandboxed, audited kernel and record what really happened.

The outputs recorded here come from the kernel's messages, cell by cell, with two rules a
student's code cannot bend: a cell whose execute reply says "error" gets an error output even if
the student silenced IPython's error display, and ``clear_output`` messages are ignored, so an
error once shown stays in the notebook. A cell that runs past its time limit, and a kernel that
dies (``os._exit``, a signal, the memory limit), end the run: the remaining cells are marked failed.

Each test cell runs with the guard's end marker appended (``cells.end_marker``, with a nonce
drawn for this run), and its source is put back afterwards; what the kernel replied for each test
cell is returned for the worker to hold against the guard's evidence. A judged test cell runs as
its kernel version (``test_calls.kernel_version``: no hidden block), and the kernel is told to send
the values its checks observe (``cases.RECORDING``) for the grader to judge.
"""

import asyncio
import json
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

from queue import Empty

import fastjsonschema
import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from traitlets import Any, Dict, Integer

from ..record import RECORDING
from .assemble import nbgrader_meta
from .cells import cell_digest, end_marker
from .kernel_host import HostDied
from .outputs import capped
from .phases import CELL, PhaseClock
from .sandbox import Sandbox
from . import syntax
from .transport import from_json

MAX_OUTPUT_CHARACTERS = 20_000


class KernelHost(Protocol):
    """What running a notebook needs of a worker: its kernel host, its sandbox and its folder."""

    folder: Path
    uid: int | None
    sandbox: Sandbox

    def request(self, op: str, fds: tuple[int, ...] = (), timeout: float = 30, **fields) -> dict: ...

    def environment(self) -> dict[str, str]: ...


class ForkedKernel:
    """What jupyter_client expects of a kernel's ``Popen``, for a kernel the worker's host forked."""

    stdin = stdout = stderr = None

    def __init__(self, worker: KernelHost, pid: int):
        self.worker = worker
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.worker.request("poll")["status"]
            except HostDied:
                self.returncode = -9
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        while self.poll() is None:
            time.sleep(0.005)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        try:
            self.worker.request("signal", signum=signum)
        except HostDied:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedProvisioner(LocalProvisioner):
    """Starts the kernel by asking the worker's host to fork one, with the guard's report pipe attached."""

    worker = Any()
    kernel_env = Dict()
    report_fd = Integer()
    clock = Any()  # a PhaseClock: the fork is timed apart from the rest of the kernel's start

    async def launch_kernel(self, cmd: list[str], **kwargs):
        connection_file = self.parent.connection_file
        if self.worker.uid is not None:
            os.chown(connection_file, self.worker.uid, self.worker.uid)
        with self.clock.phase("fork"):
            reply = self.worker.request("start", fds=(self.report_fd,), folder=str(self.worker.folder),
                                        connection_file=connection_file, env=self.kernel_env,
                                        cpu_time_limit=self.worker.sandbox.cpu_time_limit)
        self.process = ForkedKernel(self.worker, reply["pid"])
        self.pid, self.pgid = reply["pid"], None
        return self.connection_info

    async def wait(self) -> int | None:
        """As LocalProvisioner's, polling every 5 ms instead of 100: a killed kernel is gone at once."""
        while self.process is not None and await self.poll() is None:
            await asyncio.sleep(0.005)
        status, self.process = (self.process.returncode if self.process else 0), None
        return status


class PromptKernelClient(AsyncKernelClient):
    """jupyter_client's kernel client, minus the 0.2 s of IOPub silence it waits for after start-up.

    That wait only drains start-up messages, which nbclient ignores anyway (it keeps only the
    messages whose parent is the request it sent). Waiting for IOPub to carry a first message,
    which proves the subscription is live, stays.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while time.monotonic() < deadline:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info") from None
                continue
            if reply["msg_type"] != "kernel_info_reply":
                continue
            try:
                await self.iopub_channel.get_msg(timeout=0.2)
            except Empty:
                continue
            self._handle_kernel_info_reply(reply)
            return
        raise RuntimeError(f"Kernel didn't respond in {timeout} s")


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
        msg = capped(msg)
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
            last = outs[-1] if outs else None
            if last is not None and last.output_type == "stream" and last.name == msg["content"].get("name") \
                    and not self.output_hook_stack[msg["parent_header"].get("msg_id")]:
                # One print can reach us in pieces ('called at', ' 0.3') when the kernel is slow: one stream
                # output, as JupyterLab shows it, so the graded notebook and feedback read as it was printed.
                last.text += msg["content"]["text"]
                return last
        if self.output_hook_stack[msg["parent_header"].get("msg_id")]:
            return super().output(outs, msg, display_id, cell_index)  # an output widget's hook takes it
        out = output_node(msg)
        if out is None:
            self.log.error(f"unhandled or invalid iopub msg: {msg['msg_type']}")
            return None
        if display_id:  # where update_display_data finds it, as nbclient records it
            self._display_id_map.setdefault(display_id, {}).setdefault(cell_index, []).append(len(outs))
        outs.append(out)
        return out

    def clear_output(self, outs, msg, cell_index):
        return None


# nbformat's schema of one output, compiled once. nbformat's own check of each output (``new_output``) goes through
# jsonschema, whatever validator is configured: most of the grader's CPU for a notebook that prints as it trains.
OUTPUT_SCHEMA = json.loads((resources.files(nbformat.v4) / nbformat.v4.nbformat_schema[None, None]).read_text())
OUTPUT_IS_VALID = fastjsonschema.compile({**OUTPUT_SCHEMA, "$ref": "#/definitions/output"})


def output_node(msg: dict) -> NotebookNode | None:
    """The output an IOPub message shows, as nbformat's ``output_from_msg`` makes it, checked against the same schema;
    None for a message that is not an output or not a valid one."""
    content = msg["content"]
    fields = {"execute_result": ("metadata", "data", "execution_count"), "display_data": ("metadata", "data"),
              "stream": ("name", "text"), "error": ("ename", "evalue", "traceback")}.get(msg["header"]["msg_type"])
    if fields is None or not all(field in content for field in fields):
        return None
    out = nbformat.from_dict({"output_type": msg["header"]["msg_type"], **{field: content[field] for field in fields}})
    try:
        OUTPUT_IS_VALID(out)
    except fastjsonschema.JsonSchemaException:
        return None
    return out


@dataclass
class TrustedCell:
    """An instructor cell as it ran: its name, its digest (a test cell's with the end marker), what the kernel
    replied, and whether it is a test cell (it must then also reach its end marker)."""

    name: str
    digest: str
    test: bool
    status: str = "not run"  # "ok", "error", "timeout" or "not run"


@dataclass
class Run:
    """What one execution produced: the notebook with outputs, why it stopped early, how each test cell ended."""

    notebook: NotebookNode
    stopped: str | None = None
    trusted: list[TrustedCell] = field(default_factory=list)
    cell_names: dict[str, str] = field(default_factory=dict)  # digest of each code cell as run -> its id


def _failure(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


async def _run_cells(client: TrustedNotebookClient, notebook: NotebookNode, run: Run, clock: PhaseClock) -> None:
    started, forked = time.perf_counter(), clock.phases.get("fork", 0.0)
    try:
        async with client.async_setup_kernel():
            # From asking for a kernel to its first reply, but the fork (timed on its own).
            clock.add("kernel start-up", time.perf_counter() - started - (clock.phases.get("fork", 0.0) - forked))
            await _run_each_cell(client, notebook, run, clock)
    finally:
        # nbclient leaves a kernel manager it did not create running; the host's reset then kills the rest.
        if client.km is not None and client.km.has_kernel:
            with clock.phase("kernel stop"):
                await client.km.shutdown_kernel(now=True)


async def _run_each_cell(client: TrustedNotebookClient, notebook: NotebookNode, run: Run, clock: PhaseClock) -> None:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if run.stopped:
            cell.outputs.append(_failure("GradingStopped", run.stopped))
            continue
        try:
            with clock.phase(CELL + cell.get("id", f"{index + 1}")):
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


def runs_code(source: str) -> bool:
    """Whether IPython will execute anything of this cell (the guard sees nothing of a cell of comments)."""
    try:
        return bool(syntax.parse(source).body)
    except SyntaxError:
        return False


def mark_test_cells(notebook: NotebookNode, trusted_cells: set[str]) -> dict[int, TrustedCell]:
    """Append the end marker to every instructor test cell; the instructor cells that run code, by index."""
    nonce = secrets.token_hex(16)
    trusted = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or cell_digest(cell.source) not in trusted_cells or not runs_code(cell.source):
            continue
        test = bool(nbgrader_meta(cell).get("grade"))
        if test:
            cell.source = end_marker(cell.source, nonce)
        trusted[index] = TrustedCell(cell.get("id", f"cell {index + 1}"), cell_digest(cell.source), test)
    return trusted


def execute(notebook_json: str, worker: KernelHost, *, report_fd: int, trusted_cells: set[str],
            shipped_files: set[str], cell_timeout: int, kernel_versions: dict[str, str],
            protected: frozenset[str] = frozenset(), clock: PhaseClock | None = None) -> Run:
    """Execute a notebook in a kernel forked by ``worker``'s host, in ``worker.folder``.

    A cell whose source's digest is a key of ``kernel_versions`` runs as its value instead; the guard keeps the
    ``protected`` names (``protected.notebook_protected_names``) bound as the instructor's cells left them. ``clock``
    gets the phases of the run: the fork, the kernel's start-up, each cell, the kernel's stop.
    Returns the run: ``run.notebook`` has the outputs and the test cells' sources as shipped.
    """
    notebook = from_json(notebook_json)
    shipped_sources = {index: cell.source for index, cell in enumerate(notebook.cells)}
    for cell in notebook.cells:
        cell.source = kernel_versions.get(cell_digest(cell.source), cell.source)
    trusted = mark_test_cells(notebook, trusted_cells)
    run = Run(notebook, trusted=list(trusted.values()),
              cell_names={cell_digest(cell.source): cell.get("id", "a cell") for cell in notebook.cells
                          if cell.cell_type == "code"})
    folder = worker.folder
    env = {**worker.environment(), "COURSE_GUARD_TRUSTED": ",".join(sorted(trusted_cells)),
           "COURSE_GUARD_TESTS": ",".join(cell.digest for cell in run.trusted if cell.test),
           "COURSE_GUARD_SHIPPED": ",".join(sorted(shipped_files)),
           "COURSE_GUARD_PROTECTED": ",".join(sorted(protected)),
           "COURSE_GUARD_READ_ONLY": ",".join(worker.sandbox.read_only_paths()), RECORDING: "1"}
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(folder / ".kernel"),
                            connection_file=str(folder / ".kernel.json"),
                            client_class="autograd_course.grading.execute.PromptKernelClient")
    clock = clock if clock is not None else PhaseClock()
    km.provisioner = ForkedProvisioner(worker=worker, kernel_env=env, report_fd=report_fd, clock=clock,
                                       kernel_id="graded", kernel_spec=km.kernel_spec, parent=km)
    # iopub_timeout: how long nbclient waits, after a cell's reply, for the rest of its output (the values a test
    # sends out to be judged, what it prints). nbclient's 4 s drops it silently on a loaded machine, where an honest
    # notebook's values then went missing; a kernel that holds them back gains nothing but the cell's own time.
    client = TrustedNotebookClient(notebook, km=km, timeout=cell_timeout, iopub_timeout=cell_timeout,
                                   allow_errors=True, record_timing=False, startup_timeout=120,
                                   shutdown_kernel="immediate",
                                   resources={"metadata": {"path": str(folder)}})
    try:
        asyncio.run(_run_cells(client, notebook, run, clock))
    except RuntimeError as error:
        log = folder / ".kernel.log"
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.is_file() else []
        raise RuntimeError(f"{error}: {' | '.join(tail)}") from None
    for index, cell in trusted.items():
        reply, outputs = client.replies.get(index), notebook.cells[index].outputs
        if any(out.output_type == "error" and out.ename == "CellTimeout" for out in outputs):
            cell.status = "timeout"
        elif reply is not None:
            failed = reply["content"].get("status") != "ok" or any(out.output_type == "error" for out in outputs)
            cell.status = "error" if failed else "ok"
    for index, source in shipped_sources.items():
        notebook.cells[index].source = source
    return run
