"""The pandas face of the advice: ``recommend``, ``diagnose`` and ``scaling`` frames."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Final, cast

import pandas as pd

from .. import _format as fmt
from .._rounds.conventions import median
from .._rounds.counting import busy_reason, measured, quiet_rounds, usable_cores_of
from .._rounds.variant import keyed, variant_label
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
    "experiment", "params", "model", "measured_cores", "left_out", "law", "sigma", "kappa",
    "rmse", "cores_2x", "speedup_2x", "low_2x", "high_2x",
    "cores_4x", "speedup_4x", "low_4x", "high_4x", "stops_paying_at", "text",
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
    """One row per experiment, parameter set and model measured beyond one core (against a
    serial baseline), in cores: a variant could use min(workers, usable CPUs, quota).

    ``measured_cores`` are the core counts fitted (serial's one aside); oversubscribed
    variants (more workers than that) are in ``left_out``, not in the fit. With 3+
    distinct core counts: the fitted law (USL, else Amdahl), predicted speedup with a
    bootstrap interval at 2x and 4x the most cores measured (``cores_2x``...), and
    ``stops_paying_at``, the core count past which doubling adds under 10%. With fewer,
    or where the quiet-round rule finds the machine busy, ``law`` is None and ``text``
    says what cannot be predicted. See docs/decisions.md.
    """
    _check(df)
    counted = measured(keyed(df))
    quiet = quiet_rounds(counted)
    good = quiet.rows.assign(cores=_cores(quiet.rows))
    busy = {variant.key: variant for variant in quiet.busy}
    rows = []
    for (experiment, params), group in good.groupby(["experiment", "params"], sort=False,
                                                    observed=True):  # fmt: skip
        is_serial = group["model"].astype(str) == "serial"
        serial = group[is_serial]["wall_s"].astype(float).tolist()
        for model, runs in group[~is_serial].groupby("model", sort=False, observed=True):
            fits_cores = runs["workers"].astype(float) <= runs["cores"]
            walls = {float(cast(float, n)): w["wall_s"].astype(float).tolist()
                     for n, w in runs[fits_cores].groupby("cores", sort=True)}  # fmt: skip
            fitted = scaling_of(walls, serial)
            if fitted is None:
                continue
            left_out = _left_out(runs[~fits_cores], serial)
            judged = {(experiment, params, model), (experiment, params, "serial")}
            crowded = [variant for key, variant in busy.items() if key[:3] in judged]
            text = describe(str(model), fitted, left_out)
            law = fitted.fit
            predictions = [(p.cores, p.speedup, p.low, p.high) for p in fitted.predictions]
            if crowded:
                law, predictions = None, []
                text = f"{model}: no prediction: {busy_reason(crowded)}"
            (c2, s2, l2, h2), (c4, s4, l4, h4) = predictions or [(math.nan,) * 4] * 2
            rows.append([
                experiment, params, model, list(fitted.measured), left_out,
                law.law if law else None, law.sigma if law else math.nan,
                law.kappa if law else math.nan, law.rmse if law else math.nan,
                c2, s2, l2, h2, c4, s4, l4, h4,
                fitted.stops_paying_at if law else None, text,
            ])  # fmt: skip
    return pd.DataFrame(rows, columns=SCALING_COLUMNS)


def _cores(rows: pd.DataFrame) -> pd.Series:
    """The cores each round's variant could use: min(workers, usable cores), the usable
    cores being the kernel's (CPUs, capped by a quota); unknown ones cap nothing."""
    workers = rows["workers"].astype(float)
    return pd.concat([workers, usable_cores_of(rows)], axis=1).min(axis=1)


def _left_out(runs: pd.DataFrame, serial: list[float]) -> list[str]:
    """The oversubscribed variants, each with its workers, cores and measured speedup."""
    out = []
    base = median(serial)
    for (model, workers), rounds in runs.groupby(["model", "workers"], sort=True, observed=True):
        speedup = base / median(rounds["wall_s"].astype(float).tolist())
        out.append(
            f"{variant_label(str(model), int(cast(int, workers)))} ({int(cast(int, workers))} "
            f"workers on {fmt.figure(rounds['cores'].min())} cores: "
            f"{fmt.speedup(speedup)})"
        )
    return out
