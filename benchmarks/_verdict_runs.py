"""Shared by bench_busy_machine.py and bench_adaptive.py: run the experiment suite in a
fresh pytest session, time it, and read back the verdict of every claim."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from _bench import run_experiments

import pytest_concur


@dataclass(frozen=True, slots=True)
class SuiteRun:
    """One session of the suite: how long it took and what it concluded."""

    wall_s: float
    returncode: int
    last_line: str
    #: (claim, python) -> confirmed / refuted / inconclusive
    statuses: dict[tuple[str, str], str]
    measured_rounds: int
    crowded_rounds: int
    repeats: int
    #: (claim, python) -> one line per expectation: its status and reason
    details: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: adaptive rounds: why the variants stopped (stop reason -> variants)
    stop_reasons: dict[str, int] = field(default_factory=dict)


def run_suite(extra: list[str], results: Path) -> SuiteRun:
    elapsed, returncode, last = run_experiments(extra, results)
    if not any(results.glob("rounds/*.parquet")):
        return SuiteRun(elapsed, returncode, last, {}, 0, 0, 0)
    verdicts = pytest_concur.load_verdicts(results)
    statuses = {
        (str(claim), str(python)): str(status)
        for claim, python, status in verdicts[["claim", "python", "claim_status"]]
        .drop_duplicates()
        .itertuples(index=False, name=None)
    }
    rounds = pytest_concur.load(results)
    measured = rounds[~rounds["warmup"].astype(bool)]
    crowded = (
        int(measured["crowded"].fillna(False).astype(bool).sum()) if "crowded" in measured else 0
    )
    repeats = int(measured["repeat_of"].notna().sum()) if "repeat_of" in measured else 0
    details: dict[tuple[str, str], list[str]] = {}
    for claim, python, status, expectation, reason in verdicts[
        ["claim", "python", "status", "expectation", "reason"]
    ].itertuples(index=False, name=None):
        details.setdefault((str(claim), str(python)), []).append(
            f"{status}: {expectation}: {reason}"
        )
    stops = measured.dropna(subset=["stop_reason"]) if "stop_reason" in measured else measured[:0]
    stop_reasons = {str(k): int(v) for k, v in stops["stop_reason"].value_counts().items()}
    return SuiteRun(
        elapsed, returncode, last, statuses, len(measured), crowded, repeats, details,
        stop_reasons,
    )  # fmt: skip


def print_statuses(runs: dict[str, SuiteRun]) -> None:
    """One line per claim, its status in each run."""
    names = list(runs)
    keys = sorted({key for run in runs.values() for key in run.statuses})
    print("  " + "  ".join(f"{name:<13}" for name in names) + "  claim (python)")
    for key in keys:
        cells = "  ".join(f"{runs[name].statuses.get(key, '-'):<13}" for name in names)
        print(f"  {cells}  {key[0][:70]} ({key[1]})")
