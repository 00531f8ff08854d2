"""processes: a ProcessPoolExecutor with a selectable start method (fork, forkserver, spawn)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any

from ._base import ModelOptions, WorkerDiedError, call_blocking, describe_exit

_START_TIMEOUT_S = 120.0
_EXIT_STATUS_WAIT_S = 2.0
_startup_barrier: Any = None


def _remember_barrier(barrier: Any) -> None:
    global _startup_barrier  # worker-process state, set once by the pool initializer
    _startup_barrier = barrier


def _wait_for_siblings() -> None:
    _startup_barrier.wait(_START_TIMEOUT_S)


def default_start_method() -> str:
    """The start method a pool gets when none is chosen (fork on Linux before 3.14)."""
    return multiprocessing.get_start_method(allow_none=False)


def worker_died(processes: Iterable[Any], cause: BaseException) -> WorkerDiedError:
    """The error a round fails with when a pool lost a worker; names who died and how."""
    processes = list(processes)
    # The pool's own thread reaps its workers too; while it holds a status our poll reads
    # None, so ask again until every worker has an exit code or the deadline passes.
    deadline = time.monotonic() + _EXIT_STATUS_WAIT_S
    while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
        for process in processes:
            process.join(0.05)
    # the pool terminates the survivors: the worker that ended some other way comes first
    ordered = sorted(processes, key=lambda p: p.exitcode == -signal.SIGTERM)
    ended = [describe_exit(p.pid, p.exitcode) for p in ordered if p.exitcode is not None]
    detail = "; ".join(ended) if ended else "no exit status known"
    return WorkerDiedError(f"worker process died: {detail} ({cause})")


class _ProcessPool:
    def __init__(self, workers: int, start_method: str) -> None:
        context = multiprocessing.get_context(start_method)
        self.start_method = start_method
        barrier = context.Barrier(workers)
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_remember_barrier,
            initargs=(barrier,),
        )
        # every worker must be up before the first task: start-up is measured, not hidden
        ready = [self._executor.submit(_wait_for_siblings) for _ in range(workers)]
        for future in ready:
            future.result()
        # kept to say which worker died and how (the executor keeps no public list)
        self._processes = list(getattr(self._executor, "_processes", {}).values())

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        try:
            futures = [self._executor.submit(partial(call_blocking, fn), item) for item in items]
            return [future.result() for future in futures]
        except BrokenProcessPool as exc:
            raise worker_died(self._processes, exc) from exc

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Kill the workers and return without waiting on their tasks (after a timeout)."""
        for process in self._processes:
            if process.exitcode is None:
                process.kill()
        self._executor.shutdown(wait=False, cancel_futures=True)


class ProcessesModel:
    name = "processes"
    #: tasks cross processes as pickles: the runner measures that (transfer_bytes)
    pickles_tasks = True
    summary = "a pool of worker processes: parallel CPU work on any interpreter; pays start-up"

    def unavailable(self) -> str | None:
        return None

    def start(self, workers: int, options: ModelOptions) -> _ProcessPool:
        return _ProcessPool(workers, options.start_method or default_start_method())
