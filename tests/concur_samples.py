"""Hand-made rows for the analysis, CLI, comparison and HTML tests (no measuring involved)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from round_rows import round_row

from pytest_concur._storing.files import write_rows


def rows(
    walls: Sequence[float],
    *,
    model: str = "serial",
    workers: int = 1,
    experiment: str = "test_exp.py::test_work",
    params: str = "",
    python: str = "3.11.7",
    gil_enabled: bool = True,
    run_id: str = "20260101T000000-aaaaaaaa",
    warmup: int = 0,
    outcome: str = "passed",
    error: str | None = None,
    workload: str = "cpu",
    cores_used: float = 1.0,
    host: str = "host-a",
) -> list[dict[str, Any]]:
    """One row per wall time, shaped like the plugin's rows; the first ``warmup`` are warm-up."""
    common = {"run_id": run_id, "host": host, "python": python, "gil_enabled": gil_enabled,
              "experiment": experiment, "params": params, "workload": workload, "model": model,
              "workers": workers, "outcome": outcome, "error": error}  # fmt: skip
    out = []
    for index, wall in enumerate(walls):
        cpu = {"cpu_user_s": wall * cores_used, "cpu_s": wall * cores_used,
               "cores_used": cores_used, "utilization": cores_used / 4}  # fmt: skip
        out.append(round_row(**common, **cpu, round=index, warmup=index < warmup, wall_s=wall))
    return out


def scaling_rows(
    *,
    serial: float = 1.0,
    parallel_fraction: float = 0.9,
    counts: Iterable[int] = (1, 2, 4),
    model: str = "processes",
    rounds: int = 5,
    jitter: float = 0.01,
    **common: Any,
) -> list[dict[str, Any]]:
    """A serial variant and ``model`` at ``counts`` workers following Amdahl's law exactly
    (plus a small deterministic spread, so medians stay where the law puts them)."""
    spread = [1 + jitter * (i - rounds // 2) / max(rounds, 1) for i in range(rounds)]
    out = rows([serial * s for s in spread], **common)
    for n in counts:
        wall = serial * ((1 - parallel_fraction) + parallel_fraction / n)
        out += rows([wall * s for s in spread], model=model, workers=n, **common)
    return out


def write(path: Path, data: Sequence[dict[str, Any]]) -> Path:
    """Store rows as the plugin would (atomic write, schema version and table kind)."""
    return write_rows(data, path)


def write_table(path: Path, data: Sequence[dict[str, Any]], kind: str) -> Path:
    """A companion table of ``kind`` (tasks, cores, verdicts) with the types pyarrow infers."""
    schema = pa.Table.from_pylist(list(data)).schema
    return write_rows(data, path, schema=schema, table=kind)
