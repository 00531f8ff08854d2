"""The recommendations stored with the rounds: ``recommendations/<run_id>.parquet``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from .._storing.files import write_rows
from .._storing.layout import final_path
from .recommend import Recommendation

TABLE: Final = "recommendations"

#: One row per experiment and parameter set (columns as ``pc.recommend`` returns them).
RECOMMENDATIONS_SCHEMA: Final = pa.schema(
    [
        ("run_id", pa.string()),
        ("experiment", pa.string()),
        ("params", pa.string()),
        ("best", pa.string()),
        ("speedup", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("ci_confidence", pa.float64()),
        ("runner_up", pa.string()),
        ("margin", pa.float64()),
        ("p_value", pa.float64()),
        ("tie", pa.bool_()),
        ("problems", pa.list_(pa.string())),
        ("reason", pa.string()),
    ]
)


def write_recommendations(
    recommendations: Sequence[Recommendation],
    folder: Path,
    run_id: str,
    provenance: Mapping[str, str] | None = None,
) -> Path:
    """Write the session's recommendations into the results ``folder``, atomically, with
    the run's ``provenance`` in the file's metadata, as every other table has it."""
    rows: list[dict[str, Any]] = [
        {
            "run_id": run_id,
            **{name: getattr(r, name) for name in RECOMMENDATIONS_SCHEMA.names if name != "run_id"},
        }
        for r in recommendations
    ]
    for row in rows:
        row["problems"] = list(row["problems"])
    return write_rows(
        rows,
        final_path(folder, run_id, TABLE),
        schema=RECOMMENDATIONS_SCHEMA,
        table=TABLE,
        provenance=provenance,
    )
