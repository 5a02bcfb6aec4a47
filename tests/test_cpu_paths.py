"""solutions/ replays byte for byte on the code paths of other CPUs, simulated on this one.

The native replay is make test's own (nbval on solutions/). Here nbval replays each reference notebook again in a
subprocess whose kernels take another path: ATen's vectorised kernels for AVX2 or for no vector extension at all
(``ATEN_CPU_CAPABILITY``), and MKL limited to AVX2 or SSE4.2 (``MKL_ENABLE_INSTRUCTIONS``; with ``MKL_CBWR``, which
every kernel of the course gets, MKL takes one path anyway). A cell whose printed digits depend on the summation
order of a vectorised kernel fails here, on the machine where it was written.
"""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograd_course.arithmetic import REPRODUCIBLE_ARITHMETIC, reproducible_environment
from autograd_course.course import this_course
from autograd_course.grading.host_process import KernelHostProcess
from conftest import ASSIGNMENTS

PATHS = {"avx2": {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"},
         "no-vector-extension": {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ATEN_CPU_CAPABILITY": "default"}}


def simulated(path: str) -> dict[str, str]:
    return {**reproducible_environment(os.environ), **PATHS[path]}


@pytest.mark.parametrize("path", PATHS)
def test_torch_takes_the_simulated_path(path):
    """torch ignores a capability the CPU lacks: then the replays below would be the native one again."""
    capability = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                                env=simulated(path), capture_output=True, text=True, check=True).stdout.strip()
    assert capability == PATHS[path]["ATEN_CPU_CAPABILITY"].upper()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)  # one xdist work unit each (tests/work_units.py)
def test_solution_replays_on_another_cpu_path(path, assignment):
    course = this_course()
    replay = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval",
                             "--nbval-current-env", str(course.solution_notebook(assignment))],
                            cwd=course.root, env=simulated(path), capture_output=True, text=True)
    failed = [line for line in replay.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert replay.returncode == 0, "\n".join(failed) or replay.stdout[-3000:]


def test_make_gives_every_kernel_the_reproducible_arithmetic():
    makefile = (Path(this_course().root) / "Makefile").read_text()
    for name, value in REPRODUCIBLE_ARITHMETIC.items():
        assert f"\nexport {name} := {value}\n" in makefile


def test_the_graders_sandboxed_kernels_get_the_reproducible_arithmetic():
    """The sandbox starts its kernel host with this environment and nothing else (env -i), and each graded kernel
    with it too: without MKL_CBWR there, grading would compute on another path than the reference run."""
    folders = SimpleNamespace(folder=Path("/work/submission"), work=Path("/work"), matplotlib_config=Path("/work/matplotlib"))
    assert REPRODUCIBLE_ARITHMETIC.items() <= KernelHostProcess.environment(folders).items()
