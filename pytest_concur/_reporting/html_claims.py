"""The claims section of the HTML page: each claim, its verdict per interpreter."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import _format as fmt
from .html_common import badge, html_table, present
from .rows import records
from .svg import (
    text,
)


#: Above this many tasks in one round the Gantt chart shows the first ones only.
def claims_section(verdicts: pd.DataFrame | None) -> str:
    head = '<section class="card"><h2>Claims and verdicts</h2>'
    if verdicts is None or verdicts.empty:
        return (
            head + '<p class="note">No verdicts are stored with these results. Experiments '
            "that state a claim (<code>claim=</code> and <code>expect=[...]</code> in the "
            "marker) store their verdicts in <code>verdicts/&lt;run_id&gt;.parquet</code>.</p>"
            "</section>"
        )
    needed = {"claim", "status", "expectation"}
    if not needed <= set(verdicts.columns):
        return head + _generic_table(verdicts) + "</section>"
    frame = verdicts.assign(
        claim=verdicts["claim"].astype(object).where(verdicts["claim"].notna(), ""),
    )
    status_of = "claim_status" if "claim_status" in frame else "status"
    per_claim = frame.drop_duplicates(["claim", "python"]) if "python" in frame else frame
    counts = per_claim[status_of].astype(str).value_counts()
    tally = " · ".join(f"{badge(k)} {v}" for k, v in counts.items())
    parts = [head, f'<p class="sub">{len(per_claim)} claim verdict(s): {tally}</p>']
    for claim, rows in frame.groupby("claim", sort=False):
        experiments = sorted({str(e) for e in rows.get("experiment", pd.Series()).dropna()})
        parts.append(f'<div class="claim"><h3>{text(claim or "(no claim text)")}</h3>')
        if experiments:
            parts.append(
                '<p class="sub">' + ", ".join(f"<code>{text(e)}</code>" for e in experiments)
                + "</p>"
            )  # fmt: skip
        table_rows = []
        overall: dict[str, object] = {}
        for row in records(rows):
            where = _interpreter_label(row)
            overall.setdefault(where, row.get(status_of, ""))
            table_rows.append(
                [
                    text(where),
                    text(row.get("expectation", "")),
                    badge(row.get("status", "")),
                    text(row.get("reason", "") if present(row.get("reason")) else ""),
                    fmt.p_value(row.get("p_value")),
                ]
            )
        parts.append(
            '<p class="statuses">'
            + " ".join(f"{text(where)}: {badge(status)}" for where, status in overall.items())
            + "</p>"
        )
        table = html_table(
            ["interpreter", "expectation", "verdict", "why", "p"], table_rows, left=4
        )
        parts.append(table.replace('<td class="l">', '<td class="wrap">') + "</div>")
    parts.append(
        '<p class="sub">A claim is confirmed on an interpreter when all its expectations are, '
        "refuted when one is refuted; inconclusive means the spread of the rounds does not "
        "separate the alternatives (a statistical decision, p = the p-value of the test that "
        "would confirm it).</p></section>"
    )
    return "".join(parts)


def _interpreter_label(row: dict[str, Any]) -> str:
    python = str(row.get("python") or "?")
    gil = row.get("gil")
    if isinstance(gil, str) and gil not in ("", "unknown"):
        return f"{python} (GIL {gil})"
    return python


def _generic_table(frame: pd.DataFrame) -> str:
    """Any table, every cell escaped: for verdict files of an unknown shape."""
    columns = [str(c) for c in frame.columns]
    rows = [[text(v) if present(v) else "" for v in row.values()] for row in records(frame)]
    return html_table([text(c) for c in columns], rows, left=len(columns))
