"""Per-variant signals read from the rounds (and, where given, the tasks) of a results frame.

A variant is one model at one worker count of one experiment and parameter set. The
signals are medians over its measured rounds (passed, not warm-up), with the raw wall
times kept for the rank tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import pandas as pd

from .._measuring.crowding import Crowding, crowding
from .codes import MIN_MAP_S

_KEYS = ["experiment", "params", "model", "workers"]


def variant_label(model: str, workers: int) -> str:
    """The variant as test ids name it: ``serial``, ``threads-2``."""
    return model if model == "serial" else f"{model}-{workers}"


@dataclass(frozen=True, slots=True)
class VariantSignals:
    """What the rounds of one variant say; NaN where a signal was not measured."""

    experiment: str
    params: str
    model: str
    workers: int
    workload: str
    rounds: int
    failed: int
    error: str | None
    walls: tuple[float, ...]
    cpu_s: float
    cores_used: float
    startup_s: float
    max_rss_bytes: float
    usable_cpus: int
    gil_enabled: bool | None
    transfer_s: float
    transfer_bytes: float
    crowding: Crowding
    #: median share of a map call's span that workers sat idle while another worked
    idle_share: float = math.nan
    #: median number of an event loop's tasks running at once (1.0: one after another)
    overlap: float = math.nan
    tasks_per_loop: float = math.nan
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return variant_label(self.model, self.workers)

    @property
    def wall_s(self) -> float:
        return _median(self.walls)


def _median(values: tuple[float, ...] | list[float]) -> float:
    clean = sorted(v for v in values if not math.isnan(v))
    if not clean:
        return math.nan
    middle = len(clean) // 2
    return clean[middle] if len(clean) % 2 else (clean[middle - 1] + clean[middle]) / 2


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name not in rows:
        return pd.Series(math.nan, index=rows.index, dtype="float64")
    return pd.to_numeric(rows[name], errors="coerce").astype("float64")


def _med(rows: pd.DataFrame, name: str) -> float:
    values = _column(rows, name).dropna()
    return float(values.median()) if len(values) else math.nan


def _gil(rows: pd.DataFrame) -> bool | None:
    if "gil_enabled" not in rows:
        return None
    values = rows["gil_enabled"].dropna()
    if not len(values):
        return None
    return bool(values.astype(bool).all())


def measured(rows: pd.DataFrame) -> pd.DataFrame:
    """Rounds that count: passed and not warm-up."""
    warmup = rows["warmup"].fillna(False).astype(bool)
    return rows[(~warmup) & (rows["outcome"].astype(str) == "passed")]


def variant_signals(rows: pd.DataFrame, tasks: pd.DataFrame | None = None) -> list[VariantSignals]:
    """One VariantSignals per variant in ``rows`` (a frame of rounds), in first-seen order."""
    if rows.empty:
        return []
    keyed = rows.assign(
        params=rows["params"].astype(object).fillna("").astype(str),
        experiment=rows["experiment"].astype(str),
        model=rows["model"].astype(str),
        workers=pd.to_numeric(rows["workers"]).astype("int64"),
    )
    good = measured(keyed)
    task_signals = _task_signals(good, tasks) if tasks is not None and len(tasks) else {}
    out: list[VariantSignals] = []
    for key, group in keyed.groupby(_KEYS, sort=False):
        experiment, params, model, workers = (
            str(key[0]),
            str(key[1]),
            str(key[2]),
            int(cast(int, key[3])),
        )
        ok = measured(group)
        failed = group[group["outcome"].astype(str) == "failed"]
        error = str(failed["error"].iloc[0]) if len(failed) and "error" in failed else None
        usable = _med(group, "usable_cpus")
        idle, overlap, per_loop = task_signals.get((experiment, params, model, workers),
                                                   (math.nan, math.nan, math.nan))  # fmt: skip
        out.append(
            VariantSignals(
                experiment=experiment,
                params=params,
                model=model,
                workers=workers,
                workload=str(group["workload"].iloc[0]),
                rounds=len(ok),
                failed=len(failed),
                error=error,
                walls=tuple(float(v) for v in _column(ok, "wall_s").dropna()),
                cpu_s=_med(ok, "cpu_s"),
                cores_used=_med(ok, "cores_used"),
                startup_s=_med(ok, "startup_s"),
                max_rss_bytes=float(_column(ok, "max_rss_bytes").max()) if len(ok) else math.nan,
                usable_cpus=int(usable) if not math.isnan(usable) else 1,
                gil_enabled=_gil(ok),
                transfer_s=_med(ok, "transfer_s"),
                transfer_bytes=_med(ok, "transfer_bytes"),
                crowding=crowding(ok),
                idle_share=idle,
                overlap=overlap,
                tasks_per_loop=per_loop,
            )
        )
    return out


def _task_signals(
    good: pd.DataFrame, tasks: pd.DataFrame
) -> dict[tuple[str, str, str, int], tuple[float, float, float]]:
    """Idle share and loop overlap per variant, from the spans of its measured rounds."""
    needed = {"run_id", "test_id", "round", "map_index", "pid", "thread_id", "start_s", "end_s"}
    if not needed <= set(tasks.columns) or good.empty:
        return {}
    rounds = good[["run_id", "test_id", "round", *_KEYS]].astype({"run_id": str, "test_id": str})
    spans = tasks.astype({"run_id": str, "test_id": str}).merge(
        rounds, on=["run_id", "test_id", "round"], how="inner", suffixes=("_task", "")
    )
    result: dict[tuple[str, str, str, int], tuple[float, float, float]] = {}
    for key, group in spans.groupby(_KEYS, sort=False):
        idles: list[float] = []
        overlaps: list[float] = []
        per_loop: list[float] = []
        for _, call in group.groupby(["run_id", "test_id", "round", "map_index"], sort=False):
            idles.extend(_idle_share(call))
            for _, loop in call.groupby("pid", sort=False):
                if len(loop) >= 2:
                    span = float(loop["end_s"].max() - loop["start_s"].min())
                    busy = float((loop["end_s"] - loop["start_s"]).sum())
                    if span > 0:
                        overlaps.append(busy / span)
                        per_loop.append(float(len(loop)))
        result[(str(key[0]), str(key[1]), str(key[2]), int(cast(int, key[3])))] = (
            _median(idles),
            _median(overlaps),
            _median(per_loop),
        )
    return result


def _idle_share(call: pd.DataFrame) -> Iterator[float]:
    """The mean share of one map call's span its workers sat idle after their last task."""
    workers = call.groupby(["pid", "thread_id"], sort=False)["end_s"].max()
    span = float(call["end_s"].max() - call["start_s"].min())
    if len(workers) >= 2 and span >= MIN_MAP_S:
        yield float((workers.max() - workers).mean() / span)
