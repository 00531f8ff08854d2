"""The terminal report: pure functions from rows to lines; the plugin writes them."""

from __future__ import annotations

import pandas as pd

from .summary import summarize_rounds, warnings_for

_HEADERS = (
    "model",
    "workers",
    "rounds",
    "wall median",
    "spread",
    "cpu s",
    "cores",
    "util",
    "startup",
    "speedup",
    "effic.",
)


def _seconds(value: float) -> str:
    if pd.isna(value):  # NaN, or pd.NA from the nullable columns that load() returns
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.0f} us"
    if value < 1.0:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.3f} s"


def _number(value: float, fmt: str) -> str:
    return "-" if pd.isna(value) else format(value, fmt)


def _escape(text: str) -> str:
    """Control characters from test ids and errors must not drive the terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _table(lines: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[col]) for row in lines) for col in range(len(lines[0]))]
    out = []
    for row in lines:
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def report_lines(rows: pd.DataFrame) -> list[str]:
    """One table per experiment and parameter set, followed by its warnings."""
    summary = summarize_rounds(rows)
    if summary.empty:
        return ["no concur rounds were measured"]
    out: list[str] = []
    for (experiment, params), group in summary.groupby(["experiment", "params"], sort=False):
        title = _escape(str(experiment)) + (f" [{_escape(str(params))}]" if params else "")
        workload = group["workload"].iloc[0]
        out.append(f"{title}  (workload: {workload})")
        table: list[tuple[str, ...]] = [_HEADERS]
        notes: list[str] = []
        for _, line in group.iterrows():
            name = f"{line['model']}"
            if line["rounds"] == 0:
                table.append(
                    (name, str(line["workers"]), "0", "FAILED", "", "", "", "", "", "", "")
                )
                notes.append(f"{name}-{line['workers']}: {_escape(str(line['error']))}")
                continue
            table.append(
                (
                    name,
                    str(line["workers"]),
                    str(line["rounds"]),
                    _seconds(line["wall_median_s"]),
                    "±" + _number(line["wall_rel_spread"] / 2 * 100, ".0f") + "%",
                    _number(line["cpu_median_s"], ".3f"),
                    _number(line["cores_used"], ".2f"),
                    _number(line["utilization"] * 100, ".0f") + "%",
                    _seconds(line["startup_median_s"]),
                    _number(line["speedup"], ".2f")
                    + ("x" if not pd.isna(line["speedup"]) else ""),
                    _number(line["efficiency"], ".2f"),
                )
            )
            if line["failed"]:
                notes.append(
                    f"{name}-{line['workers']}: failed after {line['rounds']} round(s): "
                    f"{_escape(str(line['error']))}"
                )
            notes.extend(f"{name}-{line['workers']}: {note}" for note in warnings_for(line))
        out.extend("  " + text for text in _table(table))
        out.extend(f"  ! {note}" for note in notes)
        out.append("")
    out.append(
        "wall median over measured rounds, spread = half the interquartile range; cores = CPU "
        "seconds of the process tree / wall; util = cores / usable CPUs; speedup = serial "
        "median / median; effic. = speedup / workers"
    )
    return out
