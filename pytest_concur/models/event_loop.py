"""asyncio: one event loop in the test's thread; workers bounds the tasks in flight.

A coroutine function is awaited on the loop. A plain function is called on the loop
itself, so it blocks every other task while it runs: that is what the notes claim
about blocking calls inside coroutines, measured rather than hidden.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from .._measuring.timeout import RoundTimeout
from ._base import ModelOptions, is_coroutine_function

_ABORT_WAIT_S = 1.0
_ABORT_PASSES = 3


class _LoopPool:
    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._loop = asyncio.new_event_loop()
        # the last map's futures, kept so that an abort can settle every one of them
        self._futures: list[asyncio.Future[Any]] = []

    async def _run_all(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        limit = asyncio.Semaphore(self._workers)
        is_async = is_coroutine_function(fn)

        async def one(item: Any) -> Any:
            async with limit:
                if is_async:
                    return await fn(item)
                return fn(item)

        tasks = [asyncio.ensure_future(one(item)) for item in items]
        gathered = asyncio.gather(*tasks)
        self._futures.extend([*tasks, gathered])
        return list(await gathered)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        main = self._loop.create_task(self._run_all(fn, list(items)))
        self._futures = [main]
        return self._loop.run_until_complete(main)

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    def abort(self) -> None:
        """Stop after a timeout: cancel what is pending, settle every future, close.

        Tasks left pending or with an unread error would be finalized at some later
        garbage collection and log from there (on 3.11 that can even break pytest's own
        traceback formatting), so each is settled now. A task not yet started never runs;
        the one the timeout interrupted has already ended.
        """
        if self._loop.is_closed():
            return
        for _ in range(_ABORT_PASSES):
            pending = [future for future in self._futures if not future.done()]
            if not pending:
                break
            for future in pending:
                future.cancel()
            waiter = self._loop.create_task(asyncio.wait(pending, timeout=_ABORT_WAIT_S))
            self._futures.append(waiter)
            try:
                self._loop.run_until_complete(waiter)
            except RoundTimeout:
                continue  # a task re-raised the timeout on its way out: settle the rest
        for future in self._futures:
            if future.done() and not future.cancelled():
                future.exception()  # read, so nothing logs "never retrieved" later
        self._futures = []
        self._loop.close()


class AsyncioModel:
    name = "asyncio"
    summary = "one event loop, tasks take turns at await points: overlaps waiting on one core"

    def unavailable(self) -> str | None:
        return None

    def start(self, workers: int, options: ModelOptions) -> _LoopPool:
        return _LoopPool(workers)
