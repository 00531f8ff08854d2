"""Statistics per variant over a frame of rounds: what ``analysis`` and the reports show.

``summarize_variants`` (medians, spread, confidence interval, speedup against a
baseline) and ``compare_variants`` (rank tests between the values of a column) do the
work behind ``analysis.summarize`` and ``analysis.compare``, whose docstrings are the
reference. Pure pandas; no formatting.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from .._rounds.counting import measured, quiet_rounds
from .._rounds.variant import VARIANT_KEYS, variant_key, variant_label
from .._warning_types import ConcurWarning
from .samples import median_ci_ranks, p_less, smallest_possible_p
from .summary import FLOAT_COLUMNS, summarize_rounds


def as_keys(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def check_columns(frame: pd.DataFrame, names: Iterable[str], what: str) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise KeyError(
            f"{what}: no column {', '.join(map(repr, missing))}; columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )


_NEEDED: Final = (
    "experiment",
    "params",
    "model",
    "workers",
    "workload",
    "warmup",
    "outcome",
    "error",
    "wall_s",
    "cpu_s",
    "cores_used",
    "utilization",
    "startup_s",
    "max_rss_bytes",
    "load_avg_1m",
    "usable_cpus",
)


def prepared(df: pd.DataFrame) -> pd.DataFrame:
    """Rounds ready for the per-variant statistics of ``_summary``.

    A missing column is a null column; a null ``params`` is the empty parameter set;
    a null ``warmup`` is a measured round. Rows that name no experiment, model or
    worker count cannot belong to a variant: they are left out with a warning.
    """
    rows = df.copy(deep=False)
    for name in _NEEDED:
        if name not in rows:
            rows[name] = pd.Series(pd.NA, index=rows.index, dtype="object")
    params = rows["params"]
    if isinstance(params.dtype, pd.CategoricalDtype):
        if "" not in params.cat.categories:
            params = params.cat.add_categories("")
        rows["params"] = params.fillna("")
    else:
        rows["params"] = params.fillna("").astype(str)
    rows["warmup"] = rows["warmup"].astype("boolean").fillna(False).astype(bool)
    unplaced = rows[["experiment", "model", "workers"]].isna().any(axis=1)
    if unplaced.any():
        warnings.warn(
            f"{int(unplaced.sum())} round(s) name no experiment, model or worker count and "
            f"were left out of the summary",
            ConcurWarning,
            stacklevel=3,
        )
        rows = rows[~unplaced]
    rows["workers"] = rows["workers"].astype("int64")
    for name in ("wall_s", "cpu_s", "cores_used", "utilization", "startup_s", "load_avg_1m"):
        rows[name] = pd.to_numeric(rows[name], errors="coerce").astype("float64")
    for name in ("max_rss_bytes", "usable_cpus"):
        rows[name] = pd.to_numeric(rows[name], errors="coerce").astype("float64")
    return rows


def _groups(
    rows: pd.DataFrame, keys: list[str]
) -> Iterable[tuple[tuple[Hashable, ...], pd.DataFrame]]:
    if not keys:
        yield (), rows
        return
    for key, group in rows.groupby(keys, observed=True, sort=True, dropna=False):
        yield (key if isinstance(key, tuple) else (key,)), group


def summarize_variants(
    df: pd.DataFrame, keys: list[str], *, baseline: str, confidence: float
) -> pd.DataFrame:
    """``analysis.summarize``: one row per variant and ``keys`` group (its docs say the columns)."""
    check_columns(df, keys, "summarize(by=...)")
    rows = prepared(df)
    parts: list[pd.DataFrame] = []
    for key, group in _groups(rows, keys):
        table = summarize_rounds(group)
        if table.empty:
            continue
        table = _with_ci(table, group, confidence)
        for name, value in reversed(list(zip(keys, key, strict=True))):
            table.insert(0, name, pd.Series([value] * len(table), index=table.index))
        parts.append(table)
    if not parts:
        empty = summarize_rounds(rows.iloc[0:0])
        for name in reversed(keys):
            empty.insert(0, name, pd.Series(dtype=df[name].dtype))
        summary = _with_ci(empty, rows.iloc[0:0], confidence)
    else:
        summary = pd.concat(parts, ignore_index=True)
    summary = _typed_summary(summary, df, keys)
    return _with_baseline(summary, baseline, keys)


def _with_ci(table: pd.DataFrame, rows: pd.DataFrame, confidence: float) -> pd.DataFrame:
    good = measured(rows)
    walls = {
        key: group.to_numpy(dtype=float)
        for key, group in good.groupby(VARIANT_KEYS, observed=True, sort=False)["wall_s"]
    }
    lows: list[float] = []
    highs: list[float] = []
    levels: list[float] = []
    ranks: dict[int, tuple[int, float]] = {}  # the ranks depend on n only: once per n
    for key in table[VARIANT_KEYS].itertuples(index=False, name=None):
        values = walls.get(tuple(key))
        values = np.sort(values[~np.isnan(values)]) if values is not None else np.empty(0)
        n = len(values)
        if n not in ranks:
            ranks[n] = median_ci_ranks(n, confidence)
        j, level = ranks[n]
        lows.append(float(values[j - 1]) if n else math.nan)
        highs.append(float(values[n - j]) if n else math.nan)
        levels.append(level)
    at = list(table.columns).index("wall_q75_s") + 1
    table = table.copy()
    table.insert(at, "wall_ci_level", pd.Series(levels, index=table.index, dtype=float))
    table.insert(at, "wall_ci_high_s", pd.Series(highs, index=table.index, dtype=float))
    table.insert(at, "wall_ci_low_s", pd.Series(lows, index=table.index, dtype=float))
    return table


_SUMMARY_INTS: Final = ("workers", "rounds", "failed", "crowded_rounds")
#: the summary's numeric columns, and the confidence interval this module adds
_SUMMARY_FLOATS: Final = (*FLOAT_COLUMNS, "wall_ci_low_s", "wall_ci_high_s", "wall_ci_level")


def _typed_summary(summary: pd.DataFrame, df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    for name in _SUMMARY_INTS:
        summary[name] = summary[name].astype("int64")
    for name in _SUMMARY_FLOATS:
        summary[name] = pd.to_numeric(summary[name], errors="coerce").astype("float64")
    for name in ("experiment", "params", "model", "workload", *keys):
        if name in df and isinstance(df[name].dtype, pd.CategoricalDtype):
            summary[name] = summary[name].astype("category")
    return summary


def parse_variant(baseline: str, models: Iterable[object]) -> tuple[str, int | None]:
    """``"threads"`` or ``"threads-2"`` as (model, workers); workers None means fewest."""
    known = {str(model) for model in models}
    if baseline in known or baseline == "serial":  # no serial run: speedups are NaN
        return baseline, None
    model, _, count = baseline.rpartition("-")
    if model in known and count.isdigit() and int(count) > 0:
        return model, int(count)
    raise ValueError(
        f"baseline {baseline!r} names no model in these results; models are: "
        f"{', '.join(sorted(known)) or '(none)'} (a variant is written like 'threads-2')"
    )


def _with_baseline(summary: pd.DataFrame, baseline: str, keys: list[str]) -> pd.DataFrame:
    """Speedup = baseline median wall / median wall, in the same experiment and group."""
    if summary.empty:
        summary = summary.assign(baseline=pd.Series(dtype="str"))
        return summary
    model, workers = parse_variant(baseline, summary["model"].unique())
    group_keys = [*keys, "experiment", "params"]
    chosen = summary[(summary["model"] == model) & (summary["rounds"] > 0)]
    if workers is not None:
        chosen = chosen[chosen["workers"] == workers]
    chosen = (
        chosen.sort_values("workers")
        .groupby(group_keys, observed=True, sort=False, dropna=False)
        .head(1)
    )
    base = chosen[[*group_keys, "model", "workers", "wall_median_s"]].rename(
        columns={
            "model": "_base_model",
            "workers": "_base_workers",
            "wall_median_s": "_base_wall",
        }
    )
    base["_base_model"] = base["_base_model"].astype(str)
    merged = summary.merge(base, on=group_keys, how="left", sort=False)
    merged["speedup"] = (merged["_base_wall"] / merged["wall_median_s"]).astype(float)
    merged["efficiency"] = (
        merged["speedup"] * merged["_base_workers"].astype(float) / merged["workers"]
    ).astype(float)
    names = [
        variant_label(m, w) if isinstance(m, str) and not pd.isna(w) else None
        for m, w in zip(merged["_base_model"], merged["_base_workers"], strict=True)
    ]
    merged["baseline"] = pd.Series(names, index=merged.index, dtype="str")
    return merged.drop(columns=["_base_model", "_base_workers", "_base_wall"])


def natural_key(value: object) -> tuple[Any, ...]:
    """Sort key that orders versions like people do: 3.9 before 3.11, nulls last."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return (1, ())
    parts = re.split(r"(\d+)", str(value))
    return (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p))


#: ``compare``'s change where either side rests on crowded rounds (the quiet-round rule)
MACHINE_BUSY: Final = "machine busy"

_COMPARE_COLUMNS: Final = [
    *VARIANT_KEYS,
    "metric",
    "baseline",
    "candidate",
    "baseline_rounds",
    "candidate_rounds",
    "baseline_median",
    "candidate_median",
    "ratio",
    "p_slower",
    "p_faster",
    "change",
]


def compare_variants(
    df: pd.DataFrame, by: str, *, baseline: object, column: str, alpha: float
) -> pd.DataFrame:
    """``analysis.compare``: every value of ``by`` against ``baseline``, per variant."""
    check_columns(df, [by, column], "compare")
    rows = measured(prepared(df))
    rows = rows[rows[column].notna()]
    rows, busy = _quiet_by(rows, by)
    values = sorted((v for v in rows[by].unique() if not pd.isna(v)), key=natural_key)
    if baseline is None:
        if not values:
            return pd.DataFrame(columns=_COMPARE_COLUMNS)
        baseline = values[0]
    elif baseline not in values:
        raise ValueError(
            f"baseline {baseline!r} is not a value of {by!r}; values are: "
            f"{', '.join(map(str, values)) or '(none)'}"
        )
    samples = {
        (key[0], *key[1:]): group[column].to_numpy(dtype=float)
        for key, group in rows.groupby([by, *VARIANT_KEYS], observed=True, sort=False)
    }
    out: list[list[Any]] = []
    order = rows[VARIANT_KEYS].drop_duplicates().itertuples(index=False, name=None)
    for variant in order:
        base = samples.get((baseline, *variant))
        if base is None:
            continue
        for candidate in values:
            if candidate == baseline:
                continue
            cand = samples.get((candidate, *variant))
            if cand is None:
                continue
            compared = _compared(baseline, candidate, base, cand, alpha)
            if {(baseline, *variant), (candidate, *variant)} & busy:
                compared[-1] = MACHINE_BUSY  # never a change read from crowded rounds
            out.append([*variant, column, *compared])
    result = pd.DataFrame(out, columns=_COMPARE_COLUMNS)
    for name in ("baseline_median", "candidate_median", "ratio", "p_slower", "p_faster"):
        result[name] = result[name].astype(float)
    for name in ("baseline_rounds", "candidate_rounds", "workers"):
        result[name] = result[name].astype("int64")
    return result


def _quiet_by(rows: pd.DataFrame, by: str) -> tuple[pd.DataFrame, set[tuple[Any, ...]]]:
    """The quiet-round rule within each value of ``by``: the rows it keeps, and the
    (value, *variant) samples it found busy."""
    kept: list[pd.DataFrame] = []
    busy: set[tuple[Any, ...]] = set()
    for value, group in rows.groupby(by, observed=True, sort=False):
        selection = quiet_rounds(group)
        kept.append(selection.rows)
        keys = {variant.key for variant in selection.busy}
        for variant in group[VARIANT_KEYS].drop_duplicates().itertuples(index=False, name=None):
            if variant_key(dict(zip(VARIANT_KEYS, variant, strict=True))) in keys:
                busy.add((value, *variant))
    return (pd.concat(kept) if kept else rows), busy


def _compared(
    baseline: object, candidate: object, base: np.ndarray, cand: np.ndarray, alpha: float
) -> list[Any]:
    base_median = float(np.median(base))
    cand_median = float(np.median(cand))
    ratio = cand_median / base_median if base_median > 0 else math.nan
    p_slower = p_less(base.tolist(), cand.tolist())
    p_faster = p_less(cand.tolist(), base.tolist())
    if smallest_possible_p(len(base), len(cand)) >= alpha:
        change = "too few rounds"
    elif p_slower < alpha:
        change = "slower"
    elif p_faster < alpha:
        change = "faster"
    else:
        change = "no change"
    return [
        baseline,
        candidate,
        len(base),
        len(cand),
        base_median,
        cand_median,
        ratio,
        p_slower,
        p_faster,
        change,
    ]


# ---------------------------------------------------------------------------- accessor
