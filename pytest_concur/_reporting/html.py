"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no fonts).

A pure function from frames to a string. Every string that comes from results (test
ids, parameters, errors, host names) passes through ``html.escape``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from .._stats.amdahl import fit_amdahl
from .compare import records
from .svg import (
    PALETTE,
    Bar,
    Cell,
    Series,
    Span,
    bar_chart,
    gantt,
    heat_strips,
    line_chart,
    model_colour,
    seconds_label,
    text,
)

#: Above this many tasks in one round the Gantt chart shows the first ones only.
MAX_TASKS: Final = 2000
#: Above this many samples per core the heat strip averages neighbours.
MAX_CELLS: Final = 600
_DASHES: Final = (None, "6 3", "2 3", "8 3 2 3")

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


# ---------------------------------------------------------------------------- helpers


def _seconds(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.0f} us"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.3f} s"


def _fmt(value: Any, spec: str, suffix: str = "") -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(number) else format(number, spec) + suffix


def _variant(model: object, workers: object) -> str:
    return str(model) if str(model) == "serial" else f"{model}-{workers}"


def _present(value: object) -> bool:
    return not (value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)))


def _pick(frame: pd.DataFrame, *names: str) -> str | None:
    """The first of ``names`` that is a column of ``frame``."""
    return next((name for name in names if name in frame.columns), None)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1) -> str:
    """An HTML table; cells are already-escaped HTML (the caller escapes raw text)."""
    head = "".join(
        f'<th class="{"l" if i < left else ""}">{cell}</th>' for i, cell in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"l" if i < left else ""}">{cell}</td>' for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _badge(value: object) -> str:
    word = str(value).strip().lower()
    known = {
        "confirmed",
        "refuted",
        "inconclusive",
        "faster",
        "slower",
        "no change",
        "too few rounds",
    }
    css = f"v-{word.replace(' ', '-')}" if word in known else "v-other"
    return f'<span class="v {css}">{text(value)}</span>'


def _python_labels(rounds: pd.DataFrame) -> dict[str, str]:
    """Python version -> label with its GIL state, e.g. ``3.13.5t (GIL off)``."""
    labels: dict[str, str] = {}
    if "python" not in rounds:
        return labels
    for version, group in rounds.groupby("python", observed=True):
        states = (
            set(group["gil_enabled"].dropna().astype(bool)) if "gil_enabled" in group else set()
        )
        gil = {frozenset({False}): " (GIL off)", frozenset({True, False}): " (GIL on and off)"}
        labels[str(version)] = str(version) + gil.get(frozenset(states), "")
    return labels


# ---------------------------------------------------------------------------- page


@dataclass(frozen=True, slots=True)
class _Context:
    rounds: pd.DataFrame
    summary: pd.DataFrame
    tasks: pd.DataFrame
    cores: pd.DataFrame
    pythons: list[str]
    labels: dict[str, str]
    chosen_round: int | None


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
    context = _Context(
        rounds=rounds,
        summary=summary,
        tasks=tasks if tasks is not None else pd.DataFrame(),
        cores=cores if cores is not None else pd.DataFrame(),
        pythons=pythons,
        labels=_python_labels(rounds),
        chosen_round=chosen_round,
    )
    sections: list[tuple[str, str, str]] = []  # (anchor, nav label, html)
    sections.append(("claims", "Claims and verdicts", _claims(verdicts)))
    from .._advice.lines import decisions_html  # the variant to use, why (docs/decisions.md)

    sections.append(("decisions", "Decisions", decisions_html(rounds, tasks)))
    if len(pythons) > 1:
        sections.append(("versions", "Across Python versions", _versions(context)))
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
                (f"exp-{index}", name, _experiment(context, str(experiment), str(params), group))
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
    return (
        '<p class="meta">'
        f"<b>{len(rounds)}</b> rounds from <b>{runs}</b> run(s) ({text(values('run_id'))}) · "
        f"Python <b>{text(pythons)}</b> · host <b>{text(values('host'))}</b> · "
        f"<b>{text(values('usable_cpus'))}</b> usable CPUs of {text(values('logical_cpus'))} · "
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


# ---------------------------------------------------------------------------- sections


def _claims(verdicts: pd.DataFrame | None) -> str:
    head = '<section class="card"><h2>Claims and verdicts</h2>'
    if verdicts is None or verdicts.empty:
        return (
            head + '<p class="note">No verdicts are stored with these results. Experiments '
            "that state a claim (<code>claim=</code> and <code>expect=[...]</code> in the "
            "marker) store their verdicts in <code>&lt;run_id&gt;.verdicts.parquet</code>.</p>"
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
    tally = " · ".join(f"{_badge(k)} {v}" for k, v in counts.items())
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
                    _badge(row.get("status", "")),
                    text(row.get("reason", "") if _present(row.get("reason")) else ""),
                    _fmt(row.get("p_value"), ".3g"),
                ]
            )
        parts.append(
            '<p class="statuses">'
            + " ".join(f"{text(where)}: {_badge(status)}" for where, status in overall.items())
            + "</p>"
        )
        table = _table(["interpreter", "expectation", "verdict", "why", "p"], table_rows, left=4)
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
    rows = [[text(v) if _present(v) else "" for v in row.values()] for row in records(frame)]
    return _table([text(c) for c in columns], rows, left=len(columns))


def _versions(context: _Context) -> str:
    from ..analysis import compare

    labels = context.labels
    parts = [
        '<section class="card"><h2>Across Python versions</h2><p class="sub">Median wall time '
        "per variant on each interpreter, with the median's confidence interval; the table "
        f"compares every version against {text(labels.get(context.pythons[0], context.pythons[0]))}"
        ".</p>"
    ]
    summary = context.summary
    colours = {python: PALETTE[i % len(PALETTE)] for i, python in enumerate(context.pythons)}
    legend = [(labels.get(p, p), colours[p]) for p in context.pythons]
    for (experiment, params), group in summary.groupby(
        ["experiment", "params"], sort=False, observed=True
    ):
        bars_by_variant: dict[str, list[Bar]] = {}
        for line in records(group):
            if line["rounds"] == 0:
                continue
            name = _variant(line["model"], line["workers"])
            python = str(line["python"])
            bars_by_variant.setdefault(name, []).append(
                Bar(
                    name=labels.get(python, python),
                    value=float(line["wall_median_s"]),
                    colour=colours.get(python, PALETTE[0]),
                    low=float(line["wall_ci_low_s"]),
                    high=float(line["wall_ci_high_s"]),
                    tip=f"{name} on {labels.get(python, python)}: median "
                    f"{_seconds(float(line['wall_median_s']))} ({line['rounds']} rounds)",
                )
            )
        title = str(experiment) + (f" [{params}]" if params else "")
        per_group = max(84.0, 26.0 * len(legend))
        width = max(520.0, min(1120.0, 300 + per_group * len(bars_by_variant)))
        parts.append(f"<h3>{text(title)}</h3><figure>")
        parts.append(
            bar_chart(
                list(bars_by_variant.items()),
                title=f"median wall time: {title}",
                y_label="median wall time",
                legend=legend,
                width=width,
                height=320,
            )
        )
        parts.append(
            "<figcaption>bars: median wall time; whiskers: confidence interval of "
            "the median</figcaption></figure>"
        )
    table = compare(context.rounds, "python", baseline=context.pythons[0])
    if not table.empty:
        rows = [
            [
                text(
                    str(r["experiment"]).split("::")[-1]
                    + (f" [{r['params']}]" if r["params"] else "")
                ),
                text(_variant(r["model"], r["workers"])),
                text(labels.get(str(r["candidate"]), str(r["candidate"]))),
                _seconds(float(r["baseline_median"])),
                _seconds(float(r["candidate_median"])),
                _fmt((float(r["ratio"]) - 1) * 100, "+.1f", "%"),
                _fmt(r["p_slower"], ".3g"),
                _fmt(r["p_faster"], ".3g"),
                _badge(r["change"]),
            ]
            for r in records(table)
        ]
        base = text(labels.get(context.pythons[0], context.pythons[0]))
        parts.append(
            "<h3>Change against "
            + base
            + "</h3>"
            + _table(
                [
                    "experiment",
                    "variant",
                    "python",
                    base,
                    "this python",
                    "change",
                    "p(slower)",
                    "p(faster)",
                    "verdict",
                ],
                rows,
                left=3,
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _experiment(context: _Context, experiment: str, params: str, group: pd.DataFrame) -> str:
    workload = str(group["workload"].iloc[0]) if "workload" in group else ""
    rows = context.rounds
    mine = rows[(rows["experiment"] == experiment)]
    if "params" in rows:
        mine = mine[mine["params"].astype(object).where(mine["params"].notna(), "") == params]
    title = experiment + (f" [{params}]" if params else "")
    parts = [
        f'<section class="card"><h2>{text(title)}<span class="badge">{text(workload)}</span></h2>'
    ]
    baseline_name = next((str(b) for b in group.get("baseline", pd.Series()).dropna()), None)
    parts.append(
        '<p class="sub">'
        + (
            f"speedup against <b>{text(baseline_name)}</b>"
            if baseline_name
            else "no baseline variant ran: speedups cannot be computed"
        )
        + f" · {len(mine)} rounds stored</p>"
    )
    parts.append('<div class="grid">')
    parts.extend(_speedup_charts(context, title, group))
    parts.append(_amdahl_table(context, group))
    parts.append("</div>")
    parts.append(
        '<p class="sub">Speedup by worker count. Dashed grey: ideal (speedup = workers); '
        "dotted: Amdahl's law fitted to each model.</p>"
    )
    parts.append(_summary_table(context, group))
    parts.append(_timelines(context, mine))
    parts.append("</section>")
    return "".join(parts)


def _speedup_charts(context: _Context, title: str, group: pd.DataFrame) -> list[str]:
    """Speedup against workers, one chart per Python version (same scales), as figures."""
    usable = group[group["speedup"].notna() & (group["rounds"] > 0)]
    if usable.empty:
        return []
    by_python = "python" in usable and len(context.pythons) > 1
    max_workers = float(usable["workers"].max())
    top = max(max_workers, float(usable["speedup"].max())) * 1.05
    counts = [float(c) for c in sorted({int(w) for w in usable["workers"]} | {1})]
    models = [str(m) for m in dict.fromkeys(group["model"].astype(str))]
    charts = usable.groupby("python", sort=False, observed=True) if by_python else [("", usable)]
    ordered = sorted(
        charts, key=lambda item: context.pythons.index(str(item[0])) if by_python else 0
    )
    figures: list[str] = []
    for python, lines_of_python in ordered:
        series: list[Series] = [
            Series("ideal", [(1.0, 1.0), (max_workers, max_workers)], "#9ca3af", dash="6 4",
                   markers=False, width=1.5)
        ]  # fmt: skip
        fits: list[Series] = []
        for model, lines in lines_of_python.groupby("model", sort=False, observed=True):
            model = str(model)
            colour = model_colour(model, models.index(model))
            lines = lines.sort_values("workers")
            workers = lines["workers"].astype(float).tolist()
            speedups = lines["speedup"].astype(float).tolist()
            tips = [
                f"{_variant(model, int(w))}: speedup {s:.2f}x, median {_seconds(m)}"
                for w, s, m in zip(workers, speedups, lines["wall_median_s"], strict=True)
            ]
            series.append(
                Series(model, list(zip(workers, speedups, strict=True)), colour, tips=tips)
            )
            fit = fit_amdahl(workers, speedups) if len(set(workers)) >= 2 else None
            if fit is not None:
                xs = np.linspace(1.0, max_workers, 24)
                fits.append(
                    Series(f"Amdahl {model}", [(float(x), fit.predict(float(x))) for x in xs],
                           colour, dash="1 3", markers=False, width=1.4, in_legend=False)
                )  # fmt: skip
        label = context.labels.get(str(python), str(python)) if by_python else ""
        chart = line_chart(
            [*series, *fits],
            title=f"speedup: {title}" + (f" on Python {label}" if label else ""),
            x_label="workers",
            y_label="speedup (x)",
            x_ticks=counts,
            y_max=top,
            width=500 if by_python else 580,
            height=300,
        )
        heading = f'<p class="chart-title">Python {text(label)}</p>' if by_python else ""
        figures.append(f"<figure>{heading}{chart}</figure>")
    return figures


def _amdahl_table(context: _Context, group: pd.DataFrame) -> str:
    """Parallel fraction and ceiling per model (and Python) where several worker counts ran."""
    by_python = "python" in group and len(context.pythons) > 1
    rows: list[list[str]] = []
    usable = group[group["speedup"].notna() & (group["rounds"] > 0) & (group["model"] != "serial")]
    keys = ["python", "model"] if by_python else ["model"]
    for key, lines in usable.groupby(keys, sort=False, observed=True):
        values = key if isinstance(key, tuple) else (key,)
        if lines["workers"].nunique() < 2:
            continue
        fit = fit_amdahl(lines["workers"].tolist(), lines["speedup"].tolist())
        if fit is None:
            continue
        python = [text(context.labels.get(str(values[0]), str(values[0])))] if by_python else []
        ceiling = "unbounded" if math.isinf(fit.ceiling) else f"{fit.ceiling:.2f}x"
        rows.append(
            [
                *python,
                text(values[-1]),
                f"{fit.parallel_fraction:.2f}",
                ceiling,
                f"{float(lines['speedup'].max()):.2f}x",
                ", ".join(str(int(w)) for w in sorted(lines["workers"].unique())),
            ]
        )
    if not rows:
        return ""
    header = [*(["python"] if by_python else []), "model", "parallel fraction", "ceiling",
              "best seen", "workers"]  # fmt: skip
    return (
        '<div class="side"><h3>Scaling fit (Amdahl)</h3>'
        + _table(header, rows, left=2 if by_python else 1)
        + '<p class="sub">Least squares on 1/speedup = (1 - p) + p/n, p held in 0..1; '
        "ceiling = 1/(1 - p), the speedup no number of workers can pass. Dotted lines in "
        "the chart.</p></div>"
    )


def _summary_table(context: _Context, group: pd.DataFrame) -> str:
    by_python = "python" in group and len(context.pythons) > 1
    header = [
        *(["python"] if by_python else []),
        "variant",
        "rounds",
        "wall median",
        "median CI",
        "spread",
        "cpu s",
        "cores",
        "util",
        "startup",
        "speedup",
        "effic.",
    ]
    rows: list[list[str]] = []
    notes: list[str] = []
    from .summary import warnings_for

    models = [str(m) for m in dict.fromkeys(group["model"].astype(str))]
    for _, line in group.iterrows():
        name = _variant(line["model"], line["workers"])
        colour = model_colour(str(line["model"]), models.index(str(line["model"])))
        label = f'<span class="swatch" style="background:{colour}"></span>{text(name)}'
        python = (
            [text(context.labels.get(str(line["python"]), str(line["python"])))]
            if by_python
            else []
        )
        if line["rounds"] == 0:
            rows.append(
                [
                    *python,
                    label,
                    "0",
                    '<span class="v v-refuted">failed</span>',
                    *[""] * (len(header) - len(python) - 3),
                ]
            )
            notes.append(f"{text(name)}: {text(line['error'])}")
            continue
        ci = (
            f"{_seconds(line['wall_ci_low_s'])} &ndash; {_seconds(line['wall_ci_high_s'])} "
            f"<small>({line['wall_ci_level']:.0%})</small>"
            if math.isfinite(line["wall_ci_low_s"])
            else "-"
        )
        rows.append(
            [
                *python,
                label,
                str(line["rounds"]),
                _seconds(line["wall_median_s"]),
                ci,
                _fmt(line["wall_rel_spread"] * 100, ".0f", "%"),
                _fmt(line["cpu_median_s"], ".3f"),
                _fmt(line["cores_used"], ".2f"),
                _fmt(line["utilization"] * 100, ".0f", "%"),
                _seconds(line["startup_median_s"]),
                _fmt(line["speedup"], ".2f", "x"),
                _fmt(line["efficiency"], ".2f"),
            ]
        )
        if line["failed"]:
            notes.append(
                f"{text(name)}: failed after {line['rounds']} round(s): {text(line['error'])}"
            )
        notes.extend(f"{text(name)}: {text(note)}" for note in warnings_for(line))
    html = "<h3>Numbers</h3>" + _table(header, rows, left=len(python) + 1 if by_python else 1)
    return html + "".join(f'<p class="warn">⚠ {note}</p>' for note in notes)


# ---------------------------------------------------------------------------- timelines


def _round_to_show(rounds: pd.DataFrame, chosen: int | None) -> tuple[Any, int, str] | None:
    """(run_id, round, why) for one variant's rounds: the chosen one or the median one."""
    measured = rounds[
        (~rounds["warmup"].astype("boolean").fillna(False).astype(bool))
        & (rounds["outcome"].astype(str) == "passed")
    ]
    if measured.empty:
        return None
    run = sorted(measured["run_id"].astype(str).unique())[-1] if "run_id" in measured else None
    mine = measured[measured["run_id"].astype(str) == run] if run is not None else measured
    if chosen is not None:
        hit = rounds[(rounds["round"] == chosen)]
        if run is not None:
            hit = hit[hit["run_id"].astype(str) == run]
        if hit.empty:
            return None
        return run, chosen, f"round {chosen} (chosen)"
    walls = mine["wall_s"].astype(float)
    ordered = mine.assign(_wall=walls).sort_values(["_wall", "round"])
    middle = ordered.iloc[(len(ordered) - 1) // 2]
    return (
        run,
        int(middle["round"]),
        (
            f"round {int(middle['round'])}, the median of {len(ordered)} measured rounds "
            f"(wall {_seconds(float(middle['wall_s']))})"
        ),
    )


def _timelines(context: _Context, rounds: pd.DataFrame) -> str:
    tasks, cores = context.tasks, context.cores
    if tasks.empty and cores.empty:
        return (
            '<h3>Timelines</h3><p class="note">No task or core timelines are stored with these '
            "results (they come from the companion tables <code>&lt;run_id&gt;.tasks.parquet"
            "</code> and <code>&lt;run_id&gt;.cores.parquet</code>).</p>"
        )
    parts = [
        "<h3>Timelines of one round per variant</h3>"
        '<p class="sub">Top: one lane per worker, one bar per task from its start to its end; '
        "a bar's shade is the share of that time the task spent on a CPU (solid: computing "
        "all along, pale: waiting, or waiting for its turn). Bars that overlap in time on "
        "different lanes ran at the same time, in parallel only where they are solid and the "
        "cores below were busy at once; bars stacked inside one lane took turns on one "
        "worker: concurrency without parallelism. Bottom: busy fraction of every CPU of the "
        "machine (all processes, not only this test). Hover for the numbers.</p>"
    ]
    shown = 0
    # open the most parallel variant of each model (per Python); the rest start folded
    widest = rounds.groupby(["model", "python"] if "python" in rounds else ["model"],
                            observed=True)["workers"].transform("max")  # fmt: skip
    opened_ids = set(rounds.loc[(rounds["workers"] == widest) & (rounds["model"] != "serial"),
                                "test_id"].astype(str))  # fmt: skip
    # one variant per interpreter: the same test id ran on every Python of the results
    keys = ["test_id", "python"] if "python" in rounds and len(context.pythons) > 1 else ["test_id"]
    for key, variant_rounds in rounds.groupby(keys, sort=False, observed=True):
        test_id = key[0] if isinstance(key, tuple) else key
        choice = _round_to_show(variant_rounds, context.chosen_round)
        first = variant_rounds.iloc[0]
        name = _variant(first["model"], first["workers"])
        python = context.labels.get(str(first.get("python")), str(first.get("python")))
        if len(context.pythons) > 1:
            name += f" · {python}"
        if choice is None:
            continue
        run_id, round_index, why = choice
        wall = _round_wall(variant_rounds, run_id, round_index)
        task_lanes = _task_lanes(tasks, str(test_id), run_id, round_index, str(first["model"]))
        core_lanes = _core_lanes(cores, str(test_id), run_id, round_index)
        if task_lanes is None and core_lanes is None:
            continue
        ends = [wall if math.isfinite(wall) else 0.0]
        ends.extend(
            span.end for _, spans in (task_lanes.lanes if task_lanes else []) for span in spans
        )
        ends.extend(cell.end for _, cells in (core_lanes or []) for cell in cells)
        span_s = max(ends)
        names = [name for name, _ in (task_lanes.lanes if task_lanes else [])]
        names += [name for name, _ in (core_lanes or [])]
        label_width = min(240.0, 20 + 6.8 * max(map(len, names), default=6))
        body = []
        if task_lanes is not None:
            chart = gantt(
                task_lanes.lanes,
                title=f"tasks by worker, {test_id}",
                span_s=span_s,
                label_width=label_width,
            )
            body.append(
                f"<figure>{chart}<figcaption>{text(task_lanes.caption)}</figcaption></figure>"
            )
        else:
            body.append('<p class="note">No task timeline for this round.</p>')
        if core_lanes is not None:
            chart = heat_strips(
                core_lanes,
                title=f"per-core utilisation, {test_id}",
                span_s=span_s,
                label_width=label_width,
            )
            body.append(f"<figure>{chart}</figure>")
        else:
            body.append('<p class="note">No per-core samples for this round.</p>')
        opened = " open" if str(test_id) in opened_ids else ""
        parts.append(
            f'<details{opened}><summary>{text(name)} <span class="sub">— {text(why)}'
            f"</span></summary>" + "".join(body) + "</details>"
        )
        shown += 1
    if shown == 0:
        parts.append('<p class="note">No timeline rows match the rounds of this experiment.</p>')
    return "".join(parts)


def _round_wall(rounds: pd.DataFrame, run_id: Any, round_index: int) -> float:
    hit = rounds[rounds["round"] == round_index]
    if run_id is not None and "run_id" in hit:
        hit = hit[hit["run_id"].astype(str) == run_id]
    return float(hit["wall_s"].iloc[0]) if len(hit) else math.nan


def _select(frame: pd.DataFrame, test_id: str, run_id: Any, round_index: int) -> pd.DataFrame:
    if frame.empty or "test_id" not in frame or "round" not in frame:
        return frame.iloc[0:0]
    chosen = frame[(frame["test_id"].astype(str) == test_id) & (frame["round"] == round_index)]
    if run_id is not None and "run_id" in chosen:
        chosen = chosen[chosen["run_id"].astype(str) == run_id]
    return chosen


@dataclass(frozen=True, slots=True)
class _TaskLanes:
    lanes: list[tuple[str, list[Span]]]
    caption: str


def _task_lanes(
    tasks: pd.DataFrame, test_id: str, run_id: Any, round_index: int, model: str
) -> _TaskLanes | None:
    """The tasks of one round as Gantt lanes, one per worker; None when there are none."""
    chosen = _select(tasks, test_id, run_id, round_index)
    start = _pick(chosen, "start_s", "started_s", "start", "begin_s")
    end = _pick(chosen, "end_s", "ended_s", "end", "stop_s")
    if chosen.empty or start is None or end is None:
        return None
    chosen = chosen.sort_values(start)
    total = len(chosen)
    chosen = chosen.iloc[:MAX_TASKS]
    lane_names = _lane_names(chosen)
    maps = "map_index" in chosen and chosen["map_index"].nunique() > 1
    lanes: dict[str, list[Span]] = {}
    for position, (lane, row) in enumerate(zip(lane_names, records(chosen), strict=True)):
        begin, finish = float(row[start]), float(row[end])
        number = row.get("task", position)
        cpu: Any = row.get("cpu_s")
        busy = float(cpu) / (finish - begin) if _present(cpu) and finish > begin else None
        cpu_text = f", CPU {_seconds(float(cpu))}" if _present(cpu) else ""
        cpu_text += f", {busy:.0%} of it on a CPU" if busy is not None else ""
        map_text = f"map {row['map_index']}, " if maps else ""
        colour = PALETTE[int(row["map_index"]) % len(PALETTE)] if maps else model_colour(model)
        tip = (
            f"{map_text}task {number} on {lane}: {seconds_label(round(begin, 6))} to "
            f"{seconds_label(round(finish, 6))} ({_seconds(finish - begin)}{cpu_text})"
        )
        lanes.setdefault(lane, []).append(Span(begin, finish, colour, tip, busy))
    caption = f"{total} tasks on {len(lanes)} worker(s)"
    if total > MAX_TASKS:
        caption += f"; the chart shows the first {MAX_TASKS} to start"
    if maps:
        caption += "; one colour per concur.map call"
    ordered = sorted(lanes.items(), key=lambda item: _lane_order(item[0]))
    return _TaskLanes(ordered, caption)


def _lane_order(name: str) -> tuple[Any, ...]:
    from ..analysis import natural_key

    return natural_key(name)


def _lane_names(tasks: pd.DataFrame) -> list[str]:
    """A readable worker name per task: ``worker`` if stored, else host, process, thread.

    Host and interpreter are named only where they differ between tasks of the round.
    """
    if "worker" in tasks:
        return [str(v) for v in tasks["worker"]]
    fields: list[tuple[str, str]] = []
    for column, label in (
        ("host", "{}"),
        ("pid", "pid {}"),
        ("interpreter_id", "interp {}"),
        ("thread_id", "thread {}"),
    ):
        if column not in tasks or tasks[column].isna().all():
            continue
        if column in ("host", "interpreter_id") and tasks[column].nunique(dropna=True) < 2:
            continue
        fields.append((column, label))
    names: list[str] = []
    for row in records(tasks[[c for c, _ in fields]]) if fields else [{}] * len(tasks):
        parts = [label.format(row[c]) for c, label in fields if _present(row[c])]
        names.append(" ".join(parts) or "worker")
    return names


def _core_lanes(
    cores: pd.DataFrame, test_id: str, run_id: Any, round_index: int
) -> list[tuple[str, list[Cell]]] | None:
    """Per-core busy samples of one round as heat-strip lanes; None when there are none."""
    chosen = _select(cores, test_id, run_id, round_index)
    core = _pick(chosen, "cpu", "core", "cpu_index")
    start = _pick(chosen, "t_s", "time_s", "offset_s", "start_s", "t0_s")
    end = _pick(chosen, "end_s", "t1_s", "until_s")
    value = _pick(chosen, "busy", "busy_fraction", "utilization", "util")
    if chosen.empty or core is None or start is None or value is None:
        return None
    lanes: list[tuple[str, list[Cell]]] = []
    for name, samples in sorted(
        chosen.groupby(core, observed=True), key=lambda item: _lane_order(str(item[0]))
    ):
        samples = samples.sort_values(start)
        starts = samples[start].astype(float).to_numpy()
        if end is not None:
            ends = samples[end].astype(float).to_numpy()
        else:
            step = float(np.median(np.diff(starts))) if len(starts) > 1 else 0.0
            ends = np.append(starts[1:], starts[-1] + step)
        busy = samples[value].astype(float).to_numpy()
        if value == "utilization" and np.nanmax(busy, initial=0) > 1.5:
            busy = busy / 100.0  # stored as percent
        cells = [
            Cell(float(a), float(b), float(v)) for a, b, v in zip(starts, ends, busy, strict=True)
        ]
        lanes.append((f"cpu {name}", _thin(cells)))
    return lanes


def _thin(cells: list[Cell]) -> list[Cell]:
    """At most MAX_CELLS cells per lane: neighbours averaged, weighted by their length."""
    if len(cells) <= MAX_CELLS:
        return cells
    size = math.ceil(len(cells) / MAX_CELLS)
    merged: list[Cell] = []
    for at in range(0, len(cells), size):
        chunk = cells[at : at + size]
        lengths = [max(c.end - c.start, 0.0) for c in chunk]
        total = sum(lengths)
        values = [c.value for c in chunk]
        mean = (
            sum(v * w for v, w in zip(values, lengths, strict=True)) / total
            if total > 0
            else float(np.mean(values))
        )
        merged.append(Cell(chunk[0].start, chunk[-1].end, mean))
    return merged
