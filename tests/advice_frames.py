"""Synthetic frames of rounds for the advice tests: full rows (round_rows), the values chosen."""

from __future__ import annotations

from typing import Any

import pandas as pd
from round_rows import round_row


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
        cores = spec.get("cores_used", 1.0)
        own = {key: spec.get(key) for key in ("error", "transfer_s", "transfer_bytes",
                                              "system_cores_busy")}  # fmt: skip
        for index, wall in enumerate(spec.get("walls", [])):
            rows.append(round_row(
                run_id="r1", experiment=experiment, params=params, workload=workload,
                model=model, workers=workers, round=index, outcome=spec.get("outcome", "passed"),
                wall_s=wall, cpu_s=spec.get("cpu_s", wall * cores), cores_used=cores,
                startup_s=spec.get("startup_s", 0.0),
                max_rss_bytes=spec.get("max_rss_bytes", 50_000_000), usable_cpus=usable_cpus,
                gil_enabled=gil_enabled, **own,
            ))  # fmt: skip
    return pd.DataFrame(rows)
