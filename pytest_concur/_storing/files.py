"""Parquet files of results: the versioned schema, atomic writes, reading a folder of runs.

Schema history (bump SCHEMA_VERSION when a column changes meaning or type; adding a
column is backward compatible and readers fill it with nulls for older files):
  1: first release.
"""

from __future__ import annotations

import glob
import os
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from .._warnings import ResultsFileWarning as ResultsFileWarning
from .locking import lock as lock_file

SCHEMA_VERSION: Final = 1
_META_VERSION: Final = b"pytest_concur.schema_version"
_META_TABLE: Final = b"pytest_concur.table"
#: A running session spills rows to ``.<run_id>.parts/`` and holds ``owner.lock`` in it.
PARTS_SUFFIX: Final = ".parts"
OWNER_LOCK: Final = "owner.lock"
#: Part files are Arrow IPC: a tenth of Parquet's cost to write and to read back, which a
#: long session pays once per part (the final file is Parquet, for every other tool).
PART_SUFFIX: Final = ".arrow"
#: Rows per row group of a merged file: parts are small, and a file of many tiny row
#: groups is slow to write and to read.
MERGED_ROW_GROUP: Final = 65_536
_PART_CODEC: Final = "lz4" if pa.Codec.is_available("lz4") else None

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
        ("cpu_quota", pa.float64()),
        ("accounting", _STRING),
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
        # seconds this xdist worker waited for the session's measure lock; null: no lock
        ("lock_wait_s", pa.float64()),
        # wall-clock time the test body started in this round (the timed window's start)
        ("round_started_at", _TIME),
        # the round's time limit in seconds; null: none (docs/models.md, Faults)
        ("timeout_s", pa.float64()),
        # where the work ran when the model says (dask: the scheduler's address)
        ("executor_address", _STRING),
        # per-core sampling of this round (docs/timelines.md); null: sampling off
        ("sample_interval_s", pa.float64()),
        ("system_cores_busy", pa.float64()),
        ("sampler_cpu_s", pa.float64()),
        # cores other processes kept busy, and whether that crowded the round
        # (_measuring/crowded_round.py); null: sampling off
        ("other_cores_busy", pa.float64()),
        ("crowded", pa.bool_()),
        # a crowded round measured again: the round it repeats, and the seconds waited
        # for a quiet machine before it (docs/adaptive-rounds.md); null otherwise
        ("repeat_of", pa.int64()),
        ("quiet_wait_s", pa.float64()),
        # --concur-rounds auto: the rule's relative half-width at its latest look, and on
        # the item's last round why it stopped (docs/adaptive-rounds.md); null otherwise
        ("rel_half_width", pa.float64()),
        ("stop_reason", _STRING),
        # rows this round has in the tasks table; null: task spans off
        ("tasks", pa.int64()),
        # pickled bytes and pickling seconds of the round's tasks (process models with task
        # spans on; docs/decisions.md); null: no task crossed processes
        ("transfer_bytes", pa.int64()),
        ("transfer_s", pa.float64()),
        ("outcome", _STRING),
        ("error", _STRING),
        ("session_complete", pa.bool_()),
    ],
    metadata={_META_VERSION: str(SCHEMA_VERSION).encode(), _META_TABLE: b"rounds"},
)


#: One row per task per round: where and when it ran (docs/timelines.md). Companion file
#: ``<run_id>.tasks.parquet``; joins the rounds on run_id, test_id, round.
TASKS_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("test_id", _STRING),
        ("round", pa.int64()),
        ("model", _STRING),
        ("workers", pa.int64()),
        ("map_index", pa.int64()),
        ("task", pa.int64()),
        ("host", _STRING),
        ("pid", pa.int64()),
        ("thread_id", pa.int64()),
        ("interpreter_id", pa.int64()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("wall_s", pa.float64()),
        ("cpu_s", pa.float64()),
        ("suspensions", pa.int64()),
        ("transfer_bytes", pa.int64()),
        ("transfer_s", pa.float64()),
    ],
    metadata={_META_VERSION: str(SCHEMA_VERSION).encode(), _META_TABLE: b"tasks"},
)

#: One row per CPU per sampling interval of a round (docs/timelines.md). Companion file
#: ``<run_id>.cores.parquet``; joins the rounds on run_id, test_id, round.
CORES_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("test_id", _STRING),
        ("round", pa.int64()),
        ("model", _STRING),
        ("workers", pa.int64()),
        ("cpu", pa.int64()),
        ("sample", pa.int64()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("ticks", pa.int64()),
        ("busy", pa.float64()),
        ("user", pa.float64()),
        ("system", pa.float64()),
        ("iowait", pa.float64()),
        ("steal", pa.float64()),
    ],
    metadata={_META_VERSION: str(SCHEMA_VERSION).encode(), _META_TABLE: b"cores"},
)

#: One row per expectation of a claim, per interpreter (docs/claims.md). Companion file
#: ``<run_id>.verdicts.parquet``; joins the rounds on run_id and experiment.
VERDICTS_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("started_at", _TIME),
        ("host", _STRING),
        ("python", _STRING),
        ("free_threaded", pa.bool_()),
        ("gil", _STRING),  # enabled, disabled, mixed (changed during the rounds) or unknown
        ("experiment", _STRING),
        ("claim", _STRING),
        ("claim_status", _STRING),  # all expectations of the claim, on this interpreter
        ("expectation", _STRING),
        ("status", _STRING),  # confirmed, refuted or inconclusive
        ("reason", _STRING),
        ("metric", _STRING),
        ("subject", _STRING),
        ("baseline", _STRING),
        ("n_subject", pa.int64()),
        ("n_baseline", pa.int64()),
        ("median_subject", pa.float64()),
        ("median_baseline", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("ci_confidence", pa.float64()),
        ("ratio", pa.float64()),
        ("threshold", pa.float64()),
        ("p_value", pa.float64()),
        ("p_opposite", pa.float64()),
        ("alpha", pa.float64()),
        ("other_cores_busy", pa.float64()),
        ("crowded", pa.bool_()),
    ],
    metadata={_META_VERSION: str(SCHEMA_VERSION).encode(), _META_TABLE: b"verdicts"},
)


def tagged_schema(schema: pa.Schema, table: str) -> pa.Schema:
    """``schema`` with the schema version and table kind in its metadata, as files carry them."""
    metadata = dict(schema.metadata or {})
    metadata[_META_VERSION] = str(SCHEMA_VERSION).encode()
    metadata[_META_TABLE] = table.encode()
    return schema.with_metadata(metadata)


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
    table: str = "rounds", durable: bool = True,
) -> Path:
    """Write ``rows`` to ``path`` atomically: readers see the old file or the whole new one."""
    data = rows_to_table(rows, schema=schema, table=table)
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


def is_part_file(path: Path) -> bool:
    return path.suffix == PART_SUFFIX


def read_schema(path: Path) -> pa.Schema:
    """The schema of a results file: Parquet, or an Arrow IPC part file."""
    if is_part_file(path):
        with ipc.open_file(path) as reader:
            return reader.schema
    return pq.read_schema(path)


def read_file(path: Path) -> pa.Table:
    """A whole results file: Parquet, or an Arrow IPC part file."""
    if is_part_file(path):
        with ipc.open_file(path) as reader:
            return reader.read_all()
    return pq.read_table(path)


def part_files(parts: Path) -> list[Path]:
    """The part files in a parts folder, in the order they were written (older versions
    of pytest-concur wrote Parquet parts; those are read too)."""
    found = [p for p in parts.iterdir() if p.suffix in (PART_SUFFIX, ".parquet")]
    return sorted(found, key=lambda p: p.stem)


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


def table_kind(path: Path) -> tuple[str | None, int | None]:
    """(table name, schema version) from a file's metadata; raises for unreadable files."""
    metadata = read_schema(path).metadata or {}
    version = metadata.get(_META_VERSION)
    name = metadata.get(_META_TABLE)
    return (
        name.decode() if name is not None else None,
        int(version) if version is not None else None,
    )


def final_path(folder: Path, run_id: str, table: str = "rounds") -> Path:
    """A session's file of ``table``: ``<run_id>.parquet``, or ``<run_id>.<table>.parquet``."""
    return folder / (f"{run_id}.parquet" if table == "rounds" else f"{run_id}.{table}.parquet")


def parts_folder(folder: Path, run_id: str) -> Path:
    """The hidden folder where a running session keeps the rows it has spilled so far."""
    return folder / f".{run_id}{PARTS_SUFFIX}"


def is_parts_folder(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(PARTS_SUFFIX)


def parts_run_id(path: Path) -> str:
    return path.name[1 : -len(PARTS_SUFFIX)]


def claim_lock(lock: Path, *, create: bool = False) -> int | None:
    """An fd holding ``lock`` exclusively, or None while another process holds it.

    The owning session holds its lock for as long as it lives; the kernel releases it
    however the process ends (SIGKILL included), so a free lock means the owner is gone.
    Raises FileNotFoundError for a missing lock file unless ``create``.
    """
    fd = os.open(lock, os.O_RDWR | os.O_CREAT if create else os.O_RDONLY, 0o644)
    if not lock_file(fd, wait=False):
        os.close(fd)
        return None
    return fd


def owner_alive(parts: Path) -> bool:
    """Whether the session that owns a parts folder is still running."""
    try:
        fd = claim_lock(parts / OWNER_LOCK)
    except FileNotFoundError:
        return False  # no lock file: nobody can own it
    if fd is None:
        return True
    os.close(fd)
    return False


def orphaned_parts(folder: Path) -> list[Path]:
    """Parts folders under ``folder`` whose session ended without merging them."""
    orphans: list[Path] = []
    for candidate in sorted(folder.glob(f".*{PARTS_SUFFIX}")):
        if not candidate.is_dir():
            continue
        if owner_alive(candidate):
            continue  # a live session: its rows arrive when it finishes
        if final_path(folder, parts_run_id(candidate)).exists():
            continue  # merged already; the session ended before it could tidy up
        orphans.append(candidate)
    return orphans


def expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """A file, a folder (its ``*.parquet``) or a glob, or several of those, as sorted files.

    A folder also yields the part files of sessions that were killed before they could
    merge them (with a warning naming each), so no measured round is hidden.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            # a folder named *.parquet is not a results file, and holds none of this run's
            found.extend(sorted(p for p in path.glob("*.parquet") if not p.is_dir()))
            for orphan in orphaned_parts(path):
                warnings.warn(
                    f"read {orphan}: rows of session {parts_run_id(orphan)}, which ended "
                    f"before it could merge them (marked session_complete=False); the next "
                    f"pytest session that saves into {path} merges them into "
                    f"{final_path(path, parts_run_id(orphan)).name}",
                    ResultsFileWarning,
                    stacklevel=3,
                )
                found.extend(part_files(orphan))
        elif path.exists():
            found.append(path)
        else:
            matches = sorted(Path(match) for match in glob.glob(str(item)))
            if not matches:
                raise FileNotFoundError(f"no results at {item}")
            found.extend(matches)
    return found


def mark_incomplete(data: pa.Table) -> pa.Table:
    """``data`` with every row's ``session_complete`` set to False (when it has the column)."""
    index = data.schema.get_field_index("session_complete")
    if index < 0:
        return data
    flags = pa.array([False] * data.num_rows, type=pa.bool_())
    return data.set_column(index, data.schema.field(index), flags)


def read_tables(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *, table: str = "rounds"
) -> list[pa.Table]:
    """Every readable file of kind ``table``; others are skipped with a warning naming them."""
    tables: list[pa.Table] = []
    for path in expand_paths(paths):
        try:
            kind, version = table_kind(path)
        except (OSError, pa.ArrowException, ValueError) as exc:
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
            data = read_file(path)
        except (OSError, pa.ArrowException, ValueError) as exc:
            warnings.warn(
                f"skipped {path}: could not be read ({exc})", ResultsFileWarning, stacklevel=2
            )
            continue
        # a part file is from a session that has not finished (or never will)
        tables.append(mark_incomplete(data) if is_parts_folder(path.parent) else data)
    return tables
