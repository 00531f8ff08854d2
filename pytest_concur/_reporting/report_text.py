"""``pytest-concur report`` as text: environment, summary tables, fits, comparison, verdicts.

Lays out what the shared builders made (:mod:`.rows`, :mod:`.verdicts`,
:mod:`.compare`) as aligned columns or Markdown; formats no figure itself.
"""

from __future__ import annotations

import pandas as pd

from .. import _format as fmt
from .compare import comparison_rows
from .rows import SUMMARY_LEGEND, records, summary_tables
from .tables import aligned, markdown
from .verdicts import verdict_lines, verdict_rows


def _environment_lines(frame: pd.DataFrame, by: list[str]) -> list[str]:
    def values(column: str) -> str:
        if column not in frame:
            return fmt.MISSING
        found = [fmt.escape(v) for v in frame[column].dropna().unique()]
        return ", ".join(sorted(found)) or fmt.MISSING

    runs = frame["run_id"].nunique() if "run_id" in frame else 0
    # a container's cgroup quota: utilisation counts against it (docs/measurement.md)
    quota = values("cpu_quota")
    quota = f"; CPU quota: {quota} cores" if quota != fmt.MISSING else ""
    lines = [
        f"{len(frame)} rounds from {runs} run(s): {values('run_id')}",
        f"python: {values('python')}; GIL enabled: {values('gil_enabled')}; "
        f"host: {values('host')}; usable CPUs: {values('usable_cpus')}{quota}",
    ]
    if by:
        lines.append(f"grouped by {fmt.escape(by[0])}")
    hosts = frame["host"].nunique() if "host" in frame else 0
    if hosts > 1 and "host" not in by:
        lines.append(
            f"rounds from {hosts} hosts are pooled per variant; --by host keeps them apart"
        )
    return [*lines, ""]


def fit_line(fit: dict[str, object], by: list[str]) -> str:
    """One Amdahl fit of ``analysis.amdahl`` as a sentence."""
    where = "".join(f"{name}={fmt.escape(fit[name])}, " for name in by)
    return (
        f"Amdahl fit {where}{fmt.escape(fit['model'])} over {fit['worker_counts']} "
        f"workers: parallel fraction {fmt.fraction(fit['parallel_fraction'])}, ceiling "
        f"{fmt.ceiling(fit['ceiling'])}, best seen {fmt.speedup(fit['best_speedup'])}"
    )


def report_text(
    frame: pd.DataFrame,
    summary: pd.DataFrame,
    fits: pd.DataFrame,
    compared: pd.DataFrame | None,
    verdicts: pd.DataFrame,
    by: list[str],
    style: str,
) -> list[str]:
    """The report as lines (``style`` table or markdown): tables, fits, comparison, verdicts."""
    plain = style == "table"
    table = aligned if plain else markdown
    indent = "  " if plain else ""

    def heading(text: str) -> list[str]:
        return [text] if plain else [f"### {text}", ""]

    if plain:
        out = _environment_lines(frame, by)
    else:
        out = ["## pytest-concur report", ""]
        out.extend(f"- {line}" if line else line for line in _environment_lines(frame, by))
    for summary_table in summary_tables(summary, by):
        out.extend(heading(f"{summary_table.title}  (workload: {summary_table.workload})"))
        out.extend(indent + line for line in table(summary_table.rows, left=len(by) + 1))
        mine = fits[
            (fits["experiment"] == summary_table.experiment)
            & (fits["params"] == summary_table.params)
        ]
        infos = [fit_line(fit, by) for fit in records(mine)]
        if plain:
            out.extend("  ! " + note for note in summary_table.notes)
            out.extend("  " + info for info in infos)
        elif summary_table.notes or infos:
            out.append("")
            out.extend("- " + note for note in [*summary_table.notes, *infos])
        out.append("")
    if compared is not None:
        against = fmt.escape(compared["baseline"].iloc[0]) if len(compared) else fmt.MISSING
        out.extend(heading(f"by {fmt.escape(by[0])}: each value against {against}"))
        out.extend(indent + line for line in table(comparison_rows(compared), left=3))
        out.append("")
    if not verdicts.empty:
        out.extend(heading("claims and verdicts"))
        if plain:
            out.extend("  " + line for line in verdict_lines(verdicts))
        else:
            rows = verdict_rows(verdicts)
            out.extend(markdown(rows, left=len(rows[0])))
        out.append("")
    out.append(SUMMARY_LEGEND)
    return out
