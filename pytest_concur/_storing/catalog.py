"""The runs stored in a results folder: listed, found by run id or name, named safely."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from .layout import TABLES, flat_path, run_id_of
from .reading import folder_files, table_kind

#: Longest name kept; a longer one is cut (and said).
MAX_NAME: Final = 100
#: Unicode categories escaped in a name: controls (terminal escapes, bidi overrides),
#: surrogates, unassigned code points and line breaks.
_ESCAPED: Final = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One run of a results folder: its rounds file and its runs-table row (if any)."""

    run_id: str
    rounds: Path | None
    #: the runs-table row (empty for runs stored before provenance was recorded)
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        value = self.info.get("name")
        return value if isinstance(value, str) else None


def rounds_files(folder: Path) -> list[Path]:
    """Files in ``folder`` holding rounds, either layout (not companions, not broken files)."""
    found: list[Path] = []
    for path in folder_files(folder, "rounds"):
        try:
            kind, _ = table_kind(path)
        except (OSError, ValueError, pa.ArrowException):
            continue  # load() names it when it is read; here it is just not a candidate
        if kind == "rounds":
            found.append(path)
    return sorted(found, key=lambda path: (run_id_of(path), path))


def _runs_rows(folder: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for path in folder_files(folder, "runs"):
        try:
            kind, _ = table_kind(path)
            if kind != "runs":
                continue
            for row in pq.read_table(path).to_pylist():
                rows[str(row.get("run_id"))] = row
        except (OSError, ValueError, pa.ArrowException):
            continue  # an unreadable runs file: the run is listed without its provenance
    return rows


def stored_runs(folder: Path) -> list[StoredRun]:
    """Every run in ``folder`` (rounds file or runs row), oldest first (run ids sort by time)."""
    if not folder.is_dir():
        return []
    infos = _runs_rows(folder)
    by_id: dict[str, Path] = {}
    for path in rounds_files(folder):
        by_id.setdefault(run_id_of(path), path)
    ids = sorted(set(by_id) | set(infos))
    return [StoredRun(run_id, by_id.get(run_id), infos.get(run_id, {})) for run_id in ids]


def find_runs(folder: Path, value: str) -> list[StoredRun]:
    """Runs that ``value`` names: a run id, a run's name, or the start of a run id."""
    runs = stored_runs(folder)
    for matches in (
        [run for run in runs if run.run_id == value],
        [run for run in runs if run.name == value],
        [run for run in runs if run.run_id.startswith(value)],
    ):
        if matches:
            return matches
    flat = flat_path(folder, value)  # a flat folder without a readable metadata
    return [StoredRun(value, flat)] if flat.is_file() else []


def newest_run(folder: Path, *, exclude: str | None = None) -> Path | None:
    """The newest stored rounds file in ``folder``, or None."""
    candidates = [path for path in rounds_files(folder) if run_id_of(path) != exclude]
    return candidates[-1] if candidates else None


def clean_name(text: str) -> tuple[str | None, list[str]]:
    """A run name as it can be stored and shown, and what was changed, said in words.

    Control and format characters, lone surrogates, unassigned code points and line
    breaks are escaped (``\\x1b``), spaces
    around it stripped, and it is cut at MAX_NAME characters. A name that is empty, or
    that is a table folder's name, is refused (None).
    """
    notes: list[str] = []
    name = text.strip()
    escaped = "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in _ESCAPED
        else ch
        for ch in name
    )
    if escaped != name:
        notes.append(f"control characters in the run name were escaped: {escaped!r}")
    if len(escaped) > MAX_NAME:
        escaped = escaped[:MAX_NAME]
        notes.append(f"the run name was cut to {MAX_NAME} characters")
    if not escaped or escaped in TABLES:
        return None, [f"run name {text!r} cannot be used: it is empty or a table folder's name"]
    return escaped, notes


def free_name(folder: Path, name: str, run_id: str) -> tuple[str, str | None]:
    """``name``, or ``name-2``, ``name-3``, ... when another run in ``folder`` has it."""
    taken = {run.name for run in stored_runs(folder) if run.run_id != run_id}
    if name not in taken:
        return name, None
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    chosen = f"{name}-{number}"
    return chosen, (
        f"the run name {name!r} is already used by another run in {folder}; this run is "
        f"named {chosen!r} (no run was overwritten)"
    )
