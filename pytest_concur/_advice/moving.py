"""What moving tasks to worker processes cost, from the task spans: ``transfer_bound``.

A process pool's workers spend a ``concur.map`` call either inside the task function
(the spans) or moving work: waiting while the parent pickles and dispatches, unpickling
the argument, pickling the result, the pipes, waking up for the next task. Per worker,
the call costs the time from the call's start to the end of its last task; whatever of
that is not inside a task went to moving (docs/decisions.md says what this misses).
The idle tail after a worker's last task is ``imbalanced``'s, not moving.

Two lower bounds of the moving share ``moving / (moving + inside)`` are taken, and the
larger wins: the workers' time outside their tasks, and the pickling measured on both
sides (``transfer_s``; the parent's unpickling of the last results falls after every
window). Adding the two would count the pickling inside the windows twice.

The batch model behind the ``chunksize`` suggestion: moving one task costs a hand-over
``h`` per batch of ``k`` (dispatch, pipes, wake-ups: the same for one task or many) plus
its own pickling ``p``: ``h / k + p``. Against ``c`` of work per task, the overhead is
under ``BATCH_OVERHEAD`` when ``h / k + p <= c * BATCH_OVERHEAD / (1 - BATCH_OVERHEAD)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import pandas as pd

from .. import _format as fmt
from .._rounds.conventions import median
from .._rounds.variant import VARIANT_KEYS, VariantKey
from . import codes as c

#: the columns the measure needs of the tasks table (map_start_s since this measure)
_NEEDED = {"run_id", "test_id", "round", "map_index", "pid", "thread_id", "start_s", "end_s",
           "map_start_s", "transfer_bytes", "transfer_s"}  # fmt: skip


def union_length(intervals: Iterable[tuple[float, float]]) -> float:
    """Seconds covered by at least one of the ``(start, end)`` intervals (overlaps once)."""
    covered = 0.0
    reach = -math.inf
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        covered += end - max(start, reach)
        reach = end
    return covered


@dataclass(frozen=True, slots=True)
class CallCost:
    """One map call's cost to the workers that ran its tasks, in worker-seconds."""

    #: per worker, from the call's start to the end of its last task, summed
    window_s: float
    #: the part of the windows inside a task (overlapping tasks of one worker count once)
    inside_s: float

    @property
    def outside_s(self) -> float:
        return max(0.0, self.window_s - self.inside_s)


def call_cost(map_start: float, spans: Iterable[tuple[object, float, float]]) -> CallCost:
    """The cost of one call from its tasks' ``(worker, start, end)``."""
    by_worker: dict[object, list[tuple[float, float]]] = {}
    for worker, start, end in spans:
        by_worker.setdefault(worker, []).append((max(start, map_start), max(end, map_start)))
    window = sum(max(end for _, end in tasks) - map_start for tasks in by_worker.values())
    inside = sum(union_length(tasks) for tasks in by_worker.values())
    return CallCost(window_s=window, inside_s=min(inside, window))


def moving_share(outside_s: float, inside_s: float, pickling_s: float) -> float:
    """The larger of the two lower bounds of ``moving / (moving + inside)``, in [0, 1];
    NaN when nothing was measured."""
    moving = max(outside_s, pickling_s, 0.0)
    total = moving + max(inside_s, 0.0)
    return moving / total if total > 0 else math.nan


#: chunksize: batches would do; too_big: the bytes per task; too_little_work: a task's own
#: pickling already costs over the target; too_few_tasks: not even one batch per worker
#: gets there; none: not enough was measured to say
Advice = Literal["chunksize", "too_big", "too_little_work", "too_few_tasks", "none"]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What would cut the moving: a batch size, or why batching cannot."""

    advice: Advice
    chunksize: int | None = None


def suggest(
    *,
    moving_s: float,
    pickling_s: float,
    work_s: float,
    bytes_per_task: float,
    chunksize: int | None,
    tasks_per_worker: float,
) -> Suggestion:
    """The batch size that brings moving under BATCH_OVERHEAD of the workers' time, from
    per-task figures measured at ``chunksize`` (None: one task per hand-over)."""
    if math.isnan(moving_s) or math.isnan(work_s):
        return Suggestion("none")
    if not math.isnan(bytes_per_task) and bytes_per_task >= c.DATA_BYTES:
        return Suggestion("too_big")
    pickling = 0.0 if math.isnan(pickling_s) else max(pickling_s, 0.0)
    allowed = max(work_s, 0.0) * c.BATCH_OVERHEAD / (1 - c.BATCH_OVERHEAD)
    if pickling >= allowed:  # a task's own pickling already costs more than the target
        return Suggestion("too_little_work")
    handover = max(moving_s - pickling, 0.0) * (chunksize or 1)
    needed = max(1, math.ceil(handover / (allowed - pickling)))
    if needed > max(1.0, tasks_per_worker):  # not even one batch per worker gets there
        return Suggestion("too_few_tasks")
    return Suggestion("chunksize", needed)


@dataclass(frozen=True, slots=True)
class Moving:
    """What moving a variant's tasks cost: medians over its rounds of per-round figures."""

    tasks: float
    #: share of the workers' time in map calls that went to moving, in [0, 1]
    share: float
    #: per task: seconds inside the function, moving, pickling; bytes pickled both ways
    work_s: float
    moving_s: float
    pickling_s: float
    bytes_per_task: float
    #: the batch size the rounds shipped tasks in (None: one task per hand-over)
    chunksize: int | None
    suggestion: Suggestion


@dataclass(frozen=True, slots=True)
class RoundMoving:
    """One round's map calls, added up."""

    tasks: int
    window_s: float
    inside_s: float
    pickling_s: float
    bytes: float
    workers: int

    @property
    def share(self) -> float:
        return moving_share(self.window_s - self.inside_s, self.inside_s, self.pickling_s)


def summarise(rounds: Sequence[RoundMoving], chunksize: int | None) -> Moving | None:
    """A variant's Moving from its rounds (None without a round that measured a task)."""
    rounds = [r for r in rounds if r.tasks > 0]
    if not rounds:
        return None
    per_task = [
        (
            max(r.window_s - r.inside_s, r.pickling_s) / r.tasks,
            r.inside_s / r.tasks,
            r.pickling_s / r.tasks,
            r.bytes / r.tasks,
        )
        for r in rounds
    ]
    moving_s, work_s, pickling_s, size = (median(column) for column in zip(*per_task, strict=True))
    tasks = median(float(r.tasks) for r in rounds)
    workers = max(1, max(r.workers for r in rounds))
    return Moving(
        tasks=tasks,
        share=median(r.share for r in rounds),
        work_s=work_s,
        moving_s=moving_s,
        pickling_s=pickling_s,
        bytes_per_task=size,
        chunksize=chunksize,
        suggestion=suggest(
            moving_s=moving_s,
            pickling_s=pickling_s,
            work_s=work_s,
            bytes_per_task=size,
            chunksize=chunksize,
            tasks_per_worker=tasks / workers,
        ),
    )


def _round_moving(spans: pd.DataFrame, workers: int) -> RoundMoving:
    """One round's map calls that lasted MIN_MAP_S or more (shorter ones are timer noise,
    as for ``imbalanced``), added up."""
    tasks = 0
    window = inside = pickling = size = 0.0
    for _, call in spans.groupby("map_index", sort=False):
        map_start = float(call["map_start_s"].iloc[0])
        ends = call["end_s"].astype(float)
        if float(ends.max()) - map_start < c.MIN_MAP_S:
            continue
        workers_of = zip(call["pid"], call["thread_id"], strict=True)
        starts = call["start_s"].astype(float)
        cost = call_cost(map_start, zip(workers_of, starts, ends, strict=True))
        tasks += len(call)
        window += cost.window_s
        inside += cost.inside_s
        pickling += float(pd.to_numeric(call["transfer_s"]).fillna(0.0).sum())
        size += float(pd.to_numeric(call["transfer_bytes"]).fillna(0).sum())
    return RoundMoving(tasks, window, inside, pickling, size, workers)


def moving_by_variant(rounds: pd.DataFrame, tasks: pd.DataFrame) -> dict[VariantKey, Moving]:
    """Moving per process variant (models that pickle tasks) of ``rounds`` (keyed, the
    measured rounds to judge on), from their spans in ``tasks``; variants without spans
    that say when their map calls began are left out."""
    if not set(tasks.columns) >= _NEEDED or rounds.empty:
        return {}
    shipped = rounds[rounds["model"].astype(str).isin(c.PROCESS_MODELS)]
    if shipped.empty:
        return {}
    chunks = shipped["chunksize"] if "chunksize" in shipped else pd.Series(pd.NA, shipped.index)
    keys = shipped[["run_id", "test_id", "round", *VARIANT_KEYS]].assign(
        run_id=shipped["run_id"].astype(str),
        test_id=shipped["test_id"].astype(str),
        chunksize=pd.to_numeric(chunks, errors="coerce"),
    )
    spans = tasks.dropna(subset=["map_start_s"]).astype({"run_id": str, "test_id": str})
    spans = spans.merge(keys, on=["run_id", "test_id", "round"], how="inner",
                        suffixes=("_task", ""))  # fmt: skip
    out: dict[VariantKey, Moving] = {}
    for key, variant in spans.groupby(VARIANT_KEYS, sort=False):
        workers = int(cast(int, key[3]))
        per_round = [
            _round_moving(one, workers)
            for _, one in variant.groupby(["run_id", "test_id", "round"], sort=False)
        ]
        chunk = median(float(v) for v in variant["chunksize"].dropna())
        moving = summarise(per_round, None if math.isnan(chunk) else int(chunk))
        if moving is not None:
            out[(str(key[0]), str(key[1]), str(key[2]), workers)] = moving
    return out


def finding(
    moving: Moving | None, *, transfer_s: float, transfer_bytes: float, cpu_s: float
) -> str | None:
    """The ``transfer_bound`` sentence, or None. With spans that say when map calls began:
    moving took MOVE_SHARE or more of the workers' time (the tasks, the share, the bytes,
    what would help). Without them (older files, spans off, every call under MIN_MAP_S):
    the pickling alone took TRANSFER_SHARE or more of the round's CPU time, all that can
    be seen then."""
    if moving is not None and not math.isnan(moving.share):
        if moving.share < c.MOVE_SHARE:
            return None
        return (
            f"{fmt.count(moving.tasks)} tasks of {fmt.seconds(moving.work_s)} each; "
            f"{fmt.percent(moving.share)} of the workers' time went to moving them "
            f"({fmt.seconds(moving.moving_s)} and {fmt.size(moving.bytes_per_task)} per task"
            f"{_batches(moving.chunksize)}): {_advice(moving)}"
        )
    # CPU time can read 0 (clock ticks of the psutil backend, a round that only waited)
    if cpu_s > 0 and transfer_s / cpu_s >= c.TRANSFER_SHARE:
        return (
            f"pickling {fmt.size(transfer_bytes)} took {fmt.seconds(transfer_s)}, "
            f"{fmt.percent(transfer_s / cpu_s)} of the round's CPU time"
        )
    return None


def _batches(chunksize: int | None) -> str:
    return "" if chunksize is None else f", in batches of {fmt.count(chunksize)}"


def _advice(moving: Moving) -> str:
    advice = moving.suggestion
    target = fmt.percent(c.BATCH_OVERHEAD)
    if advice.advice == "chunksize":
        return f"chunksize={advice.chunksize} would bring moving under {target} of the time"
    if advice.advice == "too_big":
        return "the data itself is too big to move; batching cannot fix it"
    if advice.advice == "too_little_work":
        return (
            f"too little work to move: pickling alone takes {fmt.seconds(moving.pickling_s)} "
            f"per task; batching cannot bring moving under {target}"
        )
    if advice.advice == "too_few_tasks":
        return f"too little work to move: even one batch per worker would spend over {target}"
    return "too little was measured to suggest a batch size"
