"""Hand-made rows for the analysis, CLI, comparison and HTML tests (no measuring involved)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from pytest_concur._storing.files import write_rows


def variant_id(model: str, workers: int) -> str:
    return model if model == "serial" else f"{model}-{workers}"


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
    test_id = f"{experiment}[{variant_id(model, workers)}{'-' + params if params else ''}]"
    out = []
    for index, wall in enumerate(walls):
        out.append(
            {
                "run_id": run_id,
                "started_at": "2026-01-01T00:00:00+00:00",
                "host": host,
                "python": python,
                "implementation": "CPython",
                "free_threaded": not gil_enabled,
                "gil_enabled": gil_enabled,
                "tox_env": None,
                "cpu_model": "Test CPU",
                "logical_cpus": 4,
                "usable_cpus": 4,
                "platform": "Linux",
                "xdist_worker": None,
                "test_id": test_id,
                "experiment": experiment,
                "params": params,
                "params_json": "{}",
                "workload": workload,
                "model": model,
                "workers": workers,
                "start_method": None,
                "round": index,
                "warmup": index < warmup,
                "wall_s": wall,
                "cpu_user_s": wall * cores_used,
                "cpu_sys_s": 0.0,
                "cpu_s": wall * cores_used,
                "cores_used": cores_used,
                "utilization": cores_used / 4,
                "ctx_voluntary": 1,
                "ctx_involuntary": 0,
                "max_rss_bytes": 50_000_000,
                "startup_s": 0.001,
                "shutdown_s": 0.001,
                "descendants": 0,
                "load_avg_1m": 0.5,
                "exclusive": True,
                "outcome": outcome,
                "error": error,
                "session_complete": True,
            }
        )
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
