"""Reference notebooks: each source notebook executed top to bottom, outputs recorded for nbval."""

import os
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import Unicode, default

from .arithmetic import reproducible_environment
from .course import Course
from .kernels import ipc_socket_path


class StderrWritten(RuntimeError):
    """A cell wrote to stderr: nbgrader would fail a test cell for it, nbval would not replay it."""


class IPCKernelManager(AsyncKernelManager):
    """A kernel on IPC sockets (``autograd_course.kernels``): ipykernel then has no TCP warning to print."""

    transport = Unicode("ipc")

    @default("ip")
    def _socket_path(self) -> str:
        return ipc_socket_path("build-kernel")


def execute(notebook: nbformat.NotebookNode, working_dir: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel; only cells tagged ``raises-exception`` may raise."""
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", record_timing=False, kernel_manager_class=IPCKernelManager,
        resources={"metadata": {"path": str(working_dir)}},
    ).execute(env=reproducible_environment(os.environ))
    return notebook


def merge_streams(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Join consecutive stdout (or stderr) chunks: how the kernel splits a print is timing, not content."""
    for cell in notebook.cells:
        merged = []
        for out in cell.get("outputs", []):
            if merged and out.output_type == "stream" and merged[-1].output_type == "stream" \
                    and merged[-1].name == out.name:
                merged[-1].text += out.text
            else:
                merged.append(out)
        if cell.cell_type == "code":
            cell.outputs = merged
    return notebook


def stderr_cells(notebook: nbformat.NotebookNode) -> list[int]:
    return [
        index for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and any(out.output_type == "stream" and out.name == "stderr" for out in cell.outputs)
    ]


def record_solution(course: Course, assignment_id: str) -> Path:
    """Write solutions/<id>/<id>.ipynb: the source notebook with the outputs of one clean run."""
    source = course.source_notebook(assignment_id)
    notebook = merge_streams(execute(nbformat.read(source, as_version=4), source.parent))
    noisy = stderr_cells(notebook)
    if noisy:
        raise StderrWritten(f"{source}: cells {noisy} wrote to stderr")
    target = course.solution_notebook(assignment_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target
