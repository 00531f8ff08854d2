"""threads: a ThreadPoolExecutor; parallel for CPU work only on free-threaded CPython."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ._base import ExecutorPool, ModelOptions

_START_TIMEOUT_S = 60.0


class _ThreadPool(ExecutorPool):
    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="concur")
        # start every worker now, so start-up is paid (and measured) before the first task
        barrier = threading.Barrier(workers)
        ready = [self._executor.submit(barrier.wait, _START_TIMEOUT_S) for _ in range(workers)]
        for future in ready:
            future.result()


class ThreadsModel:
    name = "threads"
    summary = "a pool of OS threads: overlaps waiting; computes in parallel only without the GIL"

    def unavailable(self) -> str | None:
        return None

    def start(self, workers: int, options: ModelOptions) -> _ThreadPool:
        return _ThreadPool(workers)
