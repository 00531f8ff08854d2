"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no fonts).

A pure function from frames to a string. Every string that comes from results (test
ids, parameters, errors, host names) passes through ``html.escape``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import pandas as pd

from .html_claims import claims_section
from .html_common import Context, python_labels
from .html_experiment import experiment_section, versions_section
from .svg import (
    text,
)

#: Above this many tasks in one round the Gantt chart shows the first ones only.
_CSS: Final = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1f2937;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { background: #111827; color: #f9fafb; padding: 22px 32px 18px; }
header h1 { margin: 0 0 6px; font-size: 22px; font-weight: 650; letter-spacing: .2px; }
header .meta { margin: 0; color: #d1d5db; font-size: 13px; }
header .meta b { color: #f9fafb; font-weight: 600; }
main { max-width: 1180px; margin: 0 auto; padding: 18px 24px 40px; }
nav { margin: 4px 0 18px; font-size: 13px; }
nav a { display: inline-block; margin: 0 6px 6px 0; padding: 3px 10px; border-radius: 999px;
  background: #e5e7eb; color: #1f2937; text-decoration: none; }
nav a:hover { background: #d1d5db; }
section.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 10px;
  padding: 16px 20px 18px; margin: 0 0 18px; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
h2 { font-size: 17px; margin: 0 0 4px; word-break: break-all; }
h3 { font-size: 14px; margin: 16px 0 6px; color: #374151; }
.sub { color: #6b7280; margin: 0 0 10px; font-size: 13px; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 1px 8px;
  border-radius: 999px; background: #eef2ff; color: #3730a3; vertical-align: 2px;
  margin-left: 6px; word-break: normal; }
.grid { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.grid > figure { flex: 0 0 auto; }
figure { margin: 0; }
.chart-title { margin: 0 0 2px 62px; font-weight: 600; font-size: 13px; color: #374151; }
.side { flex: 1 1 440px; }
.side h3 { margin-top: 4px; }
figcaption { font-size: 12px; color: #6b7280; margin-top: 2px; max-width: 720px; }
svg.chart { max-width: 100%; height: auto; display: block; }
svg .axis-label { fill: #374151; font-size: 12px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 4px 0 6px; }
th, td { padding: 4px 9px; border-bottom: 1px solid #eef0f3; text-align: right;
  white-space: nowrap; }
th { background: #f9fafb; color: #374151; font-weight: 600; position: sticky; top: 0; }
td.l, th.l { text-align: left; }
td.wrap { white-space: normal; max-width: 460px; text-align: left; }
tbody tr:hover { background: #f9fafb; }
.table-wrap { overflow-x: auto; max-width: 100%; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; vertical-align: 0; }
.claim { border-top: 1px solid #eef0f3; padding-top: 4px; }
.claim h3 { color: #111827; font-size: 14.5px; }
.claim table { width: 100%; }
.statuses { margin: 2px 0 6px; font-size: 13px; }
.v { font-weight: 600; padding: 1px 8px; border-radius: 999px; font-size: 12px; }
.v-confirmed, .v-faster { background: #dcfce7; color: #166534; }
.v-refuted, .v-slower { background: #fee2e2; color: #991b1b; }
.v-inconclusive, .v-no-change, .v-too-few-rounds { background: #fef3c7; color: #92400e; }
.v-other { background: #e5e7eb; color: #374151; }
.note { color: #6b7280; font-size: 13px; background: #f9fafb; border-left: 3px solid #d1d5db;
  padding: 6px 10px; margin: 8px 0; }
.warn { color: #92400e; font-size: 12.5px; margin: 2px 0; }
details { margin: 8px 0; border: 1px solid #eef0f3; border-radius: 8px; padding: 6px 12px; }
details > summary { cursor: pointer; font-weight: 600; color: #374151; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  background: #f3f4f6; padding: 0 4px; border-radius: 4px; word-break: break-all; }
footer { color: #6b7280; font-size: 12px; max-width: 1180px; margin: 0 auto;
  padding: 0 24px 30px; }
"""


def report_html(
    rounds: pd.DataFrame,
    *,
    tasks: pd.DataFrame | None = None,
    cores: pd.DataFrame | None = None,
    verdicts: pd.DataFrame | None = None,
    baseline: str = "serial",
    chosen_round: int | None = None,
    title: str = "pytest-concur report",
    generated: datetime | None = None,
) -> str:
    """The whole report page as one string of HTML."""
    from ..analysis import natural_key, summarize

    pythons = (
        sorted((str(v) for v in rounds["python"].dropna().unique()), key=natural_key)
        if "python" in rounds
        else []
    )
    by = ["python"] if len(pythons) > 1 else []
    summary = summarize(rounds, by, baseline=baseline) if not rounds.empty else pd.DataFrame()
    context = Context(
        rounds=rounds,
        summary=summary,
        tasks=tasks if tasks is not None else pd.DataFrame(),
        cores=cores if cores is not None else pd.DataFrame(),
        pythons=pythons,
        labels=python_labels(rounds),
        chosen_round=chosen_round,
    )
    sections: list[tuple[str, str, str]] = []  # (anchor, nav label, html)
    sections.append(("claims", "Claims and verdicts", claims_section(verdicts)))
    from .._advice.lines import decisions_html  # the variant to use, why (docs/decisions.md)

    sections.append(("decisions", "Decisions", decisions_html(rounds, tasks)))
    if len(pythons) > 1:
        sections.append(("versions", "Across Python versions", versions_section(context)))
    if summary.empty:
        sections.append(
            (
                "empty",
                "No rounds",
                '<section class="card"><p class="note">'
                "No measured rounds in these results.</p></section>",
            )
        )
    else:
        groups = summary.groupby(["experiment", "params"], sort=False, observed=True)
        for index, ((experiment, params), group) in enumerate(groups):
            name = str(experiment).split("::")[-1] + (f" [{params}]" if params else "")
            sections.append(
                (
                    f"exp-{index}",
                    name,
                    experiment_section(context, str(experiment), str(params), group),
                )
            )
    nav = "".join(f'<a href="#{anchor}">{text(label)}</a>' for anchor, label, _ in sections)
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{text(title)}</h1>{_meta(rounds, context.labels, when)}</header>"
        f"<main><nav>{nav}</nav>"
        + "".join(f'<div id="{anchor}">{body}</div>' for anchor, _, body in sections)
        + f"</main>{_footer()}</body></html>\n"
    )


def _meta(rounds: pd.DataFrame, labels: dict[str, str], when: str) -> str:
    def values(column: str) -> str:
        if column not in rounds:
            return "-"
        found = sorted({str(v) for v in rounds[column].dropna().unique()})
        if len(found) > 4:
            return f"{len(found)} different"
        return ", ".join(found) or "-"

    runs = rounds["run_id"].nunique() if "run_id" in rounds else 0
    pythons = ", ".join(labels.values()) or "-"
    # a cgroup quota limits the cores' worth the CPUs can give (docs/measurement.md)
    quota = values("cpu_quota")
    quota = f" under a CPU quota of {text(quota)} cores" if quota != "-" else ""
    return (
        '<p class="meta">'
        f"<b>{len(rounds)}</b> rounds from <b>{runs}</b> run(s) ({text(values('run_id'))}) · "
        f"Python <b>{text(pythons)}</b> · host <b>{text(values('host'))}</b> · "
        f"<b>{text(values('usable_cpus'))}</b> usable CPUs of {text(values('logical_cpus'))}"
        f"{quota} · "
        f"{text(values('cpu_model'))} · generated {text(when)}</p>"
    )


def _footer() -> str:
    return (
        "<footer>Wall median over measured rounds (warm-up and failed rounds left out). "
        "Median CI: distribution-free interval from order statistics, at the confidence the "
        "number of rounds allows. Spread: interquartile range / median. Cores: CPU seconds of "
        "the whole process tree / wall. Speedup: baseline median / median; the dashed grey "
        "line is ideal scaling, dotted lines are Amdahl's law fitted by least squares on "
        "1/speedup. Comparisons: one-sided Mann-Whitney U tests (scipy). Generated by "
        "pytest-concur; this page has no scripts and loads nothing from the network.</footer>"
    )
