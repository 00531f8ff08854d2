"""One section per experiment of the HTML page (charts, fits, numbers), and the versions section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _format as fmt
from .._rounds.variant import variant_label
from .._stats.amdahl import fit_amdahl
from .html_common import Context, badge, html_table
from .html_timelines import timelines
from .rows import records, summary_tables
from .svg import (
    PALETTE,
    Bar,
    Series,
    bar_chart,
    line_chart,
    model_colour,
    text,
)


#: Above this many tasks in one round the Gantt chart shows the first ones only.
def versions_section(context: Context) -> str:
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
            name = variant_label(line["model"], line["workers"])
            python = str(line["python"])
            bars_by_variant.setdefault(name, []).append(
                Bar(
                    name=labels.get(python, python),
                    value=float(line["wall_median_s"]),
                    colour=colours.get(python, PALETTE[0]),
                    low=float(line["wall_ci_low_s"]),
                    high=float(line["wall_ci_high_s"]),
                    tip=f"{name} on {labels.get(python, python)}: median "
                    f"{fmt.seconds(float(line['wall_median_s']))} ({line['rounds']} rounds)",
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
                text(variant_label(r["model"], r["workers"])),
                text(labels.get(str(r["candidate"]), str(r["candidate"]))),
                fmt.seconds(float(r["baseline_median"])),
                fmt.seconds(float(r["candidate_median"])),
                fmt.change(r["ratio"]),
                fmt.p_value(r["p_slower"]),
                fmt.p_value(r["p_faster"]),
                badge(r["change"]),
            ]
            for r in records(table)
        ]
        base = text(labels.get(context.pythons[0], context.pythons[0]))
        parts.append(
            "<h3>Change against "
            + base
            + "</h3>"
            + html_table(
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


def experiment_section(context: Context, experiment: str, params: str, group: pd.DataFrame) -> str:
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
    parts.append(timelines(context, mine))
    parts.append("</section>")
    return "".join(parts)


def _speedup_charts(context: Context, title: str, group: pd.DataFrame) -> list[str]:
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
                f"{variant_label(model, w)}: speedup {fmt.speedup(s)}, median {fmt.seconds(m)}"
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


def _amdahl_table(context: Context, group: pd.DataFrame) -> str:
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
        rows.append(
            [
                *python,
                text(values[-1]),
                fmt.fraction(fit.parallel_fraction),
                fmt.ceiling(fit.ceiling),
                fmt.speedup(lines["speedup"].max()),
                ", ".join(str(int(w)) for w in sorted(lines["workers"].unique())),
            ]
        )
    if not rows:
        return ""
    header = [*(["python"] if by_python else []), "model", "parallel fraction", "ceiling",
              "best seen", "workers"]  # fmt: skip
    return (
        '<div class="side"><h3>Scaling fit (Amdahl)</h3>'
        + html_table(header, rows, left=2 if by_python else 1)
        + '<p class="sub">Least squares on 1/speedup = (1 - p) + p/n, p held in 0..1; '
        "ceiling = 1/(1 - p), the speedup no number of workers can pass. Dotted lines in "
        "the chart.</p></div>"
    )


def _summary_table(context: Context, group: pd.DataFrame) -> str:
    """The numbers of one experiment: the summary rows every report shows, as HTML."""
    by = ["python"] if "python" in group and len(context.pythons) > 1 else []
    (table,) = summary_tables(group, by)
    models = [str(m) for m in dict.fromkeys(group["model"].astype(str))]
    rows: list[list[str]] = []
    for line in table.lines:
        colour = model_colour(line.model, models.index(line.model))
        label = f'<span class="swatch" style="background:{colour}"></span>{text(line.variant)}'
        cells = [text(cell) for cell in line.cells]
        if line.failed:
            cells[1] = '<span class="v v-refuted">failed</span>'
        keys = [text(context.labels.get(key, key)) for key in line.keys]
        rows.append([*keys, label, *cells])
    html = "<h3>Numbers</h3>" + html_table([text(h) for h in table.header], rows, left=len(by) + 1)
    return html + "".join(f'<p class="warn">⚠ {text(note)}</p>' for note in table.notes)
