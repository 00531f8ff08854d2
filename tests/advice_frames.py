"""Synthetic frames of rounds for the advice tests: a few columns, the values chosen."""

from __future__ import annotations

from typing import Any

import pandas as pd


def rounds(
    variants: dict[tuple[str, int], dict[str, Any]],
    *,
    experiment: str = "test_x.py::test_job",
    params: str = "",
    workload: str = "cpu",
    usable_cpus: int = 2,
    gil_enabled: bool = True,
) -> pd.DataFrame:
    """Rows of rounds; each variant gives ``walls`` and per-round constants (cores_used, ...)."""
    rows: list[dict[str, Any]] = []
    for (model, workers), spec in variants.items():
        walls = spec.get("walls", [])
        outcome = spec.get("outcome", "passed")
        for index, wall in enumerate(walls):
            cores = spec.get("cores_used", 1.0)
            rows.append(
                {
                    "run_id": "r1",
                    "test_id": f"{experiment}[{model}-{workers}]",
                    "experiment": experiment,
                    "params": params,
                    "workload": workload,
                    "model": model,
                    "workers": workers,
                    "round": index,
                    "warmup": False,
                    "outcome": outcome,
                    "error": spec.get("error"),
                    "wall_s": wall,
                    "cpu_s": spec.get("cpu_s", wall * cores),
                    "cores_used": cores,
                    "startup_s": spec.get("startup_s", 0.0),
                    "max_rss_bytes": spec.get("max_rss_bytes", 50_000_000),
                    "usable_cpus": usable_cpus,
                    "gil_enabled": gil_enabled,
                    "transfer_s": spec.get("transfer_s"),
                    "transfer_bytes": spec.get("transfer_bytes"),
                    "system_cores_busy": spec.get("system_cores_busy"),
                }
            )
    return pd.DataFrame(rows)
