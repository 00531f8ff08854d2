"""Parquet and Arrow IPC files of results: rows as Arrow tables, atomic writes.

The schemas are in :mod:`.schema`, where each file goes in :mod:`.layout`, and reading
folders back in :mod:`.reading`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from .schema import ROUNDS_SCHEMA, tagged_schema

#: Rows per row group of a merged file: parts are small, and a file of many tiny row
#: groups is slow to write and to read.
MERGED_ROW_GROUP: Final = 65_536
_PART_CODEC: Final = "lz4" if pa.Codec.is_available("lz4") else None
_STRING = pa.string()


def rows_to_table(
    rows: Sequence[Mapping[str, Any]], *, schema: pa.Schema = ROUNDS_SCHEMA, table: str = "rounds"
) -> pa.Table:
    """Plain-valued rows as an Arrow table of ``schema``, tagged with the table kind.

    A key the schema lacks is a ValueError naming it (a misspelt column must not become
    a null one); columns a row lacks are null. Timestamps may be ISO strings (as rows
    travel from xdist workers) or datetimes.
    """
    schema = tagged_schema(schema, table)
    _check_keys(rows, schema, table)
    try:
        return _converted_by_arrow(rows, schema)
    except (pa.ArrowException, TypeError, ValueError):
        # lone surrogates, naive times, datetimes where text was expected: the slow path
        # below knows them all, and raises for values no column can take
        return _converted_by_column(rows, schema)


class UnknownColumnError(ValueError):
    """A row with a key its table's schema has no column for."""


def _check_keys(rows: Sequence[Mapping[str, Any]], schema: pa.Schema, table: str) -> None:
    names = frozenset(schema.names)
    # a C-level subset test per row: rows of one table share their keys, so this is cheap
    if all(row.keys() <= names for row in rows):
        return
    unknown = sorted({key for row in rows for key in row if key not in names})
    raise UnknownColumnError(
        f"the {table} table has no column {', '.join(map(repr, unknown))} "
        f"(its columns: {', '.join(schema.names)})"
    )


def _converted_by_arrow(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Arrow reads the dicts itself (C++, three times the speed of a Python loop over them);
    times arrive as text and Arrow's cast parses them, for aware ISO strings as Python would."""
    as_text = pa.struct(
        [pa.field(f.name, _STRING) if pa.types.is_timestamp(f.type) else f for f in schema]
    )
    columns = pa.array(rows, type=as_text).flatten()
    arrays = [
        column.cast(field.type) if pa.types.is_timestamp(field.type) else column
        for column, field in zip(columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _converted_by_column(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    columns: dict[str, list[Any]] = {}
    for column in schema:
        values = [row.get(column.name) for row in rows]
        if pa.types.is_timestamp(column.type):
            values = _datetimes(values)
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            values = [storable_text(v) if isinstance(v, str) else v for v in values]
        columns[column.name] = values
    return pa.Table.from_pydict(columns, schema=schema)


def _datetimes(values: list[Any]) -> list[Any]:
    """ISO strings as datetimes; a session's rows share a few, so each is parsed once."""
    parsed: dict[str, datetime] = {}
    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            if value not in parsed:
                parsed[value] = datetime.fromisoformat(value)
            value = parsed[value]
        out.append(value)
    return out


def write_rows(
    rows: Sequence[Mapping[str, Any]], path: Path, *, schema: pa.Schema = ROUNDS_SCHEMA,
    table: str = "rounds", durable: bool = True, provenance: Mapping[str, str] | None = None,
) -> Path:
    """Write ``rows`` to ``path`` atomically: readers see the old file or the whole new one.

    ``provenance`` (the run's key/values) goes into the file's metadata.
    """
    data = rows_to_table(rows, schema=schema, table=table)
    if provenance:
        data = data.replace_schema_metadata(tagged_schema(data.schema, table, provenance).metadata)
    return write_tables([data], path, schema=data.schema, durable=durable)


def write_tables(
    tables: Iterable[pa.Table], path: Path, *, schema: pa.Schema, durable: bool = True
) -> Path:
    """Stream ``tables`` (each cast to ``schema``) into one Parquet file at ``path``, atomically.

    Small tables are gathered into row groups of about MERGED_ROW_GROUP rows; no more than
    that is in memory at a time, so merging many part files stays small. With ``durable``
    the data reaches the disk before the rename (a power cut keeps the old file or the
    new one).
    """
    def write(temp_name: str) -> None:
        with pq.ParquetWriter(temp_name, schema, compression="zstd") as writer:
            conformed = (data.cast(schema) for data in tables)
            for group in _row_groups(conformed, MERGED_ROW_GROUP):
                writer.write_table(group)  # one row group per gathered piece

    return _write_atomically(path, write, durable=durable)


def write_part(data: pa.Table, path: Path) -> Path:
    """``data`` as an Arrow IPC file at ``path``, atomically, not synced: a crash of the
    process loses nothing, and a part is worth less than the cost of an fsync per part."""
    def write(temp_name: str) -> None:
        options = ipc.IpcWriteOptions(compression=_PART_CODEC)
        with ipc.new_file(temp_name, data.schema, options=options) as writer:
            writer.write_table(data)

    return _write_atomically(path, write, durable=False)


def _write_atomically(path: Path, write: Callable[[str], None], *, durable: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_name = _new_temp_file(path)
    try:
        write(temp_name)
        if durable:
            with open(temp_name, "rb") as written:
                os.fsync(written.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def _row_groups(tables: Iterable[pa.Table], rows: int) -> Iterator[pa.Table]:
    """``tables`` concatenated into pieces of at least ``rows`` rows (the last may be less)."""
    pending: list[pa.Table] = []
    gathered = 0
    for data in tables:
        pending.append(data)
        gathered += data.num_rows
        if gathered >= rows:
            yield pa.concat_tables(pending)
            pending, gathered = [], 0
    if pending:
        yield pa.concat_tables(pending)


def _new_temp_file(path: Path) -> str:
    """An empty hidden file beside ``path``, to write into and rename over it.

    Made with mode 0o666 so the umask decides, as for any file the user makes; mkstemp's
    0o600 would hide the results from the user's group.
    """
    while True:
        name = str(path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp"))
        try:
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return name


def storable_text(text: str) -> str:
    """``text`` as UTF-8 can hold it: lone surrogates become ``\\udcff`` escapes, all else stays.

    Lone surrogates come from undecodable bytes (``surrogateescape``) or from escapes in
    source code; UTF-8, and so Parquet, has no way to hold them. Text without them, the
    usual case, is stored unchanged.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _plain_to_arrow(row: Mapping[str, Any], times: Sequence[str]) -> dict[str, Any]:
    """Rows travel as plain values (ISO strings for times); give Arrow real datetimes."""
    converted = {
        name: storable_text(value) if isinstance(value, str) else value
        for name, value in row.items()
    }
    for name in times:
        value = converted.get(name)
        if isinstance(value, str):
            converted[name] = datetime.fromisoformat(value)
    return converted


def mark_incomplete(data: pa.Table) -> pa.Table:
    """``data`` with every row's ``session_complete`` set to False (when it has the column)."""
    index = data.schema.get_field_index("session_complete")
    if index < 0:
        return data
    flags = pa.array([False] * data.num_rows, type=pa.bool_())
    return data.set_column(index, data.schema.field(index), flags)
