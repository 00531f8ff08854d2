"""Shared test helpers: read what a pytester session wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pytest_concur


def read_results(pytester: pytest.Pytester, folder: str = "results") -> pd.DataFrame:
    """The rounds a pytester session wrote under ``folder``, as pytest_concur.load sees them."""
    files = sorted(Path(pytester.path, folder).glob("*.parquet"))
    assert files, f"no results in {folder}"
    return pytest_concur.load(Path(pytester.path, folder))


def windows(rows: pd.DataFrame) -> pd.DataFrame:
    """Each round's timed window as [start, end) in seconds since the epoch, by start."""
    start = rows["round_started_at"].map(pd.Timestamp.timestamp)
    frame = pd.DataFrame(
        {"worker": rows["xdist_worker"].astype(str), "start": start, "end": start + rows["wall_s"]}
    )
    return frame.sort_values("start", ignore_index=True)


def overlaps(frame: pd.DataFrame) -> int:
    """How many rounds start before the round before them has ended."""
    return int((frame["start"].iloc[1:].to_numpy() < frame["end"].iloc[:-1].to_numpy()).sum())
