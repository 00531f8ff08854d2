"""The pandas face of the advice: ``recommend``, ``diagnose`` and ``scaling`` frames."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Final, cast

import pandas as pd

from .._rounds.counting import measured
from .._storing.frames import companion_frame
from .diagnose import Diagnosis, diagnose_group
from .recommend import Recommendation, recommend_group
from .scaling import describe, scaling_of
from .signals import VariantSignals, variant_signals

RECOMMEND_COLUMNS: Final = [f.name for f in dataclasses.fields(Recommendation)]
DIAGNOSE_COLUMNS: Final = [
    "experiment", "params", "variant", "model", "workers", "codes", "not_assessed", "text",
]  # fmt: skip
SCALING_COLUMNS: Final = [
    "experiment", "params", "model", "measured_workers", "law", "sigma", "kappa", "rmse",
    "workers_2x", "speedup_2x", "low_2x", "high_2x",
    "workers_4x", "speedup_4x", "low_4x", "high_4x", "stops_paying_at", "text",
]  # fmt: skip
_REQUIRED: Final = ("experiment", "params", "model", "workers", "workload", "warmup", "outcome",
                    "wall_s")  # fmt: skip


def _check(df: pd.DataFrame) -> None:
    missing = [name for name in _REQUIRED if name not in df.columns]
    if missing:
        raise ValueError(f"not a frame of rounds (pc.load): missing column(s) {', '.join(missing)}")


def groups(
    df: pd.DataFrame, tasks: pd.DataFrame | None = None
) -> Iterator[tuple[list[VariantSignals], list[Diagnosis]]]:
    """The variants of each experiment and parameter set, with their diagnoses.

    Without ``tasks``, the tasks table of the runs ``df`` was loaded from (``pc.load``
    notes them), so the frames say what the report says.
    """
    _check(df)
    if tasks is None:
        tasks = companion_frame(df, "tasks")
    by_group: dict[tuple[str, str], list[VariantSignals]] = {}
    for variant in variant_signals(df, tasks):
        by_group.setdefault((variant.experiment, variant.params), []).append(variant)
    for variants in by_group.values():
        yield variants, diagnose_group(variants)


def recommendations(df: pd.DataFrame, tasks: pd.DataFrame | None = None) -> list[Recommendation]:
    return [recommend_group(variants, found) for variants, found in groups(df, tasks)]


def recommend(df: pd.DataFrame, tasks: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per experiment and parameter set: the variant to use, and why.

    Columns: ``experiment``, ``params``, ``best`` (a variant as test ids name it, or
    None when nothing can honestly be recommended), ``speedup`` over serial with its
    interval ``ci_low``..``ci_high`` (ratio of order-statistic median intervals, joint
    confidence ``ci_confidence``), ``runner_up``, ``margin`` (runner-up median / best
    median), ``p_value`` (one-sided Mann-Whitney, best faster than runner-up), ``tie``,
    ``problems`` (e.g. ``no_serial_baseline``, ``one_variant``, ``all_failed``,
    ``workload_mismatch``, ``machine_busy``) and ``reason``. The diagnoses quoted in
    ``reason`` read the task spans: ``tasks`` (``pc.load_tasks``), or where not given the
    tasks table of the runs ``df`` was loaded from. See docs/decisions.md.
    """
    rows = [dataclasses.asdict(r) for r in recommendations(df, tasks)]
    frame = pd.DataFrame(rows, columns=RECOMMEND_COLUMNS)
    frame["problems"] = frame["problems"].map(list)
    return frame


def diagnose(df: pd.DataFrame, tasks: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per variant: ``codes`` (a list from the fixed vocabulary), ``not_assessed``
    (codes only task spans can show, where the variant's rounds had none) and ``text``.

    Task spans come from ``tasks`` (``pc.load_tasks``) or, where not given, from the runs
    ``df`` was loaded from (``pc.load`` notes them). See docs/decisions.md.
    """
    rows = []
    for _, found in groups(df, tasks):
        for d in found:
            v = d.variant
            rows.append([v.experiment, v.params, v.label, v.model, v.workers, d.codes,
                         list(d.not_assessed), d.text])  # fmt: skip
    return pd.DataFrame(rows, columns=DIAGNOSE_COLUMNS)


def scaling(df: pd.DataFrame) -> pd.DataFrame:
    """One row per experiment, parameter set and model measured at 2+ worker counts
    (against a serial baseline): the fitted law (USL with 3+ counts, else Amdahl),
    predicted speedup with a bootstrap interval at 2x and 4x the most workers measured,
    and ``stops_paying_at``: the worker count past which doubling adds under 10%."""
    _check(df)
    good = measured(df.assign(params=df["params"].astype(object).fillna("").astype(str)))
    rows = []
    for (experiment, params), group in good.groupby(["experiment", "params"], sort=False,
                                                    observed=True):  # fmt: skip
        serial = group[group["model"].astype(str) == "serial"]["wall_s"].astype(float).tolist()
        for model, runs in group[group["model"].astype(str) != "serial"].groupby(
            "model", sort=False, observed=True
        ):
            walls = {int(cast(int, n)): w["wall_s"].astype(float).tolist()
                     for n, w in runs.groupby("workers", sort=True)}  # fmt: skip
            fitted = scaling_of(walls, serial)
            if fitted is None:
                continue
            two, four = fitted.predictions
            rows.append([
                experiment, params, model, list(fitted.measured), fitted.fit.law,
                fitted.fit.sigma, fitted.fit.kappa, fitted.fit.rmse,
                two.workers, two.speedup, two.low, two.high,
                four.workers, four.speedup, four.low, four.high,
                fitted.stops_paying_at, describe(str(model), fitted),
            ])  # fmt: skip
    return pd.DataFrame(rows, columns=SCALING_COLUMNS)
