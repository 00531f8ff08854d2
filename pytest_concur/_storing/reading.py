"""Reading results back: folders in either layout, files by kind, bad files skipped and said."""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from .._warning_types import ResultsFileWarning as ResultsFileWarning
from .files import mark_incomplete
from .layout import (
    PARTS_SUFFIX,
    TABLES,
    final_path,
    flat_path,
    is_part_file,
    is_parts_folder,
    part_files,
    parts_run_id,
)
from .locking import owner_alive
from .schema import META_TABLE, META_VERSION, SCHEMA_VERSION

PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


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


def table_kind(path: Path) -> tuple[str | None, int | None]:
    """(table name, schema version) from a file's metadata; raises for unreadable files."""
    metadata = read_schema(path).metadata or {}
    version = metadata.get(META_VERSION)
    name = metadata.get(META_TABLE)
    return (
        name.decode() if name is not None else None,
        int(version) if version is not None else None,
    )


def orphaned_parts(folder: Path) -> list[Path]:
    """Parts folders under ``folder`` whose session ended without merging them."""
    orphans: list[Path] = []
    for candidate in sorted(folder.glob(f".*{PARTS_SUFFIX}")):
        if not candidate.is_dir():
            continue
        if owner_alive(candidate):
            continue  # a live session: its rows arrive when it finishes
        run_id = parts_run_id(candidate)
        if final_path(folder, run_id).exists() or flat_path(folder, run_id).exists():
            continue  # merged already; the session ended before it could tidy up
        orphans.append(candidate)
    return orphans


def folder_files(folder: Path, table: str | None = None) -> list[Path]:
    """The stored files in a results folder: its table folders' (only ``table``'s when
    given) and the flat layout's ``*.parquet`` beside them; or, for a table folder, its own."""
    # a folder named *.parquet is not a results file, and holds none of this run's
    found = sorted(p for p in folder.glob("*.parquet") if not p.is_dir())
    if folder.name in TABLES:
        return found
    for name in TABLES if table is None else (table,):
        table_folder = folder / name
        if table_folder.is_dir():
            found.extend(sorted(p for p in table_folder.glob("*.parquet") if not p.is_dir()))
    return found


def expand_paths(paths: PathsLike, *, table: str | None = None) -> list[Path]:
    """A file, a folder or a glob, or several of those, as sorted files.

    A results folder yields its table folders' files (only ``table``'s, when given) and
    those of the flat layout; it also yields the part files of sessions that were killed
    before they could merge them (with a warning naming each), so no measured round is
    hidden. A table folder (``results/rounds``) yields its own files.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found.extend(folder_files(path, table))
            home = path.parent if path.name in TABLES else path
            for orphan in orphaned_parts(home):
                warnings.warn(
                    f"read {orphan}: rows of session {parts_run_id(orphan)}, which ended "
                    f"before it could merge them (marked session_complete=False); the next "
                    f"pytest session that saves into {home} merges them into "
                    f"{final_path(home, parts_run_id(orphan)).relative_to(home)}",
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


def read_tables(paths: PathsLike, *, table: str = "rounds") -> list[pa.Table]:
    """Every readable file of kind ``table``; others are skipped with a warning naming them."""
    tables: list[pa.Table] = []
    for path in expand_paths(paths, table=table):
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
