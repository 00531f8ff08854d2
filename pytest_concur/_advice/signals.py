"""Per-variant signals read from the rounds (and, where given, the tasks) of a results frame.

A variant is one model at one worker count of one experiment and parameter set. Its
signals are medians over its measured rounds under the quiet-round rule
(_rounds/counting.py), the rule the claims use: crowded rounds are left out where the
variant has quiet ones to spare, and a variant with too few quiet rounds is *busy*, so
that nothing is decided on it. The raw wall times are kept for the rank tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import pandas as pd

from .._rounds.conventions import median
from .._rounds.counting import BusyVariant, Crowding, crowding, measured, quiet_rounds
from .._rounds.variant import VARIANT_KEYS, VariantKey, keyed, variant_label
from .codes import MIN_MAP_S
from .moving import Moving, moving_by_variant


@dataclass(frozen=True, slots=True)
class VariantSignals:
    """What the rounds of one variant say; NaN where a signal was not measured."""

    experiment: str
    params: str
    model: str
    workers: int
    workload: str
    #: measured rounds the signals rest on (crowded ones left out where quiet ones sufficed)
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
    #: what the sampler saw over all the variant's measured rounds
    crowding: Crowding
    #: set when the variant had too few quiet rounds: its signals rest on crowded ones
    busy: BusyVariant | None = None
    #: crowded rounds left out because the variant had quiet ones to spare
    dropped: int = 0
    #: median share of a map call's span that workers sat idle while another worked
    idle_share: float = math.nan
    #: median number of an event loop's tasks running at once (1.0: one after another)
    overlap: float = math.nan
    tasks_per_loop: float = math.nan
    #: whether task spans (concur.map) of the variant's rounds were read
    spans: bool = False
    #: process models with task spans: what moving the tasks cost (_advice/moving.py)
    moving: Moving | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return variant_label(self.model, self.workers)

    @property
    def key(self) -> VariantKey:
        return (self.experiment, self.params, self.model, self.workers)

    @property
    def wall_s(self) -> float:
        return median(self.walls)


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name not in rows:
        return pd.Series(math.nan, index=rows.index, dtype="float64")
    return pd.to_numeric(rows[name], errors="coerce").astype("float64")


def _med(rows: pd.DataFrame, name: str) -> float:
    return median(_column(rows, name).tolist())


def _gil(rows: pd.DataFrame) -> bool | None:
    if "gil_enabled" not in rows:
        return None
    values = rows["gil_enabled"].dropna()
    if not len(values):
        return None
    return bool(values.astype(bool).all())


def _by_variant(rows: pd.DataFrame) -> dict[VariantKey, pd.DataFrame]:
    return {
        (str(k[0]), str(k[1]), str(k[2]), int(cast(int, k[3]))): group
        for k, group in rows.groupby(VARIANT_KEYS, sort=False)
    }


def variant_signals(rows: pd.DataFrame, tasks: pd.DataFrame | None = None) -> list[VariantSignals]:
    """One VariantSignals per variant in ``rows`` (a frame of rounds), in first-seen order."""
    if rows.empty:
        return []
    every = keyed(rows)
    counted = measured(every)
    quiet = quiet_rounds(counted)
    busy = {variant.key: variant for variant in quiet.busy}
    good = _by_variant(quiet.rows)
    counted_by = _by_variant(counted)
    task_signals = _task_signals(quiet.rows, tasks) if tasks is not None and len(tasks) else {}
    moved = moving_by_variant(quiet.rows, tasks) if tasks is not None and len(tasks) else {}
    out: list[VariantSignals] = []
    for key, group in _by_variant(every).items():
        ok = good.get(key, group.iloc[0:0])
        mine = counted_by.get(key, group.iloc[0:0])
        failed = group[group["outcome"].astype(str) == "failed"]
        error = str(failed["error"].iloc[0]) if len(failed) and "error" in failed else None
        usable = _med(group, "usable_cpus")
        idle, overlap, per_loop = task_signals.get(key, (math.nan, math.nan, math.nan))
        experiment, params, model, workers = key
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
                busy=busy.get(key),
                dropped=len(mine) - len(ok),
                idle_share=idle,
                overlap=overlap,
                tasks_per_loop=per_loop,
                spans=key in task_signals,
                moving=moved.get(key),
            )
        )
    return out


def _task_signals(
    good: pd.DataFrame, tasks: pd.DataFrame
) -> dict[VariantKey, tuple[float, float, float]]:
    """Idle share and loop overlap per variant, from the spans of its measured rounds."""
    needed = {"run_id", "test_id", "round", "map_index", "pid", "thread_id", "start_s", "end_s"}
    if not needed <= set(tasks.columns) or good.empty:
        return {}
    rounds = good[["run_id", "test_id", "round", *VARIANT_KEYS]]
    rounds = rounds.astype({"run_id": str, "test_id": str})
    spans = tasks.astype({"run_id": str, "test_id": str}).merge(
        rounds, on=["run_id", "test_id", "round"], how="inner", suffixes=("_task", "")
    )
    result: dict[VariantKey, tuple[float, float, float]] = {}
    for key, group in spans.groupby(VARIANT_KEYS, sort=False):
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
            median(idles),
            median(overlaps),
            median(per_loop),
        )
    return result


def _idle_share(call: pd.DataFrame) -> Iterator[float]:
    """The mean share of one map call's span its workers sat idle after their last task."""
    workers = call.groupby(["pid", "thread_id"], sort=False)["end_s"].max()
    span = float(call["end_s"].max() - call["start_s"].min())
    if len(workers) >= 2 and span >= MIN_MAP_S:
        yield float((workers.max() - workers).mean() / span)
