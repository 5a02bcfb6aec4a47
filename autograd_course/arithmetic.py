"""The same float bits on every x86-64 CPU: settings a kernel's process must have when it starts.

torch's BLAS on x86 is MKL, which picks its code path (SSE, AVX2, AVX-512 ...) by the CPU it finds, and each path
adds the terms of a matrix product in its own order: a recorded output that depends on the last bits of a product
would replay on one CPU and not on another. MKL's conditional numerical reproducibility, ``MKL_CBWR=COMPATIBLE``,
makes every CPU take the same path. MKL reads the variable once, at its first call, so it must be in the
environment the process starts with: setting ``os.environ`` in a kernel that has imported torch is too late.

torch's own vectorised kernels (ATen's, chosen by ``ATEN_CPU_CAPABILITY``) still differ from CPU to CPU; the
notebooks print nothing that depends on them, which ``tests/test_cpu_paths.py`` checks by replaying ``solutions/``
under each of them.
"""

REPRODUCIBLE_ARITHMETIC = {"MKL_CBWR": "COMPATIBLE"}


def reproducible_environment(environment) -> dict[str, str]:
    """``environment`` (a mapping such as ``os.environ``) with the settings above."""
    return {**environment, **REPRODUCIBLE_ARITHMETIC}
