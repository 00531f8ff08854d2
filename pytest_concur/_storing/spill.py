"""Rows on their way to disk: a few in memory, the rest in part files merged at the end.

A session's rows go to ``<results>/.<run_id>.parts/<table>-NNNNNN.arrow`` a few
thousand at a time, and between test items once some have waited a few seconds; each
part is written atomically. The session holds ``owner.lock`` in that folder while it
lives. At the end the parts are streamed into ``<results>/<table>/<run_id>.parquet`` (one
table in memory at a time, the file written atomically) and the folder is removed.
So memory stays bounded however many rounds a session measures, and a session that is
killed leaves its rows behind in part files: the next session merges them
(:func:`~pytest_concur._storing.recovery.recover`), and ``load`` reads them meanwhile.

When a folder cannot be written (read-only, full, a file in its place) the rows go to
:func:`fallback_folder` instead, and a notice says where. Nothing here raises OSError.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, final

import pyarrow as pa

from .files import mark_incomplete, rows_to_table, write_part, write_tables
from .layout import OWNER_LOCK, PART_SUFFIX, final_path, parts_folder
from .locking import claim_lock, unlock
from .reading import read_file
from .schema import ROUNDS_SCHEMA, tagged_schema

#: Rows of one table kept in memory before they are spilled, whatever the time.
FLUSH_ROWS: Final = 2000
#: Between test items, rows that waited this long are spilled (what a SIGKILL can cost).
FLUSH_AFTER_S: Final = 5.0

# what a write into a folder can fail with: the folder, the disk, or rows Arrow refuses
_WRITE_ERRORS: Final = (OSError,)
_DATA_ERRORS: Final = (pa.ArrowException, ValueError, TypeError)


def fallback_folder() -> Path:
    """Where rows go when the results folder cannot take them."""
    return Path(tempfile.gettempdir(), "pytest-concur")


def unwritable_reason(folder: Path) -> str | None:
    """Why files could not be made in ``folder``; None when they can. Creates nothing."""
    probe = folder
    while not probe.exists():
        if probe.is_symlink():
            return f"{probe} is a broken symbolic link"
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def check_writable(folder: Path) -> str | None:
    """Make ``folder`` and write a byte into it; why that failed, or None when it worked."""
    reason = unwritable_reason(folder)
    if reason is not None:
        return reason
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".pytest-concur-probe-") as probe:
            probe.write(b"\0")
            probe.flush()
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"
    return None


@final
class Spill:
    """The rows of one session, by table kind, in memory and in part files."""

    def __init__(
        self,
        folder: Path,
        run_id: str,
        *,
        fallback: Path | None = None,
        flush_rows: int = FLUSH_ROWS,
        flush_after_s: float = FLUSH_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._home = folder
        self._folder = folder
        self._run_id = run_id
        self._fallback = fallback
        self._flush_rows = flush_rows
        self._flush_after_s = flush_after_s
        self._clock = clock
        self._last_flush = clock()
        self._buffers: dict[str, list[Mapping[str, Any]]] = {}
        self._schemas: dict[str, pa.Schema] = {}
        self._parts: dict[str, list[Path]] = {}
        self._owned: dict[Path, int] = {}  # parts folders made here, and their lock fds
        self._part_number = 0
        self._failed: set[Path] = set()  # folders that refused a write, said once each
        #: the run's provenance, written into each merged file's metadata
        self.provenance: dict[str, str] = {}
        #: rows received, by table kind
        self.counts: dict[str, int] = {}
        #: what went wrong on the way and where the rows went instead, for the user
        self.notices: list[str] = []

    @property
    def folder(self) -> Path:
        """Where rows are going now (the fallback after the results folder failed)."""
        return self._folder

    def add(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        table: str = "rounds",
        schema: pa.Schema = ROUNDS_SCHEMA,
    ) -> None:
        """Take rows; spill them once a part's worth has gathered."""
        if not rows:
            return
        buffer = self._buffers.setdefault(table, [])
        self._schemas.setdefault(table, schema)
        buffer.extend(rows)
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        if len(buffer) >= self._flush_rows:
            self._flush(table)

    def checkpoint(self) -> None:
        """Between test items: spill rows that have waited long enough."""
        if self._clock() - self._last_flush < self._flush_after_s:
            return
        for table in list(self._buffers):
            self._flush(table)
        self._last_flush = self._clock()

    def _flush(self, table: str) -> None:
        buffer = self._buffers[table]
        while buffer:
            try:
                folder = self._parts_folder()
            except _WRITE_ERRORS as exc:
                if self._fall_back(exc):
                    continue
                return  # nowhere to spill: the rows wait in memory for the final write
            self._part_number += 1
            path = folder / f"{table}-{self._part_number:06d}{PART_SUFFIX}"
            try:
                write_part(rows_to_table(buffer, schema=self._schemas[table], table=table), path)
            except _WRITE_ERRORS as exc:
                if self._fall_back(exc):
                    continue
                return
            except _DATA_ERRORS as exc:
                self.notices.append(
                    f"{rows_said(len(buffer), table)} could not be stored and are lost "
                    f"({type(exc).__name__}: {exc}); this is a bug in pytest-concur"
                )
                buffer.clear()
                return
            except BaseException:
                # interrupted: if the part landed, its rows must not be written twice
                if path.exists():
                    self._parts.setdefault(table, []).append(path)
                    buffer.clear()
                raise
            self._parts.setdefault(table, []).append(path)
            buffer.clear()

    def _parts_folder(self) -> Path:
        """This session's parts folder in the current folder, locked, made on first use."""
        target = parts_folder(self._folder, self._run_id)
        if target in self._owned:
            return target
        self._folder.mkdir(parents=True, exist_ok=True)
        # made under another name and renamed, so nobody sees it without its lock held
        staging = Path(tempfile.mkdtemp(prefix=f".{self._run_id}.", dir=self._folder))
        try:
            fd = claim_lock(staging / OWNER_LOCK, create=True)
            assert fd is not None  # a fresh folder: nobody else can hold its lock
            try:
                os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
                os.rename(staging, target)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._owned[target] = fd
        return target

    def _fall_back(self, exc: OSError) -> bool:
        """Move to the fallback folder after ``exc``; False when there is none left."""
        self._note_failure(self._folder, exc)
        if self._fallback is None or self._folder == self._fallback:
            return False
        self._folder = self._fallback
        return True

    def _note_failure(self, folder: Path, exc: OSError) -> None:
        """Say once per folder that it failed, and where the rows go instead."""
        if folder in self._failed:
            return
        self._failed.add(folder)
        instead = self._fallback if self._fallback not in (None, folder) else None
        self.notices.append(
            f"could not write to {folder} ({exc})"
            + (f"; the rows are kept in {instead} instead" if instead is not None else "")
        )

    def finish(self, *, complete: bool) -> dict[str, Path]:
        """Merge each table's parts and rows into its file; where each went.

        ``complete`` False marks every row ``session_complete=False``. Parts folders
        are removed once every table is written; otherwise they stay, with their rows,
        for the next session to recover, and a notice names them.
        """
        written: dict[str, Path] = {}
        for table in sorted(self._schemas):
            if not self._parts.get(table) and not self._buffers.get(table):
                continue
            path = self._merge(table, complete=complete)
            if path is not None:
                written[table] = path
        left = [table for table in self._schemas if table not in written and self.counts[table]]
        self._release(remove=not left)
        pa.default_memory_pool().release_unused()  # the merge's buffers, back to the system
        if left and self._owned_parts():
            self.notices.append(
                f"the spilled rows stay in {', '.join(str(p) for p in self._owned_parts())}; "
                f"the next session that saves there merges them"
            )
        return written

    def _owned_parts(self) -> list[Path]:
        return sorted({path.parent for paths in self._parts.values() for path in paths})

    def _merge(self, table: str, *, complete: bool) -> Path | None:
        schema = tagged_schema(self._schemas[table], table, self.provenance)
        tried: list[Path] = []
        for folder in (self._home, self._folder, self._fallback):
            if folder is None or folder in tried:
                continue
            tried.append(folder)
            target = final_path(folder, self._run_id, table)
            try:
                write_tables(self._tables(table, complete=complete), target, schema=schema)
            except _WRITE_ERRORS as exc:
                self._note_failure(folder, exc)
                continue
            except _DATA_ERRORS as exc:
                self.notices.append(
                    f"the {rows_said(None, table)} could not be stored "
                    f"({type(exc).__name__}: {exc}); this is a bug in pytest-concur"
                )
                return None
            self._buffers.pop(table, None)
            return target
        unspilled = len(self._buffers.get(table, []))
        if unspilled:
            self.notices.append(
                f"{rows_said(unspilled, table)} not yet spilled could not be written anywhere "
                f"and are lost when this session ends"
            )
        return None

    def _tables(self, table: str, *, complete: bool) -> Iterator[pa.Table]:
        """The table's parts in order, then its rows in memory, one at a time."""
        for part in self._parts.get(table, []):
            try:
                data = read_file(part)
            except (OSError, pa.ArrowException) as exc:
                # written and renamed by this session: only a hand from outside does this
                self.notices.append(f"part {part} could not be read back, its rows are lost: {exc}")
                continue
            yield data if complete else mark_incomplete(data)
        rows = self._buffers.get(table)
        if rows:
            data = rows_to_table(rows, schema=self._schemas[table], table=table)
            yield data if complete else mark_incomplete(data)

    def leftovers(self, table: str = "rounds") -> tuple[list[Path], list[Mapping[str, Any]]]:
        """Part files and rows in memory of a table whose final file could not be written."""
        return list(self._parts.get(table, [])), list(self._buffers.get(table, []))

    def _release(self, *, remove: bool) -> None:
        for folder, fd in sorted(self._owned.items()):
            if remove:
                try:
                    shutil.rmtree(folder)
                except OSError as exc:
                    self.notices.append(f"could not remove {folder}: {exc}")
            unlock(fd)
            os.close(fd)
        self._owned.clear()
        if remove:
            self._parts.clear()

    def close(self) -> None:
        """Let go of the parts folders' locks (their rows stay for the next session)."""
        self._release(remove=False)


def rows_said(count: int | None, table: str) -> str:
    """How notices count rows: "12 measured rounds", or "24 rows of its cores table"."""
    if table == "rounds":
        return "measured rounds" if count is None else f"{count} measured rounds"
    return f"rows of its {table} table" if count is None else f"{count} rows of its {table} table"
