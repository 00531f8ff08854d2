"""subinterpreters: ``concurrent.futures.InterpreterPoolExecutor`` (Python 3.14 and newer).

Each worker is a thread with an interpreter of its own, and so a GIL of its own: CPU
work runs in parallel inside one process. Functions, arguments and results are pickled
between interpreters, so ``fn`` must live in an importable module (not ``__main__``);
each worker interpreter gets the test process's ``sys.path`` so test modules import.
CPU time stays in the test process. A coroutine function gets an asyncio loop of its
own in the worker's interpreter. ``os._exit`` or a crash in a task ends the whole test
process: interpreters share it.
"""

from __future__ import annotations

import concurrent.futures
import os
import select
import sys
import time
from typing import Any

from ._base import ExecutorPool, ModelOptions

_START_TIMEOUT_S = 120.0


def _use_paths(paths: tuple[str, ...]) -> None:
    """Worker-interpreter initializer: import from where the test process imports."""
    sys.path[:] = list(paths)


def _arrive(ready: int, go: int) -> None:
    """Start-up task: say this worker is up, then hold it until every worker is up."""
    os.write(ready, b".")
    os.read(go, 1)


class _InterpreterPool(ExecutorPool):
    def __init__(self, workers: int) -> None:
        executor_type: Any = getattr(concurrent.futures, "InterpreterPoolExecutor")  # noqa: B009 - 3.14+
        self._executor = executor_type(
            max_workers=workers,
            thread_name_prefix="concur-interp",
            initializer=_use_paths,
            initargs=(tuple(sys.path),),
        )
        self._start_all(workers)

    def _start_all(self, workers: int) -> None:
        # each start-up task blocks until all have arrived, so each holds its own worker:
        # every interpreter exists before the first task, and start-up is measured
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        try:
            arrivals = [self._executor.submit(_arrive, ready_w, go_r) for _ in range(workers)]
            arrived = 0
            deadline = time.monotonic() + _START_TIMEOUT_S
            while arrived < workers:
                failed = [f for f in arrivals if f.done() and f.exception() is not None]
                if failed:
                    os.write(go_w, b"." * workers)
                    failed[0].result()  # raises the start-up error
                if time.monotonic() > deadline:
                    raise TimeoutError(f"interpreters did not start in {_START_TIMEOUT_S}s")
                readable, _, _ = select.select([ready_r], [], [], 0.05)
                if readable:
                    arrived += len(os.read(ready_r, workers))
            os.write(go_w, b"." * workers)
            for future in arrivals:
                future.result()
        finally:
            for fd in (ready_r, ready_w, go_r, go_w):
                os.close(fd)


class SubinterpretersModel:
    name = "subinterpreters"
    summary = "one interpreter (and GIL) per worker thread: parallel CPU work in one process"

    def unavailable(self) -> str | None:
        if not hasattr(concurrent.futures, "InterpreterPoolExecutor"):
            version = ".".join(str(part) for part in sys.version_info[:3])
            return (
                "needs Python 3.14 or newer (concurrent.futures.InterpreterPoolExecutor); "
                f"this is Python {version}"
            )
        return None

    def start(self, workers: int, options: ModelOptions) -> _InterpreterPool:
        return _InterpreterPool(workers)
