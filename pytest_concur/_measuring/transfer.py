"""What moving a task's argument and result between processes costs: bytes and pickling time.

For models that run tasks in other processes (``pickles_tasks = True``), each task's
``(index, item)`` is pickled by the parent before it is handed to the pool, and the
worker pickles the ``(value, span)`` it returns; the pool then moves bytes, which it
copies without walking objects. So the serialisation the pool would have done anyway
is done here once and timed, not done twice. Times are CPU-bound pickling in the
thread that does it (``perf_counter_ns``); pipe transit is not in them.

``concur.map(fn, items, chunksize=N)`` ships the tasks in batches of N: one pickle, one
hand-over and one reply per batch (``batched``, ``shipped(..., batch=True)``); each task
of a batch still records its own span, and gets an even share of the batch's bytes and
pickling time (``split``).

Imported inside worker processes: standard library only (``pickle`` is built in and
loads no extension module that could turn a free-threaded build's GIL back on).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

_PROTOCOL = pickle.HIGHEST_PROTOCOL


class _Shipped:
    """The worker side of a plain task: unpickle, call, pickle; returns the time it took."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, payload: bytes) -> tuple[bytes, int]:
        started = time.perf_counter_ns()
        job = pickle.loads(payload)
        spent = time.perf_counter_ns() - started
        value = self.fn(job)
        started = time.perf_counter_ns()
        out = pickle.dumps(value, _PROTOCOL)
        return out, spent + time.perf_counter_ns() - started


class _ShippedCoroutine:
    """The worker side of a coroutine task (event loops in worker processes)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    async def __call__(self, payload: bytes) -> tuple[bytes, int]:
        started = time.perf_counter_ns()
        job = pickle.loads(payload)
        spent = time.perf_counter_ns() - started
        value = await self.fn(job)
        started = time.perf_counter_ns()
        out = pickle.dumps(value, _PROTOCOL)
        return out, spent + time.perf_counter_ns() - started


class _Each:
    """A batch's task function: ``fn`` on each job of the list, their values in order."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, jobs: list[Any]) -> list[Any]:
        return [self.fn(job) for job in jobs]


class _Gathered:
    """A batch of coroutine tasks: they run at once on the worker's loop, as unbatched
    ones do."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    async def __call__(self, jobs: list[Any]) -> list[Any]:
        import asyncio  # loaded already wherever a loop awaits this

        return list(await asyncio.gather(*(self.fn(job) for job in jobs)))


def shipped(
    fn: Callable[[Any], Any], is_coroutine: bool, *, batch: bool = False
) -> Callable[[bytes], Any]:
    """``fn`` wrapped to take and return pickled bytes, timing its own (un)pickling; with
    ``batch``, the bytes hold a list of jobs and the reply the list of their values."""
    if batch:  # the same wrappers, around a function of the whole batch
        fn = _Gathered(fn) if is_coroutine else _Each(fn)
    return _ShippedCoroutine(fn) if is_coroutine else _Shipped(fn)


def batched(jobs: Sequence[Any], chunksize: int) -> list[list[Any]]:
    """``jobs`` in consecutive batches of ``chunksize`` (the last one may be shorter)."""
    if chunksize < 1:
        raise ValueError(f"chunksize must be a positive integer, got {chunksize!r}")
    return [list(jobs[start : start + chunksize]) for start in range(0, len(jobs), chunksize)]


def split(total: int, parts: int) -> list[int]:
    """``total`` shared out over ``parts`` as evenly as integers allow; the shares add up."""
    whole, rest = divmod(total, parts)
    return [whole + (1 if index < rest else 0) for index in range(parts)]


def pack(jobs: Iterable[Any]) -> tuple[list[bytes], int]:
    """Each job pickled, and the nanoseconds that took (the parent's share)."""
    started = time.perf_counter_ns()
    payloads = [pickle.dumps(job, _PROTOCOL) for job in jobs]
    return payloads, time.perf_counter_ns() - started


def unpack(outcome: tuple[bytes, int]) -> tuple[Any, int, int]:
    """A worker's reply as (value, bytes of the reply, ns the worker and this unpickling took)."""
    out, worker_ns = outcome
    started = time.perf_counter_ns()
    value = pickle.loads(out)
    return value, len(out), worker_ns + time.perf_counter_ns() - started


@dataclass(frozen=True, slots=True)
class RoundTransfer:
    """A round's ``transfer_bytes`` and ``transfer_s``: None when no task was shipped."""

    bytes: int | None
    seconds: float | None


#: a round that shipped no task (shared: the value is frozen)
NO_TRANSFER: Final = RoundTransfer(None, None)


def round_transfer(transfers: Iterable[tuple[int, int] | None]) -> RoundTransfer:
    """What the round's shipped tasks moved, from each task's (bytes, ns) or None."""
    shipped_tasks = [t for t in transfers if t is not None]
    if not shipped_tasks:
        return NO_TRANSFER
    return RoundTransfer(
        bytes=sum(size for size, _ in shipped_tasks),
        seconds=sum(ns for _, ns in shipped_tasks) / 1e9,
    )
