"""The pandas side: load stored results into one tidy DataFrame and analyse it.

Free functions (``pc.summarize(df)``) and the same as a DataFrame accessor
(``df.concur.summarize()``), registered when this module is imported (``pc.load`` and
the other analysis names of ``pytest_concur`` import it on first use).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd

from ._rounds.conventions import ALPHA
from ._rounds.counting import measured
from ._rounds.variant import VARIANT_KEYS
from ._stats.amdahl import fit_amdahl
from ._stats.variants import (
    as_keys,
    compare_variants,
    natural_key,
    parse_variant,
    prepared,
    summarize_variants,
)
from ._storing.frames import (
    CATEGORY_COLUMNS,
    COMPANION_CATEGORIES,
    KINDS,
    SOURCES,
    VERDICT_CATEGORIES,
    PathsLike,
    load_beside,
    load_kind,
    rows_frame,
)
from ._storing.schema import ROUNDS_SCHEMA, VERDICTS_SCHEMA

#: analysis' names that live elsewhere, importable from here as before
__all__ = [
    "CATEGORY_COLUMNS",
    "ConcurAccessor",
    "amdahl",
    "compare",
    "efficiency",
    "load",
    "load_companion",
    "load_tasks",
    "load_verdicts",
    "metric_column",
    "natural_key",
    "rows_frame",
    "speedup",
    "summarize",
]

#: Measures ``compare`` and thresholds may name by a short alias.
METRIC_ALIASES: Final[Mapping[str, str]] = {
    "wall": "wall_s",
    "cpu": "cpu_s",
    "cores": "cores_used",
    "rss": "max_rss_bytes",
    "startup": "startup_s",
}

# ---------------------------------------------------------------------------- loading


def load(paths: PathsLike) -> pd.DataFrame:
    """Every round stored under ``paths`` (a file, a folder, a glob, or several) as one frame.

    The frame is tidy, one row per measured round, with the dtypes of the stored schema:
    categories for names, ``datetime64[us, UTC]`` for times, float64 for measures and
    pandas' nullable ``Int64``/``boolean`` for counts and flags. Files of older schema
    versions load: columns they lack are filled with nulls. A file that is truncated,
    corrupt, empty, foreign or from a newer pytest-concur is skipped with a
    :class:`~pytest_concur.ResultsFileWarning` naming it. A path that matches
    nothing raises FileNotFoundError.

    ``df.attrs["concur_sources"]`` notes ``paths``, so that ``recommend``, ``diagnose``
    and the report read the same runs' task spans without being handed them.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)  # read twice
    frame = load_kind(items, "rounds", ROUNDS_SCHEMA, CATEGORY_COLUMNS)
    frame.attrs[SOURCES] = [os.fspath(item) for item in items]
    return frame


def load_tasks(paths: PathsLike) -> pd.DataFrame:
    """The task spans stored under ``paths``: one row per task of ``concur.map``, with the
    process and thread that ran it and when (columns in docs/timelines.md).

    ``paths`` is what ``load`` takes; a rounds file brings its run's tasks file. Empty,
    with the table's columns, when no run traced tasks.
    """
    return load_beside(paths, "tasks")


def load_verdicts(paths: PathsLike) -> pd.DataFrame:
    """The verdicts on claims stored under ``paths`` (``results/verdicts/<run_id>.parquet``,
    and the flat ``<run_id>.verdicts.parquet`` of folders written before the layout).

    One row per expectation of a claim, per run and interpreter (columns in
    docs/claims.md): ``claim``, ``claim_status``, ``expectation``, ``status``
    (confirmed, refuted or inconclusive), ``reason``, the medians, ratio and p-values.
    Runs without verdicts contribute nothing; with none at all the frame is empty,
    with the same columns. Unreadable files are skipped with a warning naming them.
    """
    return load_kind(paths, "verdicts", VERDICTS_SCHEMA, VERDICT_CATEGORIES)


def load_companion(paths: PathsLike, table: str) -> pd.DataFrame:
    """A companion table (``tasks`` or ``cores``, see docs/timelines.md) under ``paths``.

    Empty (with the table's columns, where the kind is known) when no run stored one.
    Another kind loads with the columns its files have.
    """
    schema, categories = KINDS.get(table, (None, COMPANION_CATEGORIES))
    return load_kind(paths, table, schema, categories)


# ---------------------------------------------------------------------------- summaries


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
    keys = as_keys(by)
    return summarize_variants(df, keys, baseline=baseline, confidence=confidence)


def speedup(
    df: pd.DataFrame, baseline: str = "serial", by: str | Sequence[str] | None = None
) -> pd.Series:
    """Median-wall speedup of every variant against ``baseline`` (default: serial).

    ``baseline`` is a model (its fewest workers are used) or a variant like
    ``"threads-1"``. Indexed by ``by`` and the variant keys; NaN where the baseline
    did not run for that experiment.
    """
    keys = as_keys(by)
    summary = summarize(df, by=keys, baseline=baseline)
    return summary.set_index([*keys, *VARIANT_KEYS])["speedup"]


def efficiency(
    df: pd.DataFrame, baseline: str = "serial", by: str | Sequence[str] | None = None
) -> pd.Series:
    """Speedup per worker, relative to the baseline's own worker count (1 for serial)."""
    keys = as_keys(by)
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
    keys = as_keys(by)
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
    base_model = parse_variant(baseline, summary["model"].unique())[0] if len(summary) else ""
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


def metric_column(name: str) -> str:
    """``wall`` -> ``wall_s`` and the other aliases; a column name passes through."""
    return METRIC_ALIASES.get(name, name)


def compare(
    df: pd.DataFrame,
    by: str = "python",
    *,
    baseline: object = None,
    metric: str = "wall",
    alpha: float = ALPHA,
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
    return compare_variants(df, by, baseline=baseline, column=metric_column(metric), alpha=alpha)


@pd.api.extensions.register_dataframe_accessor("concur")
class ConcurAccessor:
    """``df.concur``: the analysis functions as methods of a frame of stored rounds."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def measured(self) -> pd.DataFrame:
        """Rounds that count: not warm-up, and passed."""
        return measured(prepared(self._frame))

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
        alpha: float = ALPHA,
    ) -> pd.DataFrame:
        """See :func:`pytest_concur.compare`."""
        return compare(self._frame, by, baseline=baseline, metric=metric, alpha=alpha)
