"""Helpers of the fault tests: synthetic rows, and pytest sessions run as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from round_rows import round_row

import pytest_concur
import pytest_concur.analysis  # imported early on purpose: see below

# Imported here, before any in-process pytester run: such a run removes the modules it
# imported when it ends, and importing analysis again would register its DataFrame
# accessor twice (a UserWarning, an error under filterwarnings = error).

#: A conftest for sessions under test: every finished test item spills its rows to a
#: part file at once (the default waits a few seconds), so a kill leaves parts behind.
SPILL_EVERY_ITEM = """
import functools
import pytest_concur._running.session as session_module
import pytest_concur._storing.spill as spill_module

session_module.Spill = functools.partial(spill_module.Spill, flush_after_s=0.0)
"""


def fake_row(run_id: str, round_index: int, **changes: Any) -> dict[str, Any]:
    """A plain-valued rounds row like the plugin's, without measuring anything."""
    facts: dict[str, Any] = {
        "run_id": run_id, "host": "host", "experiment": "test_x.py::test_x",
        "round": round_index, "wall_s": 0.01 + round_index * 1e-6, "cpu_user_s": 0.01,
        "cpu_s": 0.01, "utilization": 0.5, "usable_cpus": 2, "startup_s": 0.0,
        "max_rss_bytes": 1 << 20, "load_avg_1m": 0.1,
    }  # fmt: skip
    return round_row(**{**facts, **changes})


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int
    output: str


def start_pytest(folder: Path, args: Sequence[str], env: dict[str, str] | None = None) -> Any:
    """A pytest session in ``folder`` as a process of its own group (for group signals)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def finish(process: Any, timeout: float = 120) -> Finished:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"pytest did not end within {timeout} s:\n{output}") from None
    return Finished(process.returncode, output)


def wait_for(folder: Path, pattern: str, count: int, process: Any, timeout: float = 60) -> None:
    """Until ``count`` files match ``pattern`` (the test bodies leave them as they run)."""
    deadline = time.monotonic() + timeout
    while len(list(folder.glob(pattern))) < count:
        if process.poll() is not None:
            raise AssertionError(f"pytest ended early:\n{finish(process).output}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"no {count} {pattern} in {timeout} s:\n{finish(process).output}")
        time.sleep(0.02)


def rounds_files(folder: Path) -> list[Path]:
    """The rounds files of a results folder (not companion tables, not parts)."""
    return sorted(
        path
        for path in [*folder.glob("*.parquet"), *folder.glob("rounds/*.parquet")]
        if (pq.read_schema(path).metadata or {}).get(b"pytest_concur.table") == b"rounds"
    )


def load_quietly(folder: Path) -> pd.DataFrame:
    return pytest_concur.load(rounds_files(folder))
