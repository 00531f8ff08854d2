"""Parquet files of results: the versioned schema, atomic writes, reading a folder of runs.

Schema history (bump SCHEMA_VERSION when a column changes meaning or type; adding a
column is backward compatible and readers fill it with nulls for older files):
  1: first release.
"""

from __future__ import annotations

import glob
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from ._warnings import ConcurWarning

SCHEMA_VERSION: Final = 1
_META_VERSION: Final = b"pytest_concur.schema_version"
_META_TABLE: Final = b"pytest_concur.table"

_STRING = pa.string()
_TIME = pa.timestamp("us", tz="UTC")

#: One row per measured round. The names listed in docs/results.md as the public
#: contract never change; new columns may be added.
ROUNDS_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("started_at", _TIME),
        ("host", _STRING),
        ("python", _STRING),
        ("implementation", _STRING),
        ("free_threaded", pa.bool_()),
        ("gil_enabled", pa.bool_()),
        ("tox_env", _STRING),
        ("cpu_model", _STRING),
        ("logical_cpus", pa.int64()),
        ("usable_cpus", pa.int64()),
        ("platform", _STRING),
        ("xdist_worker", _STRING),
        ("test_id", _STRING),
        ("experiment", _STRING),
        ("params", _STRING),
        ("params_json", _STRING),
        ("workload", _STRING),
        ("model", _STRING),
        ("workers", pa.int64()),
        ("start_method", _STRING),
        ("round", pa.int64()),
        ("warmup", pa.bool_()),
        ("wall_s", pa.float64()),
        ("cpu_user_s", pa.float64()),
        ("cpu_sys_s", pa.float64()),
        ("cpu_s", pa.float64()),
        ("cores_used", pa.float64()),
        ("utilization", pa.float64()),
        ("ctx_voluntary", pa.int64()),
        ("ctx_involuntary", pa.int64()),
        ("max_rss_bytes", pa.int64()),
        ("startup_s", pa.float64()),
        ("shutdown_s", pa.float64()),
        ("descendants", pa.int64()),
        ("load_avg_1m", pa.float64()),
        ("exclusive", pa.bool_()),
        ("outcome", _STRING),
        ("error", _STRING),
        ("session_complete", pa.bool_()),
    ],
    metadata={_META_VERSION: str(SCHEMA_VERSION).encode(), _META_TABLE: b"rounds"},
)


class ResultsFileWarning(ConcurWarning):
    """A file in a results folder was skipped; the message names it and says why."""


def _with_table_name(schema: pa.Schema, table: str) -> pa.Schema:
    metadata = dict(schema.metadata or {})
    metadata[_META_VERSION] = str(SCHEMA_VERSION).encode()
    metadata[_META_TABLE] = table.encode()
    return schema.with_metadata(metadata)


def write_rows(
    rows: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    schema: pa.Schema = ROUNDS_SCHEMA,
    table: str = "rounds",
) -> Path:
    """Write ``rows`` to ``path`` atomically: readers see the old file or the whole new one."""
    schema = _with_table_name(schema, table)
    times = [f.name for f in schema if pa.types.is_timestamp(f.type)]
    data = pa.Table.from_pylist([_plain_to_arrow(row, times) for row in rows], schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        pq.write_table(data, temp_name, compression="zstd")
        with open(temp_name, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def _plain_to_arrow(row: Mapping[str, Any], times: Sequence[str]) -> dict[str, Any]:
    """Rows travel as plain values (ISO strings for times); give Arrow real datetimes."""
    converted = dict(row)
    for name in times:
        value = converted.get(name)
        if isinstance(value, str):
            converted[name] = datetime.fromisoformat(value)
    return converted


def table_kind(path: Path) -> tuple[str | None, int | None]:
    """(table name, schema version) from a file's metadata; raises for unreadable files."""
    metadata = pq.read_schema(path).metadata or {}
    version = metadata.get(_META_VERSION)
    name = metadata.get(_META_TABLE)
    return (
        name.decode() if name is not None else None,
        int(version) if version is not None else None,
    )


def expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """A file, a folder (its ``*.parquet``) or a glob, or several of those, as sorted files."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(path.glob("*.parquet")))
        elif path.exists():
            found.append(path)
        else:
            matches = sorted(Path(match) for match in glob.glob(str(item)))
            if not matches:
                raise FileNotFoundError(f"no results at {item}")
            found.extend(matches)
    return found


def read_tables(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *, table: str = "rounds"
) -> list[pa.Table]:
    """Every readable file of kind ``table``; others are skipped with a warning naming them."""
    tables: list[pa.Table] = []
    for path in expand_paths(paths):
        try:
            kind, version = table_kind(path)
        except (OSError, pa.ArrowException) as exc:
            warnings.warn(
                f"skipped {path}: not a readable Parquet file ({exc})",
                ResultsFileWarning,
                stacklevel=2,
            )
            continue
        if kind is None or version is None:
            warnings.warn(
                f"skipped {path}: not a pytest-concur results file",
                ResultsFileWarning,
                stacklevel=2,
            )
            continue
        if kind != table:
            continue  # a companion table of another kind: not an error
        if version > SCHEMA_VERSION:
            warnings.warn(
                f"skipped {path}: schema version {version} is newer than this pytest-concur "
                f"understands ({SCHEMA_VERSION}); upgrade pytest-concur to read it",
                ResultsFileWarning,
                stacklevel=2,
            )
            continue
        try:
            tables.append(pq.read_table(path))
        except (OSError, pa.ArrowException) as exc:
            warnings.warn(
                f"skipped {path}: could not be read ({exc})", ResultsFileWarning, stacklevel=2
            )
    return tables
