"""Where each file of a results folder lives: one folder per table, parts kept apart.

A results folder holds one folder per table, each with one file per run::

    results/rounds/<run_id>.parquet     results/verdicts/<run_id>.parquet
    results/tasks/<run_id>.parquet      results/runs/<run_id>.parquet
    results/cores/<run_id>.parquet      results/recommendations/<run_id>.parquet

so that ``read_parquet('results/rounds/*.parquet')`` in DuckDB, polars, pandas or
``pyarrow.dataset`` reads exactly the rounds. A running session's part files are in the
hidden folder ``results/.<run_id>.parts/``, outside every table folder (and hidden, which
``pyarrow.dataset`` skips). Folders written before 0.2 (the *flat* layout,
``<run_id>.parquet`` beside ``<run_id>.tasks.parquet``, ...) are still read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

#: The tables, each in its own folder of that name.
TABLES: Final = ("rounds", "tasks", "cores", "verdicts", "runs", "recommendations")
#: A running session spills rows to ``.<run_id>.parts/`` and holds ``owner.lock`` in it.
PARTS_SUFFIX: Final = ".parts"
OWNER_LOCK: Final = "owner.lock"
#: Part files are Arrow IPC: a tenth of Parquet's cost to write and to read back, which a
#: long session pays once per part (the final file is Parquet, for every other tool).
PART_SUFFIX: Final = ".arrow"


def final_path(folder: Path, run_id: str, table: str = "rounds") -> Path:
    """A session's file of ``table`` in the results folder ``folder``."""
    return folder / table / f"{run_id}.parquet"


def flat_path(folder: Path, run_id: str, table: str = "rounds") -> Path:
    """Where the flat layout kept it: ``<run_id>.parquet`` or ``<run_id>.<table>.parquet``."""
    return folder / (f"{run_id}.parquet" if table == "rounds" else f"{run_id}.{table}.parquet")


def stored(folder: Path, run_id: str, table: str = "rounds") -> Path | None:
    """The run's file of ``table`` in either layout, or None when it has none."""
    for path in (final_path(folder, run_id, table), flat_path(folder, run_id, table)):
        if path.is_file():
            return path
    return None


def results_folder(path: Path) -> Path:
    """The results folder a stored file belongs to (either layout)."""
    return path.parent.parent if path.parent.name in TABLES else path.parent


def run_id_of(path: Path) -> str:
    """The run id in a stored file's name (either layout)."""
    return path.name.split(".")[0]


def companion(path: Path, table: str) -> Path:
    """The file of ``table`` of the same run as the stored file ``path`` (either layout)."""
    folder, run_id = results_folder(path), run_id_of(path)
    if path.parent.name in TABLES:
        return final_path(folder, run_id, table)
    return flat_path(folder, run_id, table)


def parts_folder(folder: Path, run_id: str) -> Path:
    """The hidden folder where a running session keeps the rows it has spilled so far."""
    return folder / f".{run_id}{PARTS_SUFFIX}"


def is_parts_folder(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(PARTS_SUFFIX)


def parts_run_id(path: Path) -> str:
    return path.name[1 : -len(PARTS_SUFFIX)]


def is_part_file(path: Path) -> bool:
    return path.suffix == PART_SUFFIX


def part_files(parts: Path) -> list[Path]:
    """The part files in a parts folder, in the order they were written (older versions
    of pytest-concur wrote Parquet parts; those are read too)."""
    found = [p for p in parts.iterdir() if p.suffix in (PART_SUFFIX, ".parquet")]
    return sorted(found, key=lambda p: p.stem)
