"""Shared test helpers: read what a pytester session wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pytest_concur

#: Experiment-file source (needs ``import time``): ``busy(seconds)`` spins on its thread's
#: CPU clock, so it is busy for that much CPU however the machine is shared.
BUSY_SOURCE = """
def busy(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return seconds
"""

#: Experiment-file source: a last test (``zz`` sorts it last) that fails when an earlier
#: one left a process running; the session's own helper processes aside.
NOTHING_LEFT_BEHIND_SOURCE = """
def test_zz_nothing_left_behind():
    from pytest_concur._measuring.timeout import live_descendants

    def command(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                return handle.read()
        except OSError:
            return b""

    helpers = (
        b"_measuring/sampler.py",
        b"multiprocessing.resource_tracker",
        b"multiprocessing.forkserver",
    )
    left = [(pid, command(pid)) for pid in live_descendants()]
    assert [(pid, cmd) for pid, cmd in left if cmd and not any(h in cmd for h in helpers)] == []
"""


def read_results(pytester: pytest.Pytester, folder: str = "results") -> pd.DataFrame:
    """The rounds a pytester session wrote under ``folder``, as pytest_concur.load sees them."""
    files = sorted(Path(pytester.path, folder).glob("rounds/*.parquet"))
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
