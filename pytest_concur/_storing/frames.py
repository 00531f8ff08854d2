"""Stored tables as pandas frames: the dtypes every reader sees, files or rows in memory.

``analysis.load`` and its siblings read files through here; the session turns the rows
it holds into the same frames without a round trip through ``analysis``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa

from .files import rows_to_table
from .layout import companion
from .reading import ResultsFileWarning, expand_paths, read_tables
from .schema import CORES_SCHEMA, ROUNDS_SCHEMA, RUNS_SCHEMA, TASKS_SCHEMA, VERDICTS_SCHEMA

PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]

#: The ``DataFrame.attrs`` key where ``load`` notes the paths a frame was read from, so
#: that the advice finds the same runs' tasks table without being handed it.
SOURCES: Final = "concur_sources"

#: Name-like string columns stored as pandas categories (few distinct values, many rows).
CATEGORY_COLUMNS: Final = (
    "run_id",
    "host",
    "python",
    "implementation",
    "tox_env",
    "cpu_model",
    "platform",
    "xdist_worker",
    "experiment",
    "params",
    "workload",
    "model",
    "start_method",
    "outcome",
)

VERDICT_CATEGORIES: Final = (
    "run_id", "python", "host", "gil", "experiment", "claim", "claim_status", "status", "metric",
)  # fmt: skip
COMPANION_CATEGORIES: Final = ("run_id", "test_id", "model", "host")

_ARROW_TO_PANDAS: Final[Mapping[pa.DataType, Any]] = {
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


#: The schema and category columns of each kind of table.
KINDS: Final[Mapping[str, tuple[pa.Schema, tuple[str, ...]]]] = {
    "rounds": (ROUNDS_SCHEMA, CATEGORY_COLUMNS),
    "tasks": (TASKS_SCHEMA, COMPANION_CATEGORIES),
    "cores": (CORES_SCHEMA, COMPANION_CATEGORIES),
    "verdicts": (VERDICTS_SCHEMA, VERDICT_CATEGORIES),
    "runs": (RUNS_SCHEMA, COMPANION_CATEGORIES),
}


def rows_frame(rows: Sequence[Mapping[str, Any]], table: str = "rounds") -> pd.DataFrame:
    """Rows as the plugin collects them (plain values), with the dtypes ``load`` gives."""
    schema, categories = KINDS[table]
    # the same conversion as the files get: an unknown key is an error here too
    arrow = rows_to_table(rows, schema=schema, table=table)
    return to_frame([arrow], schema, categories)


def load_kind(
    paths: PathsLike, table: str, schema: pa.Schema | None, categories: Iterable[str]
) -> pd.DataFrame:
    """Every table of kind ``table`` under ``paths``, conformed to ``schema``, as one frame."""
    tables: list[pa.Table] = []
    for path in expand_paths(paths, table=table):
        for data in read_tables([path], table=table):
            try:
                tables.append(conform(data, schema) if schema is not None else data)
            except (pa.ArrowException, ValueError, KeyError) as exc:
                warnings.warn(
                    f"skipped {path}: its columns do not match the {table} schema ({exc})",
                    ResultsFileWarning,
                    stacklevel=3,
                )
    return to_frame(tables, schema, categories)


def with_companions(paths: PathsLike, table: str) -> list[Path]:
    """The stored files under ``paths`` and, beside each file named, its run's ``table`` file.

    A folder yields its own ``table`` files; a file (or a glob's file) of another table
    brings the file of ``table`` of the same run where one was stored.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found: list[Path] = []
    for item in items:
        if Path(item).is_dir():
            found.extend(expand_paths(item, table=table))
            continue
        for path in expand_paths(item):
            sibling = companion(path, table)
            found.extend(p for p in (path, sibling) if p.is_file() and p not in found)
    return found


def load_beside(paths: PathsLike, table: str) -> pd.DataFrame:
    """The ``table`` rows of the runs under ``paths`` (``with_companions``), as a frame."""
    schema, categories = KINDS[table]
    return load_kind(with_companions(paths, table), table, schema, categories)


def companion_frame(df: pd.DataFrame, table: str) -> pd.DataFrame | None:
    """The ``table`` rows of the runs ``df`` was loaded from, or None where ``df`` does not
    say where it came from (built by hand, or its sources are gone)."""
    sources = df.attrs.get(SOURCES)
    if not sources:
        return None
    try:
        return load_beside(sources, table)
    except FileNotFoundError:
        return None


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The file's columns in the schema's types and order; columns it lacks become nulls.

    Columns the schema does not know are kept after the others (a newer minor
    writer may add some). Raises when a stored column cannot take the schema's type.
    """
    names = table.column_names
    if len(set(names)) != len(names):
        raise ValueError("duplicate column names")
    arrays: list[pa.ChunkedArray | pa.Array] = []
    fields: list[pa.Field] = []
    for field in schema:
        if field.name in names:
            column = table.column(field.name)
            if not column.type.equals(field.type):
                column = column.cast(field.type)
            arrays.append(column)
        else:
            arrays.append(pa.nulls(table.num_rows, field.type))
        fields.append(field)
    for name in names:
        if name not in schema.names:
            arrays.append(table.column(name))
            fields.append(table.schema.field(name))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def to_frame(
    tables: list[pa.Table], schema: pa.Schema | None, categories: Iterable[str]
) -> pd.DataFrame:
    if tables:
        try:
            combined = pa.concat_tables(tables, promote_options="permissive")
        except pa.ArrowException as exc:
            # only columns outside the schema can disagree: keep the schema's columns
            if schema is None:
                raise
            warnings.warn(
                f"columns outside the results schema disagree between files and were "
                f"left out ({exc})",
                ResultsFileWarning,
                stacklevel=3,
            )
            combined = pa.concat_tables([t.select(schema.names) for t in tables])
    elif schema is not None:
        combined = schema.empty_table()
    else:
        return pd.DataFrame()
    # without metadata, pandas never acts on a stored "pandas" key (index, dtypes)
    combined = combined.replace_schema_metadata(None)
    frame = combined.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)
    for name in categories:
        if name in frame:
            frame[name] = frame[name].astype("category")
    assert isinstance(frame, pd.DataFrame)
    return frame
