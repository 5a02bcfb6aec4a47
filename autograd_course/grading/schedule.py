"""Where submissions run: a pool of sandboxed workers on this machine, or a Dask cluster.

Both take jobs lazily from the grader (so preparing the next submission overlaps running the
current ones) and hand back ``(job, result or exception)`` as runs finish, in the grader's own
thread: that thread is the only one that writes the gradebook.
"""

import atexit
import os
import queue
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from traitlets.config import Config

from .sandbox import Sandbox, Unconfined
from .worker import Job, Result, Worker

Finished = tuple[Job, Result | BaseException]


class LocalPool:
    """``workers`` sandboxed kernel hosts (one per core by default), each running one submission at a time; none for
    a batch with nothing to run."""

    def __init__(self, sandbox: Sandbox, workers: int | None = None):
        self.size = (os.cpu_count() or 1) if workers is None else workers
        self.scratch = tempfile.TemporaryDirectory(prefix="grading-workers-")
        self.idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self.executor = ThreadPoolExecutor(max_workers=max(1, self.size), thread_name_prefix="grading-slot")
        self.host_starts: list[float] = []  # seconds each slot's kernel host took to start, as they come
        for slot in range(self.size):
            self.executor.submit(self._start, Worker(sandbox, Path(self.scratch.name) / f"slot-{slot}"))

    def _start(self, worker: Worker) -> None:
        """Start a slot's host now, while the grader prepares its first submissions; idle once it is ready.

        A host that cannot start is started again by the slot's first run, which then fails with the reason.
        """
        started = time.perf_counter()
        try:
            worker.start()
            self.host_starts.append(time.perf_counter() - started)
        finally:
            self.idle.put(worker)

    def _run(self, job: Job) -> Result:
        worker = self.idle.get()
        try:
            return worker.run(job)
        finally:
            self.idle.put(worker)

    def run(self, jobs: Iterable[Job]) -> Iterator[Finished]:
        pending = {}
        source = iter(jobs)
        while True:
            while len(pending) < 2 * self.size and (job := next(source, None)) is not None:
                pending[self.executor.submit(self._run, job)] = job
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                yield job, future.exception() or future.result()

    def close(self) -> None:
        for _ in range(self.size):
            self.idle.get().close()
        self.executor.shutdown()
        self.scratch.cleanup()


class DaskPool:
    """Runs each job on a ``dask.distributed`` cluster; notebooks travel as JSON, results come back here."""

    def __init__(self, address: str, sandbox: Sandbox):
        from distributed import Client

        self.client = Client(address)
        self.confined = sandbox.confined
        self.config = sandbox.config  # the limits, as the course configured them
        self.size = max(1, sum(self.client.nthreads().values()))

    def run(self, jobs: Iterable[Job]) -> Iterator[Finished]:
        from distributed import as_completed

        source = iter(jobs)
        first = [job for _, job in zip(range(2 * self.size), source)]
        futures = {self.client.submit(run_on_dask_worker, job, self.confined, self.config, pure=False): job
                   for job in first}
        running = as_completed(list(futures))
        for future in running:
            job = futures.pop(future)
            yield job, future.exception() or future.result()
            if (next_job := next(source, None)) is not None:
                submitted = self.client.submit(run_on_dask_worker, next_job, self.confined, self.config, pure=False)
                futures[submitted] = next_job
                running.add(submitted)

    def close(self) -> None:
        self.client.close()


_dask_worker: Worker | None = None


def run_on_dask_worker(job: Job, confined: bool, config: Config) -> Result:
    """Runs on a Dask worker: one sandboxed kernel host per worker process, started on first use."""
    global _dask_worker
    if _dask_worker is None:
        sandbox = Sandbox(config=config) if confined else Unconfined(config=config)
        sandbox.check_available()
        _dask_worker = Worker(sandbox, root=Path(tempfile.mkdtemp(prefix="dask-grading-worker-")))
        atexit.register(_dask_worker.close)
    return _dask_worker.run(job)
