"""threads: a ThreadPoolExecutor; parallel for CPU work only on free-threaded CPython."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._base import ModelOptions, call_blocking

_START_TIMEOUT_S = 60.0


class _ThreadPool:
    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="concur")
        # start every worker now, so start-up is paid (and measured) before the first task
        barrier = threading.Barrier(workers)
        ready = [self._executor.submit(barrier.wait, _START_TIMEOUT_S) for _ in range(workers)]
        for future in ready:
            future.result()

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        futures = [self._executor.submit(call_blocking, fn, item) for item in items]
        return [future.result() for future in futures]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Stop taking tasks; a thread stuck in a task cannot be stopped, only left behind."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class ThreadsModel:
    name = "threads"
    summary = "a pool of OS threads: overlaps waiting; computes in parallel only without the GIL"

    def unavailable(self) -> str | None:
        return None

    def start(self, workers: int, options: ModelOptions) -> _ThreadPool:
        return _ThreadPool(workers)
