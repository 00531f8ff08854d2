"""Tasks for bench_subinterpreters.py's bare pool: standard library only, so a worker
interpreter that runs them imports nothing of pytest-concur."""

from __future__ import annotations

import os


def hold(ready: int, go: int) -> None:
    """Say this worker is up, then hold it until every worker is up (one task per worker)."""
    os.write(ready, b".")
    os.read(go, 1)
