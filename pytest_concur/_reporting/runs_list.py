"""``pytest-concur list``: the runs of a results folder, oldest first, as a table or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow.parquet as pq

from .._format import escape
from .._storing.catalog import StoredRun, stored_runs
from . import CommandError
from .tables import aligned, markdown

COLUMNS: Final = ("date", "name", "run_id", "commit", "python", "gil", "rounds")


def _rounds(run: StoredRun) -> int | None:
    counted = run.info.get("rounds")
    if isinstance(counted, int):
        return counted
    if run.rounds is None:
        return None
    try:
        return int(pq.read_metadata(run.rounds).num_rows)
    except (OSError, ValueError):
        return None


def _date(run: StoredRun) -> str | None:
    started = run.info.get("started_at")
    if isinstance(started, datetime):
        return started.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    try:  # run ids start with the start time: 20260101T120000-...
        return datetime.strptime(run.run_id[:15], "%Y%m%dT%H%M%S").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _gil(info: dict[str, Any] | Any) -> str | None:
    enabled = info.get("gil_enabled")
    if enabled is None:
        return None
    return "on" if enabled else "off"


def list_records(runs: Sequence[StoredRun]) -> list[dict[str, Any]]:
    """One plain record per run: the COLUMNS, then whether its commit had changes."""
    records: list[dict[str, Any]] = []
    for run in runs:
        info = run.info
        commit = info.get("git_commit")
        records.append(
            {
                "date": _date(run),
                "name": run.name,
                "run_id": run.run_id,
                "commit": commit[:12] if isinstance(commit, str) else None,
                "python": info.get("python"),
                "gil": _gil(info),
                "rounds": _rounds(run),
                "git_dirty": info.get("git_dirty"),
                "path": str(run.rounds) if run.rounds is not None else None,
            }
        )
    return records


def list_text(records: Sequence[dict[str, Any]], fmt: str) -> str:
    """The records as ``table``, ``markdown``, ``csv`` or ``json`` text."""
    if fmt == "json":
        return json.dumps(list(records), indent=2) + "\n"
    rows: list[tuple[str, ...]] = [COLUMNS]
    for record in records:
        cells = []
        for column in COLUMNS:
            value = record[column]
            text = "-" if value is None else str(value)
            if column == "commit" and record.get("git_dirty"):
                text += "+"  # uncommitted changes, as git describe --dirty marks them
            cells.append(text if fmt == "csv" else escape(text))
        rows.append(tuple(cells))
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue()
    render = aligned if fmt == "table" else markdown
    return "\n".join(render(rows, left=len(COLUMNS))) + "\n"


def list_command(folder: Path, *, output: str = "table") -> int:
    """``pytest-concur list [DIR] [--results DIR] [--format ...]``."""
    if not folder.is_dir():
        raise CommandError(f"no results folder at {folder}")
    sys.stdout.write(list_text(list_records(stored_runs(folder)), output))
    return 0
