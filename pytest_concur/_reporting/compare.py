"""Regression checks: one set of rounds against a stored baseline, with thresholds.

Shared by ``pytest-concur compare`` and the plugin's ``--concur-compare``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import _format as fmt
from .._rounds.conventions import ALPHA
from .._rounds.variant import variant_label
from .._stats.variants import MACHINE_BUSY
from .._storing.catalog import find_runs
from .._storing.reading import expand_paths
from .rows import experiment_title, records
from .thresholds import Threshold

# ---------------------------------------------------------------------------- sources


def resolve_source(value: str, results_dir: Path, *, base: Path | None = None) -> list[Path]:
    """A path, folder or glob of results (relative to ``base``), or a run id or name in
    ``results_dir``.

    Raises FileNotFoundError naming what was looked for.
    """
    try:
        found = expand_paths(str(Path(base, value)) if base is not None else value)
    except FileNotFoundError:
        pass
    else:
        if not found:
            raise FileNotFoundError(f"no results files (*.parquet) in {value}")
        return found
    matches = [run for run in find_runs(results_dir, value) if run.rounds is not None]
    if len(matches) == 1 and matches[0].rounds is not None:
        return [matches[0].rounds]
    if len(matches) > 1:
        names = ", ".join(run.run_id for run in matches)
        raise FileNotFoundError(f"{value!r} matches several stored runs: {names}")
    raise FileNotFoundError(
        f"no results at {value!r}: neither a file, folder or glob, nor a run id or run name "
        f"stored in {results_dir}"
    )


# ---------------------------------------------------------------------------- comparing


@dataclass(frozen=True, slots=True)
class Comparison:
    """Per-variant comparison rows (``analysis.compare`` columns) and what broke a threshold."""

    table: pd.DataFrame
    regressions: pd.DataFrame
    thresholds: tuple[Threshold, ...]
    alpha: float
    only_baseline: int
    only_candidate: int

    @property
    def failed(self) -> bool:
        return not self.regressions.empty


def compare_frames(
    baseline: pd.DataFrame,
    candidate: pd.DataFrame,
    *,
    thresholds: Sequence[Threshold] = (),
    alpha: float = ALPHA,
) -> Comparison:
    """Variants found on both sides, compared on wall time and every threshold's metric.

    A regression is a variant whose candidate median exceeds the baseline median by
    more than the threshold allows *and* whose rank test says slower (p < ``alpha``):
    noise alone does not fail a build, and neither does a significant but small change.
    """
    from .._rounds.variant import VARIANT_KEYS
    from ..analysis import compare

    side = "_concur_side"
    both = pd.concat(
        [baseline.assign(**{side: "baseline"}), candidate.assign(**{side: "candidate"})],
        ignore_index=True,
    )
    for frame_name in ("experiment", "params", "model"):
        if frame_name in both and not isinstance(both[frame_name].dtype, pd.CategoricalDtype):
            both[frame_name] = both[frame_name].astype("category")
    columns = ["wall_s", *(t.column for t in thresholds if t.column != "wall_s")]
    parts = [
        compare(both, side, baseline="baseline", metric=column, alpha=alpha)
        for column in dict.fromkeys(columns)
        if column in both
    ]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    regressions = _regressions(table, thresholds, alpha)
    base_keys = _variant_set(baseline, VARIANT_KEYS)
    cand_keys = _variant_set(candidate, VARIANT_KEYS)
    return Comparison(
        table=table.drop(columns=["baseline", "candidate"], errors="ignore"),
        regressions=regressions.drop(columns=["baseline", "candidate"], errors="ignore"),
        thresholds=tuple(thresholds),
        alpha=alpha,
        only_baseline=len(base_keys - cand_keys),
        only_candidate=len(cand_keys - base_keys),
    )


def _variant_set(frame: pd.DataFrame, keys: Sequence[str]) -> set[tuple[object, ...]]:
    if frame.empty or any(key not in frame for key in keys):
        return set()
    values = frame[list(keys)].astype(object)
    values = values.assign(params=values["params"].where(values["params"].notna(), ""))
    return set(values.drop_duplicates().itertuples(index=False, name=None))


def _regressions(
    table: pd.DataFrame, thresholds: Sequence[Threshold], alpha: float
) -> pd.DataFrame:
    if table.empty or not thresholds:
        return table.iloc[0:0].assign(threshold=pd.Series(dtype="str"))
    hits: list[pd.DataFrame] = []
    for threshold in thresholds:
        rows = table[table["metric"] == threshold.column]
        judged = rows["change"] != MACHINE_BUSY  # crowded rounds decide nothing
        broke = rows[judged & (rows["ratio"] > 1 + threshold.limit) & (rows["p_slower"] < alpha)]
        hits.append(broke.assign(threshold=str(threshold)))
    return pd.concat(hits, ignore_index=True)


# ---------------------------------------------------------------------------- text


def comparison_rows(
    table: pd.DataFrame, flagged: set[tuple[object, ...]] | None = None
) -> list[tuple[str, ...]]:
    """Header and one line per compared variant and metric, as display strings.

    ``table`` has ``analysis.compare``'s columns; when it still holds the compared
    values (``baseline``/``candidate`` columns) a ``compared`` column names them.
    """
    flagged = flagged or set()
    labelled = "baseline" in table.columns and "candidate" in table.columns
    header = (
        "experiment",
        "variant",
        *(("compared",) if labelled else ()),
        "metric",
        "baseline",
        "candidate",
        "change",
        "p(slower)",
        "p(faster)",
        "verdict",
    )
    lines: list[tuple[str, ...]] = [header]
    for row in records(table):
        params = str(row["params"]) if isinstance(row["params"], str) else ""
        key = (row["experiment"], row["params"], row["model"], row["workers"], row["metric"])
        verdict = str(row["change"]) + ("  REGRESSION" if key in flagged else "")
        compared = (fmt.escape(f"{row['baseline']} -> {row['candidate']}"),) if labelled else ()
        metric = str(row["metric"])
        lines.append(
            (
                experiment_title(row["experiment"], params),
                fmt.escape(variant_label(row["model"], row["workers"])),
                *compared,
                metric,
                fmt.measure(row["baseline_median"], metric),
                fmt.measure(row["candidate_median"], metric),
                fmt.change(row["ratio"]),
                fmt.p_value(row["p_slower"]),
                fmt.p_value(row["p_faster"]),
                verdict,
            )
        )
    return lines


def flagged_keys(comparison: Comparison) -> set[tuple[object, ...]]:
    """(experiment, params, model, workers, metric) of every regression."""
    return {
        (r["experiment"], r["params"], r["model"], r["workers"], r["metric"])
        for r in records(comparison.regressions)
    }


def comparison_notes(comparison: Comparison) -> list[str]:
    """What was not compared, how changes were judged, and what failed."""
    notes: list[str] = []
    if comparison.table.empty:
        notes.append("no experiment variant appears on both sides: nothing to compare")
    if comparison.only_baseline:
        notes.append(f"{comparison.only_baseline} variant(s) only in the baseline")
    if comparison.only_candidate:
        notes.append(f"{comparison.only_candidate} variant(s) only in the candidate")
    notes.append(
        f"medians of measured rounds; change = candidate / baseline - 1; one-sided "
        f"Mann-Whitney U p-values; slower/faster when p < {comparison.alpha:g}"
    )
    table = comparison.table
    busy = int((table["change"] == MACHINE_BUSY).sum()) if not table.empty else 0
    if busy:
        notes.append(
            f"{busy} comparison(s) not judged: machine busy (crowded rounds and too few quiet "
            f"ones on a side); rerun on a quiet machine"
        )
    for threshold in comparison.thresholds:
        hits = comparison.regressions[comparison.regressions["threshold"] == str(threshold)]
        table = comparison.table
        unjudged = (
            table[
                (table["metric"] == threshold.column)
                & (table["ratio"] > 1 + threshold.limit)
                & (table["change"] == "too few rounds")
            ]
            if not table.empty
            else table
        )
        if not unjudged.empty:
            notes.append(
                f"threshold {threshold}: {len(unjudged)} variant(s) above the limit could not be "
                f"judged: too few rounds for p < {comparison.alpha:g} (use more rounds, e.g. "
                f"--concur-rounds 5)"
            )
        if hits.empty:
            notes.append(f"threshold {threshold}: passed")
        else:
            notes.append(
                f"threshold {threshold}: {len(hits)} variant(s) got significantly slower by "
                f"more than {threshold.limit * 100:g}%"
            )
    return notes
