"""Per-variant statistics of measured rounds: the numbers behind the report (pure pandas)."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from .. import _format as fmt
from .._rounds.counting import (
    Crowding,
    crowded,
    measured,
    other_cores_busy,
    quiet_rounds,
    usable_cores_of,
)
from .._rounds.variant import VARIANT_KEYS

#: Relative interquartile range above which a median is flagged as unstable.
WIDE_SPREAD: Final = 0.20
MIN_ROUNDS: Final = 3
MIN_WALL_S: Final = 1e-3
#: The numeric columns of a summary line, in their order (NaN where a variant has none).
FLOAT_COLUMNS: Final = (
    "wall_median_s",
    "wall_q25_s",
    "wall_q75_s",
    "wall_rel_spread",
    "cpu_median_s",
    "cores_used",
    "utilization",
    "startup_median_s",
    "max_rss_bytes",
    "load_avg_1m",
    "usable_cpus",
    "usable_cores",
    "speedup",
    "efficiency",
    "other_cores_busy",
)


def summarize_rounds(rows: pd.DataFrame) -> pd.DataFrame:
    """One line per variant: medians, spread, speedup against serial and efficiency.

    Speedup compares medians of wall time with the serial variant of the same
    experiment and parameters; it is NaN where no serial variant ran.
    """
    columns = [
        *VARIANT_KEYS, "workload", "rounds", "failed", *FLOAT_COLUMNS, "crowded_rounds", "error"
    ]  # fmt: skip
    if rows.empty:
        return pd.DataFrame(columns=columns)
    keyed = rows.assign(params=rows["params"].fillna(""))
    order = keyed[VARIANT_KEYS].drop_duplicates()
    failed = (
        keyed[keyed["outcome"] == "failed"]
        .groupby(VARIANT_KEYS, observed=True, sort=False)
        .agg(failed=("outcome", "size"), error=("error", "first"))
    )
    # crowded rounds are left out of a variant that has enough quiet ones
    good = quiet_rounds(measured(keyed)).rows
    good = good.assign(
        _other_cores=other_cores_busy(good), _crowded=crowded(good), _usable=usable_cores_of(good)
    )
    stats = good.groupby(VARIANT_KEYS, observed=True, sort=False).agg(
        workload=("workload", "first"),
        rounds=("wall_s", "size"),
        wall_median_s=("wall_s", "median"),
        wall_q25_s=("wall_s", lambda s: s.quantile(0.25)),
        wall_q75_s=("wall_s", lambda s: s.quantile(0.75)),
        cpu_median_s=("cpu_s", "median"),
        cores_used=("cores_used", "median"),
        utilization=("utilization", "median"),
        startup_median_s=("startup_s", "median"),
        max_rss_bytes=("max_rss_bytes", "max"),
        load_avg_1m=("load_avg_1m", "max"),
        usable_cpus=("usable_cpus", "first"),
        usable_cores=("_usable", "first"),
        other_cores_busy=("_other_cores", "median"),
        crowded_rounds=("_crowded", "sum"),
    )
    table = order.merge(stats.reset_index(), on=VARIANT_KEYS, how="left").merge(
        failed.reset_index(), on=VARIANT_KEYS, how="left"
    )
    # a variant whose every round failed still shows its workload
    workloads = keyed.groupby(VARIANT_KEYS, observed=True, sort=False)["workload"].first()
    table = table.drop(columns="workload").merge(
        workloads.reset_index(), on=VARIANT_KEYS, how="left"
    )
    table["rounds"] = table["rounds"].fillna(0).astype(int)
    table["failed"] = table["failed"].fillna(0).astype(int)
    table["crowded_rounds"] = table["crowded_rounds"].fillna(0).astype(int)
    table["wall_rel_spread"] = (table["wall_q75_s"] - table["wall_q25_s"]) / table["wall_median_s"]
    serial = table[table["model"] == "serial"].set_index(["experiment", "params"])["wall_median_s"]
    baseline = pd.Series(
        [
            serial.get((exp, par), np.nan)
            for exp, par in zip(table["experiment"], table["params"], strict=True)
        ],
        index=table.index,
        dtype=float,
    )
    table["speedup"] = baseline / table["wall_median_s"]
    table["efficiency"] = table["speedup"] / table["workers"]
    return table[columns]


def warnings_for(line: pd.Series) -> list[str]:
    """Why a variant's numbers may not be trustworthy (empty when they look fine)."""
    notes: list[str] = []
    rounds = int(line["rounds"])
    if rounds == 0:
        return notes
    if rounds < MIN_ROUNDS:
        notes.append(f"only {rounds} round(s): too few to judge the spread")
    if line["wall_rel_spread"] > WIDE_SPREAD:
        notes.append(
            f"wide spread: interquartile range is {fmt.spread(line['wall_rel_spread'])} of the "
            f"median"
        )
    if line["wall_median_s"] < MIN_WALL_S:
        notes.append("rounds under 1 ms: timer and bookkeeping noise dominate")
    others = line.get("other_cores_busy")
    if pd.notna(others):  # the per-core sampler saw the machine: the witness of each round
        crowding = Crowding(float(others), int(line.get("crowded_rounds", 0)), rounds)
        if crowding.crowded:
            notes.append(f"machine was crowded: {crowding.describe()}")
        return notes
    # no sampler: the 1-minute load average, which includes the experiment's own busy
    # processes and threads; only load beyond what this variant kept busy is someone else
    own_load = line["cores_used"] if line["cores_used"] == line["cores_used"] else 0.0
    if line["load_avg_1m"] > line["usable_cores"] + own_load:
        notes.append(
            f"machine was loaded (1-min load average {fmt.number(line['load_avg_1m'], '.1f')} "
            f"on {fmt.number(line['usable_cores'], 'g')} usable cores, "
            f"{fmt.number(own_load, '.1f')} of it this experiment's)"
        )
    return notes
