"""Recovery: the parts folders of killed sessions merged into their files, once."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .files import mark_incomplete, write_tables
from .layout import OWNER_LOCK, PARTS_SUFFIX, final_path, part_files, parts_run_id, stored
from .locking import claim_lock
from .reading import read_file, read_schema, table_kind
from .spill import rows_said


def recover(folder: Path) -> list[str]:
    """Merge the parts folders that killed sessions left in ``folder``; say what was done.

    Each is claimed through its lock first, so a running session's folder is left
    alone and two sessions never recover the same one. The rows are marked
    ``session_complete=False``.
    """
    notices: list[str] = []
    try:
        candidates = sorted(p for p in folder.glob(f".*{PARTS_SUFFIX}") if p.is_dir())
    except OSError:
        return notices  # an unreadable folder is reported when rows are written into it
    for candidate in candidates:
        try:
            fd = claim_lock(candidate / OWNER_LOCK)
        except FileNotFoundError:
            fd = -1  # no lock file: nobody owns it (or its owner is removing it)
        except OSError as exc:
            notices.append(f"could not check {candidate}: {exc}")
            continue
        if fd is None:
            continue  # its session is running
        try:
            notices.extend(_recover_one(folder, candidate))
        finally:
            if fd >= 0:
                os.close(fd)
    return notices


def _recover_one(folder: Path, parts: Path) -> list[str]:
    run_id = parts_run_id(parts)
    by_kind: dict[str, list[Path]] = {}
    notices: list[str] = []
    for path in part_files(parts):
        try:
            kind, _ = table_kind(path)
        except (OSError, pa.ArrowException, ValueError) as exc:
            notices.append(f"skipped {path} while recovering: {exc}")
            continue
        if kind is None:
            notices.append(f"skipped {path} while recovering: not a pytest-concur file")
            continue
        by_kind.setdefault(kind, []).append(path)
    for kind, files in sorted(by_kind.items()):
        target = final_path(folder, run_id, kind)
        if stored(folder, run_id, kind) is not None:
            continue  # its session merged it before it died
        try:
            schema = read_schema(files[0])
            incomplete = (mark_incomplete(read_file(path)) for path in files)
            write_tables(incomplete, target, schema=schema)
            rows = pq.read_metadata(target).num_rows
        except (OSError, pa.ArrowException, ValueError) as exc:
            notices.append(f"could not recover {parts} into {target}: {exc}")
            return notices  # keep the parts: nothing is lost by trying again later
        notices.append(
            f"recovered {rows_said(rows, kind)} of interrupted session {run_id} into {target}"
        )
    with contextlib.suppress(FileNotFoundError):  # another recoverer removed it first
        shutil.rmtree(parts)
    return notices

