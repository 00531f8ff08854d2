"""asyncio-processes: one event loop per worker process, the tasks dealt out over the loops.

The notes say coroutines need processes to use several cores; this model is that
arrangement. ``workers`` is the number of processes. Each ``map`` deals the items out
round-robin (item ``i`` goes to process ``i % workers``), so each loop holds
``ceil(n / workers)`` or ``floor(n / workers)`` tasks, all of them at once (no limit
within a loop). A coroutine function is awaited on its process's loop; a plain function
is called on the loop and blocks that process's other tasks while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.connection
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from ._base import (
    ModelOptions,
    RemoteTraceback,
    WorkerDiedError,
    describe_exit,
    is_coroutine_function,
)
from .processes import default_start_method

_START_TIMEOUT_S = 120.0
_JOIN_TIMEOUT_S = 10.0


async def _run_chunk(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    if is_coroutine_function(fn):
        return list(await asyncio.gather(*(fn(item) for item in items)))
    # a plain function runs on the loop itself: each call blocks this loop until it returns
    return [fn(item) for item in items]


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """A worker process: one loop for its whole life, one chunk of tasks per message."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    conn.send(("ready", None))
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the pool went away: nothing left to do
                return
            if message is None:
                return
            fn, items = message
            try:
                reply: tuple[str, Any] = ("ok", loop.run_until_complete(_run_chunk(fn, items)))
            except BaseException as exc:  # handed to the parent, which raises it there
                reply = ("error", (exc, traceback.format_exc()))
            try:
                conn.send(reply)
            except Exception as exc:  # an unpicklable result or exception: say what it was
                conn.send(
                    (
                        "error",
                        (
                            RuntimeError(f"could not send the result back: {exc!r}"),
                            traceback.format_exc(),
                        ),
                    )
                )
    finally:
        loop.close()


class _LoopProcesses:
    def __init__(self, workers: int, start_method: str) -> None:
        context: Any = multiprocessing.get_context(start_method)
        self.start_method = start_method
        self._processes: list[Any] = []
        self._conns: list[multiprocessing.connection.Connection] = []
        for index in range(workers):
            parent, child = context.Pipe()
            process = context.Process(
                target=_serve, args=(child,), name=f"concur-loop-{index}", daemon=True
            )
            process.start()
            child.close()
            self._processes.append(process)
            self._conns.append(parent)
        # every loop must be running before the first task: start-up is measured, not hidden
        for index in range(workers):
            self._receive(index, _START_TIMEOUT_S)

    def _died(self, index: int) -> WorkerDiedError:
        process = self._processes[index]
        process.join(1.0)  # its exit status, now that its pipe or sentinel said it ended
        return WorkerDiedError(
            f"worker process died: {describe_exit(process.pid, process.exitcode)}"
        )

    def _receive(self, index: int, timeout: float | None) -> Any:
        conn, process = self._conns[index], self._processes[index]
        ready = multiprocessing.connection.wait([conn, process.sentinel], timeout)
        if not ready:
            raise TimeoutError(f"worker process {process.pid} did not answer in {timeout}s")
        if conn not in ready:
            raise self._died(index)
        try:
            kind, value = conn.recv()
        except (EOFError, OSError):
            raise self._died(index) from None
        if kind == "error":
            error, text = value
            error.__cause__ = RemoteTraceback(text)
            raise error
        return value

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        todo = list(items)
        count = len(self._processes)
        busy = [index for index in range(count) if todo[index::count]]
        for index in busy:
            try:
                self._conns[index].send((fn, todo[index::count]))
            except (BrokenPipeError, ConnectionResetError):
                raise self._died(index) from None
        chunks: dict[int, list[Any]] = {}
        failure: Exception | None = None
        for index in busy:
            # every busy worker is heard out, so no stale reply is left for the next map
            try:
                chunks[index] = self._receive(index, None)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return [chunks[position % count][position // count] for position in range(len(todo))]

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # already ended
                conn.send(None)
        for process in self._processes:
            process.join(_JOIN_TIMEOUT_S)
            if process.exitcode is None:
                process.kill()
                process.join()
        for conn in self._conns:
            conn.close()

    def abort(self) -> None:
        """Kill every worker now (after a timeout) and reap them."""
        for process in self._processes:
            if process.exitcode is None:
                process.kill()
        for process in self._processes:
            process.join()
        for conn in self._conns:
            conn.close()


class AsyncioProcessesModel:
    name = "asyncio-processes"
    #: tasks cross processes as pickles: the runner measures that (transfer_bytes)
    pickles_tasks = True
    summary = "one event loop per worker process: coroutines on several cores"

    def unavailable(self) -> str | None:
        return None

    def start(self, workers: int, options: ModelOptions) -> _LoopProcesses:
        return _LoopProcesses(workers, options.start_method or default_start_method())
