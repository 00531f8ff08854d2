"""The terminal report: the summary tables laid out as lines; the plugin writes them."""

from __future__ import annotations

import pandas as pd

from .rows import SUMMARY_LEGEND, SummaryTable, summary_tables
from .tables import aligned


def table_lines(table: SummaryTable, *, indent: str = "  ") -> list[str]:
    """One summary table as aligned text, its notes after it with a ``!``."""
    out = [indent + line for line in aligned(table.rows, left=len(table.by) + 1)]
    out.extend(f"{indent}! {note}" for note in table.notes)
    return out


def report_lines(rows: pd.DataFrame) -> list[str]:
    """One table per experiment and parameter set, followed by its warnings."""
    from ..analysis import summarize

    tables = summary_tables(summarize(rows)) if not rows.empty else []
    if not tables:
        return ["no concur rounds were measured"]
    out: list[str] = []
    for table in tables:
        out.append(f"{table.title}  (workload: {table.workload})")
        out.extend(table_lines(table))
        out.append("")
    out.append(SUMMARY_LEGEND)
    return out
