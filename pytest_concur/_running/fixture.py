"""The ``concur`` fixture's object: runs work under the current model and worker count."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, final

from .._measuring.spans import Span, TaskSpan, now_ns, traced
from .._measuring.timeout import RoundTimeout
from .._measuring.transfer import batched, pack, shipped, split, unpack
from .._warning_types import ConcurWarning
from ..models import Model, ModelOptions, Pool
from ..models._base import abort_pool, executor_address, is_coroutine_function


@dataclass(frozen=True, slots=True)
class RoundCosts:
    """Time one round spent starting and stopping the model's workers, and where it ran."""

    startup_s: float
    shutdown_s: float
    #: the start method the round's pool really used (process-based models only)
    start_method: str | None = None
    #: where the pool ran its tasks, if it says (dask: the scheduler's address)
    executor_address: str | None = None
    #: whether the round started a pool at all (if so, its start_method is the truth)
    pool_ran: bool = False
    #: the batch size the round's map calls shipped tasks in (the largest where they
    #: differ); None: unbatched, or a model that cannot batch (docs/writing-experiments.md)
    chunksize: int | None = None


#: the costs of a round that started no pool (shared: the value is frozen)
NO_POOL: Final = RoundCosts(0.0, 0.0)


@final
class Concur:
    """The runner for one experiment variant; ``concur.map`` is all most tests need.

    Workers start on the first ``map`` of a round and stop when the round ends, both
    inside the timed window: their cost is part of the answer, and it is also stored
    on its own (``startup_s``, ``shutdown_s``).
    """

    def __init__(
        self, model: Model, workers: int, options: ModelOptions, *, trace: bool = True
    ) -> None:
        self._model = model
        self._workers = workers
        self._options = options
        self._pool: Pool | None = None
        self._startup_s = 0.0
        self._trace = trace
        # (map index, span, transfer, map start ns) as they came back; made into TaskSpans
        # outside the timed window; transfer is (bytes, ns) for models that pickle tasks
        self._spans: list[tuple[int, Span, tuple[int, int] | None, int]] = []
        self._maps = 0
        self._chunksize: int | None = None  # the round's, for its row
        self._not_measured: tuple[int, ...] = ()

    @property
    def model(self) -> str:
        """The model's name, e.g. ``"threads"``."""
        return self._model.name

    @property
    def workers(self) -> int:
        """How many workers this variant runs (1 for serial)."""
        return self._workers

    @property
    def start_method(self) -> str | None:
        """The process start method chosen for this experiment, if any."""
        return self._options.start_method

    def exclude_process(self, pid: int) -> None:
        """Leave process ``pid`` (and its children) out of this experiment's CPU accounting.

        For helpers started before the rounds that stand in for the outside world, such
        as a local web server playing a remote site: their work is not the work measured.
        """
        if pid not in self._not_measured:
            self._not_measured = (*self._not_measured, pid)

    @property
    def excluded_processes(self) -> tuple[int, ...]:
        """Processes left out of the measurements by :meth:`exclude_process`."""
        return self._not_measured

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, chunksize: int | None = None
    ) -> list[Any]:
        """Run ``fn`` over ``items`` under this model; results come back in order.

        ``fn`` may be a plain or a coroutine function; for process-based models it
        must be importable (defined at module level) so it can be pickled.
        ``chunksize`` ships the items to models that pickle tasks (processes,
        asyncio-processes, subinterpreters) in batches of that many: one hand-over per
        batch instead of per item. Other models ignore it and say so (ConcurWarning).
        """
        chunksize = self._batch_size(chunksize)
        if self._pool is None:
            started = time.perf_counter()
            self._pool = self._model.start(self._workers, self._options)
            self._startup_s += time.perf_counter() - started
        map_start = now_ns()
        if not self._trace:
            if chunksize is None:
                return self._pool.map(fn, items)
            batch = shipped(fn, is_coroutine_function(fn), batch=True)
            return [value for value, _ in shipped_map(self._pool, batch, list(items), chunksize)]
        # each task reports where and when it ran along with its value (docs/timelines.md)
        coroutine = is_coroutine_function(fn)
        task = traced(fn, coroutine)
        map_index, self._maps = self._maps, self._maps + 1
        values: list[Any] = []
        if getattr(self._model, "pickles_tasks", False):
            ship = shipped(task, coroutine, batch=chunksize is not None)
            jobs = list(enumerate(items))
            for (value, span), transfer in shipped_map(self._pool, ship, jobs, chunksize):
                values.append(value)
                self._spans.append((map_index, span, transfer, map_start))
            return values
        for value, span in self._pool.map(task, enumerate(items)):
            values.append(value)
            self._spans.append((map_index, span, None, map_start))
        return values

    def _batch_size(self, chunksize: int | None) -> int | None:
        """The batch size this model will use: None where it runs tasks unshipped."""
        if chunksize is None:
            return None
        if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
            raise ValueError(f"chunksize must be a positive integer, got {chunksize!r}")
        if not getattr(self._model, "pickles_tasks", False):
            warnings.warn(
                f"chunksize={chunksize} ignored: {self.model} does not ship its tasks to "
                f"other processes or interpreters, so there is nothing to batch",
                ConcurWarning,
                stacklevel=3,
            )
            return None
        self._chunksize = max(chunksize, self._chunksize or 0)
        return chunksize

    # ---- the round loop's side (_running/rounds.py); a test body has no use for these

    @property
    def traces_tasks(self) -> bool:
        """Whether ``map`` records task spans (``--concur-task-timeline``)."""
        return self._trace

    def end_round(self, *, abort: bool = False) -> RoundCosts:
        """Stop the round's workers; called by the round loop inside the timed window.

        ``abort`` (after a timeout) stops them without waiting on running tasks; a
        timeout that fires while the pool closes normally also ends in an abort.
        """
        pool = self._pool
        if pool is None and self._startup_s == 0.0:
            self._maps = 0
            self._chunksize = None
            return NO_POOL  # a round that never called map: nothing to stop, nothing to build
        shutdown = 0.0
        start_method = getattr(pool, "start_method", None)
        address = executor_address(pool) if pool is not None else None
        if pool is not None:
            started = time.perf_counter()
            try:
                if abort:
                    abort_pool(pool)
                else:
                    try:
                        pool.close()
                    except RoundTimeout:
                        abort_pool(pool)
                        raise
            finally:
                self._pool = None
                shutdown = time.perf_counter() - started
        costs = RoundCosts(
            self._startup_s,
            shutdown,
            start_method=start_method if isinstance(start_method, str) else None,
            executor_address=address,
            pool_ran=pool is not None,
            chunksize=self._chunksize,
        )
        self._startup_s = 0.0
        self._maps = 0
        self._chunksize = None
        return costs

    def take_spans(self) -> list[TaskSpan]:
        """The task spans recorded since the last call (one round's), handed over once."""
        spans, self._spans = self._spans, []
        return [
            TaskSpan.from_span(index, span, transfer, map_start_ns=start)
            for index, span, transfer, start in spans
        ]

    def __repr__(self) -> str:
        return f"<Concur model={self.model!r} workers={self.workers}>"


def shipped_map(
    pool: Pool, ship: Callable[[bytes], Any], jobs: list[Any], chunksize: int | None
) -> list[tuple[Any, tuple[int, int]]]:
    """``jobs`` pickled here and timed (docs/decisions.md, transfer_bound), one payload per
    job or per batch of ``chunksize``, and run in the pool by ``ship`` (transfer.shipped):
    what each job returned, with the (bytes, ns) of moving it."""
    if chunksize is None:
        payloads, packing_ns = pack(jobs)
        counts = [1] * len(payloads)
    else:
        batches = batched(jobs, chunksize)
        payloads, packing_ns = pack(batches)
        counts = [len(batch) for batch in batches]
    replies = pool.map(ship, payloads)
    shares = iter(split(packing_ns, max(1, len(jobs))))  # the parent's pickling, spread evenly
    out: list[tuple[Any, tuple[int, int]]] = []
    for payload, reply, count in zip(payloads, replies, counts, strict=True):
        returned, size, ns = unpack(reply)
        # a batch's bytes and pickling time go evenly to its tasks
        moved = zip(split(len(payload) + size, count), split(ns, count), strict=True)
        results = [returned] if chunksize is None else returned
        for result, (task_bytes, task_ns) in zip(results, moved, strict=True):
            out.append((result, (task_bytes, task_ns + next(shares))))
    return out
