"""The pandas side: load stored results into one tidy DataFrame and analyse it.

Free functions (``pc.summarize(df)``) and the same as a DataFrame accessor
(``df.concur.summarize()``), registered when this module is imported (``pc.load`` and
the other analysis names of ``pytest_concur`` import it on first use).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

from ._reporting.summary import FLOAT_COLUMNS, VARIANT_KEYS, measured_rounds, summarize_rounds
from ._stats.amdahl import fit_amdahl
from ._stats.samples import median_ci_ranks, p_less, smallest_possible_p
from ._storing.files import (
    CORES_SCHEMA,
    ROUNDS_SCHEMA,
    TASKS_SCHEMA,
    VERDICTS_SCHEMA,
    ResultsFileWarning,
    expand_paths,
    read_tables,
)
from ._warnings import ConcurWarning

PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]

#: Name-like string columns stored as pandas categories (few distinct values, many rows).
CATEGORY_COLUMNS: Final = (
    "run_id",
    "host",
    "python",
    "implementation",
    "tox_env",
    "cpu_model",
    "platform",
    "xdist_worker",
    "experiment",
    "params",
    "workload",
    "model",
    "start_method",
    "outcome",
)

#: Measures ``compare`` and thresholds may name by a short alias.
METRIC_ALIASES: Final[Mapping[str, str]] = {
    "wall": "wall_s",
    "cpu": "cpu_s",
    "cores": "cores_used",
    "rss": "max_rss_bytes",
    "startup": "startup_s",
}

_VERDICT_CATEGORIES: Final = (
    "run_id", "python", "host", "gil", "experiment", "claim", "claim_status", "status", "metric",
)  # fmt: skip
_COMPANION_CATEGORIES: Final = ("run_id", "test_id", "model", "host")

_ARROW_TO_PANDAS: Final[Mapping[pa.DataType, Any]] = {
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


# ---------------------------------------------------------------------------- loading


def load(paths: PathsLike) -> pd.DataFrame:
    """Every round stored under ``paths`` (a file, a folder, a glob, or several) as one frame.

    The frame is tidy, one row per measured round, with the dtypes of the stored schema:
    categories for names, ``datetime64[us, UTC]`` for times, float64 for measures and
    pandas' nullable ``Int64``/``boolean`` for counts and flags. Files of older schema
    versions load: columns they lack are filled with nulls. A file that is truncated,
    corrupt, empty, foreign or from a newer pytest-concur is skipped with a
    :class:`~pytest_concur._storing.files.ResultsFileWarning` naming it. A path that matches
    nothing raises FileNotFoundError.
    """
    return _load_kind(paths, "rounds", ROUNDS_SCHEMA, CATEGORY_COLUMNS)


def rows_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows as the plugin collects them (plain values), with the dtypes ``load`` gives."""
    from ._storing.files import _plain_to_arrow

    times = [field.name for field in ROUNDS_SCHEMA if pa.types.is_timestamp(field.type)]
    table = pa.Table.from_pylist([_plain_to_arrow(row, times) for row in rows], ROUNDS_SCHEMA)
    return _to_frame([table], ROUNDS_SCHEMA, CATEGORY_COLUMNS)


def load_verdicts(paths: PathsLike) -> pd.DataFrame:
    """The verdicts on claims stored under ``paths`` (files ``<run_id>.verdicts.parquet``).

    One row per expectation of a claim, per run and interpreter (columns in
    docs/claims.md): ``claim``, ``claim_status``, ``expectation``, ``status``
    (confirmed, refuted or inconclusive), ``reason``, the medians, ratio and p-values.
    Runs without verdicts contribute nothing; with none at all the frame is empty,
    with the same columns. Unreadable files are skipped with a warning naming them.
    """
    return _load_kind(paths, "verdicts", VERDICTS_SCHEMA, _VERDICT_CATEGORIES)


def load_companion(paths: PathsLike, table: str) -> pd.DataFrame:
    """A companion table (``tasks`` or ``cores``, see docs/timelines.md) under ``paths``.

    Empty (with the table's columns, where the kind is known) when no run stored one.
    Another kind loads with the columns its files have.
    """
    known = {"tasks": TASKS_SCHEMA, "cores": CORES_SCHEMA, "verdicts": VERDICTS_SCHEMA}
    return _load_kind(paths, table, known.get(table), _COMPANION_CATEGORIES)


def _load_kind(
    paths: PathsLike, table: str, schema: pa.Schema | None, categories: Iterable[str]
) -> pd.DataFrame:
    tables: list[pa.Table] = []
    for path in expand_paths(paths):
        for data in read_tables([path], table=table):
            try:
                tables.append(_conform(data, schema) if schema is not None else data)
            except (pa.ArrowException, ValueError, KeyError) as exc:
                warnings.warn(
                    f"skipped {path}: its columns do not match the {table} schema ({exc})",
                    ResultsFileWarning,
                    stacklevel=3,
                )
    return _to_frame(tables, schema, categories)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The file's columns in the schema's types and order; columns it lacks become nulls.

    Columns the schema does not know are kept after the others (a newer minor
    writer may add some). Raises when a stored column cannot take the schema's type.
    """
    names = table.column_names
    if len(set(names)) != len(names):
        raise ValueError("duplicate column names")
    arrays: list[pa.ChunkedArray | pa.Array] = []
    fields: list[pa.Field] = []
    for field in schema:
        if field.name in names:
            column = table.column(field.name)
            if not column.type.equals(field.type):
                column = column.cast(field.type)
            arrays.append(column)
        else:
            arrays.append(pa.nulls(table.num_rows, field.type))
        fields.append(field)
    for name in names:
        if name not in schema.names:
            arrays.append(table.column(name))
            fields.append(table.schema.field(name))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _to_frame(
    tables: list[pa.Table], schema: pa.Schema | None, categories: Iterable[str]
) -> pd.DataFrame:
    if tables:
        try:
            combined = pa.concat_tables(tables, promote_options="permissive")
        except pa.ArrowException as exc:
            # only columns outside the schema can disagree: keep the schema's columns
            if schema is None:
                raise
            warnings.warn(
                f"columns outside the results schema disagree between files and were "
                f"left out ({exc})",
                ResultsFileWarning,
                stacklevel=3,
            )
            combined = pa.concat_tables([t.select(schema.names) for t in tables])
    elif schema is not None:
        combined = schema.empty_table()
    else:
        return pd.DataFrame()
    # without metadata, pandas never acts on a stored "pandas" key (index, dtypes)
    combined = combined.replace_schema_metadata(None)
    frame = combined.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)
    for name in categories:
        if name in frame:
            frame[name] = frame[name].astype("category")
    assert isinstance(frame, pd.DataFrame)
    return frame


# ---------------------------------------------------------------------------- summaries


def _as_keys(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _check_columns(frame: pd.DataFrame, names: Iterable[str], what: str) -> None:
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


def _prepared(df: pd.DataFrame) -> pd.DataFrame:
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


def summarize(
    df: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    baseline: str = "serial",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per variant (experiment, params, model, workers), per group of ``by``.

    Columns: rounds and failed rounds, wall median with its quartiles, relative spread
    (interquartile range / median) and a distribution-free confidence interval for the
    median (``wall_ci_low_s``, ``wall_ci_high_s``, at the confidence
    ``wall_ci_level`` that the number of rounds allows), CPU seconds, cores used,
    utilisation, start-up cost, peak RSS, speedup and efficiency against ``baseline``
    (a model such as ``"serial"`` or a variant such as ``"threads-1"``) within the same
    experiment, parameters and ``by`` group. Warm-up and failed rounds do not count.
    """
    keys = _as_keys(by)
    _check_columns(df, keys, "summarize(by=...)")
    rows = _prepared(df)
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
    good = measured_rounds(rows)
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


def _parse_variant(baseline: str, models: Iterable[object]) -> tuple[str, int | None]:
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
    model, workers = _parse_variant(baseline, summary["model"].unique())
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
        _variant_name(m, w) if isinstance(m, str) and not pd.isna(w) else None
        for m, w in zip(merged["_base_model"], merged["_base_workers"], strict=True)
    ]
    merged["baseline"] = pd.Series(names, index=merged.index, dtype="str")
    return merged.drop(columns=["_base_model", "_base_workers", "_base_wall"])


def _variant_name(model: str, workers: float) -> str:
    return model if model == "serial" else f"{model}-{int(workers)}"


def speedup(
    df: pd.DataFrame, baseline: str = "serial", by: str | Sequence[str] | None = None
) -> pd.Series:
    """Median-wall speedup of every variant against ``baseline`` (default: serial).

    ``baseline`` is a model (its fewest workers are used) or a variant like
    ``"threads-1"``. Indexed by ``by`` and the variant keys; NaN where the baseline
    did not run for that experiment.
    """
    keys = _as_keys(by)
    summary = summarize(df, by=keys, baseline=baseline)
    return summary.set_index([*keys, *VARIANT_KEYS])["speedup"]


def efficiency(
    df: pd.DataFrame, baseline: str = "serial", by: str | Sequence[str] | None = None
) -> pd.Series:
    """Speedup per worker, relative to the baseline's own worker count (1 for serial)."""
    keys = _as_keys(by)
    summary = summarize(df, by=keys, baseline=baseline)
    return summary.set_index([*keys, *VARIANT_KEYS])["efficiency"]


def amdahl(
    df: pd.DataFrame, by: str | Sequence[str] | None = None, *, baseline: str = "serial"
) -> pd.DataFrame:
    """Amdahl's law fitted per model where it ran at two or more worker counts.

    One row per (``by``, experiment, params, model): the worker counts used, the
    fitted ``parallel_fraction`` (0..1), the predicted ``ceiling`` speedup for unlimited
    workers, the best speedup observed and the fit's ``rmse`` (on 1/speedup). Speedups
    are against ``baseline``; the baseline model itself is not fitted.
    """
    keys = _as_keys(by)
    summary = summarize(df, by=keys, baseline=baseline)
    columns = [
        *keys,
        "experiment",
        "params",
        "model",
        "worker_counts",
        "points",
        "parallel_fraction",
        "ceiling",
        "best_speedup",
        "rmse",
    ]
    out: list[dict[str, Any]] = []
    usable = summary[summary["speedup"].notna() & (summary["rounds"] > 0)]
    base_model = _parse_variant(baseline, summary["model"].unique())[0] if len(summary) else ""
    for key, group in usable.groupby(
        [*keys, "experiment", "params", "model"], observed=True, sort=False, dropna=False
    ):
        values = key if isinstance(key, tuple) else (key,)
        if str(values[-1]) == base_model or group["workers"].nunique() < 2:
            continue
        fit = fit_amdahl(group["workers"].tolist(), group["speedup"].tolist())
        if fit is None:
            continue
        counts = sorted(int(w) for w in group["workers"].unique())
        out.append(
            dict(
                zip(
                    columns,
                    [
                        *values,
                        ",".join(map(str, counts)),
                        fit.points,
                        fit.parallel_fraction,
                        fit.ceiling,
                        float(group["speedup"].max()),
                        fit.rmse,
                    ],
                    strict=True,
                )
            )
        )
    result = pd.DataFrame(out, columns=columns)
    for name in ("parallel_fraction", "ceiling", "best_speedup", "rmse"):
        result[name] = result[name].astype(float)
    result["points"] = result["points"].astype("int64")
    return result


# ---------------------------------------------------------------------------- comparison


def natural_key(value: object) -> tuple[Any, ...]:
    """Sort key that orders versions like people do: 3.9 before 3.11, nulls last."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return (1, ())
    parts = re.split(r"(\d+)", str(value))
    return (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p))


def metric_column(name: str) -> str:
    """``wall`` -> ``wall_s`` and the other aliases; a column name passes through."""
    return METRIC_ALIASES.get(name, name)


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


def compare(
    df: pd.DataFrame,
    by: str = "python",
    *,
    baseline: object = None,
    metric: str = "wall",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Every value of ``by`` against a baseline value, variant by variant.

    ``by`` is any column (``python``, ``run_id``, ``host``, ``gil_enabled``, ...);
    ``baseline`` one of its values (default: the first in natural order, e.g. the
    oldest Python). For each variant present on both sides: rounds, medians of
    ``metric`` (``wall``, ``cpu``, ``cores``, ``rss``, ``startup`` or a column name),
    ``ratio`` = candidate median / baseline median, and one-sided Mann-Whitney U
    p-values (exact for small samples, no normality assumed) that the candidate is
    slower (``p_slower``: larger values) or faster. ``change`` says ``slower`` or
    ``faster`` when that p-value is below ``alpha``, ``no change`` when neither is,
    and ``too few rounds`` when the sample sizes cannot reach ``alpha`` at all.
    """
    column = metric_column(metric)
    _check_columns(df, [by, column], "compare")
    rows = measured_rounds(_prepared(df))
    rows = rows[rows[column].notna()]
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
            out.append([*variant, column, *_compared(baseline, candidate, base, cand, alpha)])
    result = pd.DataFrame(out, columns=_COMPARE_COLUMNS)
    for name in ("baseline_median", "candidate_median", "ratio", "p_slower", "p_faster"):
        result[name] = result[name].astype(float)
    for name in ("baseline_rounds", "candidate_rounds", "workers"):
        result[name] = result[name].astype("int64")
    return result


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


@pd.api.extensions.register_dataframe_accessor("concur")
class ConcurAccessor:
    """``df.concur``: the analysis functions as methods of a frame of stored rounds."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def measured(self) -> pd.DataFrame:
        """Rounds that count: not warm-up, and passed."""
        return measured_rounds(_prepared(self._frame))

    def summarize(
        self,
        by: str | Sequence[str] | None = None,
        *,
        baseline: str = "serial",
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """See :func:`pytest_concur.summarize`."""
        return summarize(self._frame, by, baseline=baseline, confidence=confidence)

    def speedup(self, baseline: str = "serial", by: str | Sequence[str] | None = None) -> pd.Series:
        """See :func:`pytest_concur.speedup`."""
        return speedup(self._frame, baseline, by)

    def efficiency(
        self, baseline: str = "serial", by: str | Sequence[str] | None = None
    ) -> pd.Series:
        """See :func:`pytest_concur.efficiency`."""
        return efficiency(self._frame, baseline, by)

    def amdahl(
        self, by: str | Sequence[str] | None = None, *, baseline: str = "serial"
    ) -> pd.DataFrame:
        """See :func:`pytest_concur.amdahl`."""
        return amdahl(self._frame, by, baseline=baseline)

    def compare(
        self,
        by: str = "python",
        *,
        baseline: object = None,
        metric: str = "wall",
        alpha: float = 0.05,
    ) -> pd.DataFrame:
        """See :func:`pytest_concur.compare`."""
        return compare(self._frame, by, baseline=baseline, metric=metric, alpha=alpha)
