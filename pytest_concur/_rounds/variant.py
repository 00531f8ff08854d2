"""Which variant a row belongs to, and its one label: ``serial``, ``threads-2``.

A variant is one model at one worker count of one experiment and parameter set. Test
ids, claims, decisions, analysis and every report name it with ``variant_label``, and
group rows by ``VARIANT_KEYS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

#: The columns that name a variant, in the order readers group by them.
VARIANT_KEYS: Final = ["experiment", "params", "model", "workers"]

#: A variant's key as plain values: (experiment, params, model, workers).
VariantKey = tuple[str, str, str, int]


def variant_label(model: object, workers: object) -> str:
    """``threads-2`` for a model at a worker count; ``serial`` alone (it always has one)."""
    name = str(model)
    if name == "serial":
        return name
    count = int(workers) if isinstance(workers, float) and workers.is_integer() else workers
    return f"{name}-{count}"


def variant_key(row: Mapping[str, Any]) -> VariantKey:
    """The key of one row, as ``keyed`` normalises it (a missing ``params`` reads "")."""
    params = row.get("params")
    return (
        str(row["experiment"]),
        "" if params is None or params != params else str(params),  # None or NaN
        str(row["model"]),
        int(row["workers"]),
    )


def keyed(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with the variant keys as plain values: strings, "" for missing params,
    integer workers (stored frames have categories and nullable types)."""
    import pandas as pd

    return rows.assign(
        experiment=rows["experiment"].astype(str),
        params=rows["params"].astype(object).fillna("").astype(str),
        model=rows["model"].astype(str),
        workers=pd.to_numeric(rows["workers"]).astype("int64"),
    )
