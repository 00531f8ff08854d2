"""The verdicts on claims as text: one layout for the terminal report and the command line.

Both lay out the verdicts table (VERDICTS_SCHEMA columns, docs/claims.md): the
session hands its verdicts over in memory, ``pytest-concur report`` reads them
from the stored files.
"""

from __future__ import annotations

import re
from typing import Any, Final

import pandas as pd

from .. import _format as fmt
from .rows import records
from .tables import aligned

_LABEL: Final = {"confirmed": "CONFIRMED", "refuted": "REFUTED", "inconclusive": "INCONCLUSIVE"}
#: The columns a reader needs in a verdicts table (Markdown), in this order.
_VERDICT_COLUMNS: Final = ("run_id", "python", "gil", "claim", "expectation", "status", "reason")
NO_CLAIMS: Final = "no claims were stated (marker keywords claim= and expect=)"


def _text(value: object) -> str:
    """A cell as text; a missing value (None, NaN, pd.NA) as nothing."""
    missing = value is None or value is pd.NA or (isinstance(value, float) and value != value)
    return "" if missing else str(value)


def _natural(text: str) -> tuple[tuple[int, str], ...]:
    parts = re.split(r"(\d+)", text)
    return tuple((int(part), "") if part.isdigit() else (0, part) for part in parts)


def _interpreter(rows: list[dict[str, Any]], run: str) -> str:
    first = rows[0]
    python = _text(first.get("python")) or "?"
    build = "free-threaded build" if first.get("free_threaded") is True else "GIL build"
    gils = {_text(row.get("gil")) or "unknown" for row in rows}
    gil = gils.pop() if len(gils) == 1 else "mixed"
    return f"python {python}, {build}, GIL {gil}" + (f", run {run}" if run else "")


def verdict_lines(verdicts: pd.DataFrame) -> list[str]:
    """Each claim with its status per interpreter (and run), then its expectations' evidence."""
    if verdicts.empty:
        return [NO_CLAIMS]
    if not {"claim", "status", "expectation"} <= set(verdicts.columns):
        shown = verdict_rows(verdicts)
        return ["  " + line for line in aligned(shown, left=len(shown[0]))]
    rows = records(verdicts)
    several_runs = "run_id" in verdicts and verdicts["run_id"].nunique() > 1
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        run = _text(row.get("run_id")) if several_runs else ""
        key = (_text(row["claim"]), _text(row.get("python")), run)
        groups.setdefault(key, []).append(row)
    out: list[str] = []
    statuses: list[str] = []
    # claims in natural order ("2." before "10."), whatever order xdist finished them in
    for key in sorted(groups, key=lambda k: _natural(" ".join(k))):
        mine = groups[key]
        status = _text(mine[0].get("claim_status")) or _text(mine[0]["status"])
        statuses.append(status)
        out.append(f"{_LABEL.get(status, status.upper()):<12}  {fmt.escape(key[0])}")
        out.append(f"{'':<12}  ({fmt.escape(_interpreter(mine, key[2]))})")
        for row in mine:
            where = _text(row.get("experiment")).rsplit("::", 1)[-1]
            expectation = fmt.escape(_text(row["expectation"]))
            if where:
                expectation = f"{fmt.escape(where)}: {expectation}"
            out.append(f"  {_text(row['status']):<12}  {expectation}")
            out.append(f"  {'':<12}    {fmt.escape(_text(row.get('reason')))}")
    crowded = [row for row in rows if row.get("crowded") is True]
    if crowded:
        out.append(
            f"{len(crowded)} verdict(s) were measured while other processes kept the CPUs "
            f"busy: CPU-parallel comparisons shift then; rerun on a quiet machine to trust them"
        )
    alphas = sorted({float(a) for a in verdicts.get("alpha", pd.Series()).dropna()})
    # adaptive rounds leave levels such as 0.0453 (docs/adaptive-rounds.md)
    levels = dict.fromkeys(fmt.figure(a) for a in alphas)
    at = f" at alpha {', '.join(levels)}" if alphas else ""
    out.append(
        f"{len(statuses)} claim(s): {statuses.count('confirmed')} confirmed, "
        f"{statuses.count('refuted')} refuted, {statuses.count('inconclusive')} inconclusive "
        f"(one-sided rank and sign tests{at}; inconclusive = the spread does not separate "
        f"the alternatives; docs/claims.md)"
    )
    return out


def verdict_rows(verdicts: pd.DataFrame) -> list[tuple[str, ...]]:
    """The verdicts as display rows (header first): the columns a reader needs, in order."""
    columns = [name for name in _VERDICT_COLUMNS if name in verdicts.columns]
    columns = columns or [str(name) for name in verdicts.columns]
    rows: list[tuple[str, ...]] = [tuple(columns)]
    for record in verdicts[columns].itertuples(index=False, name=None):
        rows.append(tuple(fmt.escape(_text(v)) for v in record))
    return rows
