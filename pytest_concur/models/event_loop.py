"""asyncio: one event loop in the test's thread; workers bounds the tasks in flight.

A coroutine function is awaited on the loop. A plain function is called on the loop
itself, so it blocks every other task while it runs: that is what the notes claim
about blocking calls inside coroutines, measured rather than hidden.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from ._base import ModelOptions, is_coroutine_function


class _LoopPool:
    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._loop = asyncio.new_event_loop()

    async def _run_all(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        limit = asyncio.Semaphore(self._workers)
        is_async = is_coroutine_function(fn)

        async def one(item: Any) -> Any:
            async with limit:
                if is_async:
                    return await fn(item)
                return fn(item)

        return list(await asyncio.gather(*(one(item) for item in items)))

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return self._loop.run_until_complete(self._run_all(fn, list(items)))

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()


class AsyncioModel:
    name = "asyncio"
    summary = "one event loop, tasks take turns at await points: overlaps waiting on one core"

    def unavailable(self) -> str | None:
        return None

    def start(self, workers: int, options: ModelOptions) -> _LoopPool:
        return _LoopPool(workers)
