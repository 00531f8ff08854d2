"""Per-task spans: which worker ran each task, when, and for how much CPU time.

``traced(fn)`` wraps a task function in a small picklable object that runs wherever
the model runs tasks (a thread, a process, an interpreter, a greenlet, a dask worker)
and returns ``(value, span)``; the span is a tuple of plain ints that travels back
with the result. Times come from CLOCK_MONOTONIC, which every process on a host
shares, so the parent turns them into seconds since the round started.

This module is imported inside worker processes and interpreters: standard library
only, nothing heavy.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

try:  # the interpreter id: 3.13+ names the module _interpreters, 3.12 and older differently
    import _interpreters as _interp_module  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        import _xxsubinterpreters as _interp_module  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        _interp_module = None  # type: ignore[assignment,unused-ignore]

_CLOCK = time.CLOCK_MONOTONIC
_HOST = socket.gethostname()

#: (index, host, pid, native thread id, interpreter id, start ns, end ns, cpu ns, suspensions)
Span = tuple[int, str, int, int, "int | None", int, int, int, "int | None"]


def now_ns() -> int:
    """The timeline clock: CLOCK_MONOTONIC in ns, comparable across processes on a host."""
    return time.clock_gettime_ns(_CLOCK)


def interpreter_id() -> int | None:
    """The id of the interpreter running this code (0 for the main one), if Python says."""
    if _interp_module is None:
        return None
    current = _interp_module.get_current()
    # 3.13+: (id, whence); 3.12 and older: an InterpreterID that converts to int
    return int(current[0] if isinstance(current, tuple) else current)


# each interpreter imports this module for itself, and a forked child keeps its parent's
# interpreter id, so the id is a constant of this module instance
_INTERPRETER_ID = interpreter_id()


class _TracedCall:
    """A plain task function, timed: wall span and CPU time of its thread while it ran."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, job: tuple[int, Any]) -> tuple[Any, Span]:
        index, item = job
        start = time.clock_gettime_ns(_CLOCK)
        cpu = time.thread_time_ns()
        value = self.fn(item)
        cpu = time.thread_time_ns() - cpu
        end = time.clock_gettime_ns(_CLOCK)
        span: Span = (index, _HOST, os.getpid(), threading.get_native_id(), _INTERPRETER_ID,
                      start, end, cpu, None)  # fmt: skip
        return value, span


class _Steps:
    """Awaits a coroutine step by step, adding up the thread CPU time of its own steps."""

    __slots__ = ("coro", "cpu_ns", "suspensions")

    def __init__(self, coro: Any) -> None:
        self.coro = coro
        self.cpu_ns = 0
        self.suspensions = 0

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self.coro
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            started = time.thread_time_ns()
            try:
                yielded = coro.send(sent) if thrown is None else coro.throw(thrown)
            except StopIteration as stop:
                self.cpu_ns += time.thread_time_ns() - started
                return stop.value
            except BaseException:
                self.cpu_ns += time.thread_time_ns() - started
                raise
            self.cpu_ns += time.thread_time_ns() - started
            self.suspensions += 1
            try:
                sent, thrown = (yield yielded), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation and the like go to the coroutine
                sent, thrown = None, exc


class _TracedCoroutine:
    """A coroutine task function, timed: its CPU time is that of its own steps only."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    async def __call__(self, job: tuple[int, Any]) -> tuple[Any, Span]:
        index, item = job
        start = time.clock_gettime_ns(_CLOCK)
        steps = _Steps(self.fn(item))
        value = await steps
        end = time.clock_gettime_ns(_CLOCK)
        span: Span = (index, _HOST, os.getpid(), threading.get_native_id(), _INTERPRETER_ID,
                      start, end, steps.cpu_ns, steps.suspensions)  # fmt: skip
        return value, span


def traced(fn: Callable[[Any], Any], is_coroutine: bool) -> Callable[[tuple[int, Any]], Any]:
    """``fn`` wrapped to take ``(index, item)`` and return ``(value, span)``."""
    return _TracedCoroutine(fn) if is_coroutine else _TracedCall(fn)


@dataclass(frozen=True, slots=True)
class TaskSpan:
    """One task of one ``concur.map`` call, as recorded where it ran."""

    map_index: int
    task: int
    host: str
    pid: int
    thread_id: int
    interpreter_id: int | None
    start_ns: int
    end_ns: int
    cpu_ns: int
    suspensions: int | None
    #: bytes of the pickled argument and result, and ns spent pickling them (process
    #: models, docs/decisions.md); None where the task did not cross processes
    transfer_bytes: int | None = None
    transfer_ns: int | None = None
    #: when the task's ``concur.map`` call began, on the same clock: a worker's time from
    #: it to its last task is what the call cost that worker (docs/decisions.md)
    map_start_ns: int | None = None

    @property
    def transfer(self) -> tuple[int, int] | None:
        """(bytes, ns) of pickling, or None where the task did not cross processes."""
        if self.transfer_bytes is None or self.transfer_ns is None:
            return None
        return self.transfer_bytes, self.transfer_ns

    @classmethod
    def from_span(
        cls,
        map_index: int,
        span: Span,
        transfer: tuple[int, int] | None = None,
        *,
        map_start_ns: int | None = None,
    ) -> TaskSpan:
        size, ns = transfer if transfer is not None else (None, None)
        return cls(map_index, *span, transfer_bytes=size, transfer_ns=ns, map_start_ns=map_start_ns)


def task_rows(
    spans: Iterable[TaskSpan],
    *,
    keys: Mapping[str, Any],
    round_start_ns: int,
) -> list[dict[str, Any]]:
    """Plain-valued rows of the ``tasks`` table; ``keys`` holds run_id, test_id, round..."""
    rows: list[dict[str, Any]] = []
    for span in spans:
        row = dict(keys)
        row.update(
            map_index=span.map_index,
            task=span.task,
            host=span.host,
            pid=span.pid,
            thread_id=span.thread_id,
            interpreter_id=span.interpreter_id,
            start_s=(span.start_ns - round_start_ns) / 1e9,
            end_s=(span.end_ns - round_start_ns) / 1e9,
            wall_s=(span.end_ns - span.start_ns) / 1e9,
            cpu_s=span.cpu_ns / 1e9,
            suspensions=span.suspensions,
            transfer_bytes=span.transfer_bytes,
            transfer_s=None if span.transfer_ns is None else span.transfer_ns / 1e9,
            map_start_s=(
                None if span.map_start_ns is None else (span.map_start_ns - round_start_ns) / 1e9
            ),
        )
        rows.append(row)
    return rows
