"""``--format json`` of ``report`` and ``compare``, and the runs rows both show."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._storing.layout import companion
from .._warning_types import ResultsFileWarning
from .compare import Comparison, comparison_notes
from .provenance_header import differences, run_records


def frame_records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    """A frame as JSON-ready records: nulls as None, times as ISO text."""
    if frame is None:
        return None
    if frame.empty:
        return []
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return records


def runs_of(sources: Sequence[Path], run_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The runs-table rows of ``run_ids``, looked up beside the ``sources`` named."""
    from ..analysis import load_companion

    files = list(sources)
    for path in sources:
        sibling = companion(path, "runs")
        if sibling.is_file() and sibling not in files:
            files.append(sibling)
    wanted = {str(run_id) for run_id in run_ids}
    with warnings.catch_warnings():
        # the same files were read for the rounds, and a bad one was named then
        warnings.simplefilter("ignore", ResultsFileWarning)
        runs = load_companion(files, "runs")
    if runs.empty:
        return []
    mine = runs[runs["run_id"].astype(str).isin(wanted)].drop_duplicates("run_id", keep="last")
    return run_records(mine.reset_index(drop=True))


def setup_differences(
    baseline_sources: Sequence[Path], baseline: pd.DataFrame, written: Path | None, run_id: str
) -> list[str]:
    """``--concur-compare``: what differs between the stored run's setup and this session's
    (``written``: the session's results file, None when it saved nothing)."""
    if written is None:
        return []  # nothing saved: this session has no runs row to compare
    base_runs = runs_of(baseline_sources, baseline["run_id"].astype(str).unique())
    return differences(base_runs, runs_of([written], [run_id]))


def report_json(
    *,
    runs: list[dict[str, Any]],
    summary: pd.DataFrame,
    fits: pd.DataFrame,
    compared: pd.DataFrame | None,
    verdicts: pd.DataFrame,
) -> str:
    document = {
        "runs": runs,
        "summary": frame_records(summary),
        "amdahl": frame_records(fits),
        "comparison": frame_records(compared),
        "verdicts": frame_records(verdicts),
    }
    return json.dumps(document, indent=2, default=str) + "\n"


def compare_json(
    comparison: Comparison,
    *,
    baseline_runs: list[dict[str, Any]],
    candidate_runs: list[dict[str, Any]],
    warnings: list[str],
) -> str:
    document = {
        "failed": comparison.failed,
        "alpha": comparison.alpha,
        "thresholds": [str(threshold) for threshold in comparison.thresholds],
        "warnings": warnings,
        "baseline_runs": baseline_runs,
        "candidate_runs": candidate_runs,
        "table": frame_records(comparison.table),
        "regressions": frame_records(comparison.regressions),
        "notes": comparison_notes(comparison),
    }
    return json.dumps(document, indent=2, default=str) + "\n"
