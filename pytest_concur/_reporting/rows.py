"""The one builder of summary rows: per variant, the figures every report shows, as text.

The terminal report, ``pytest-concur report`` and the HTML page lay out what
:func:`summary_tables` builds and add nothing of their own, so a median, a spread, a
speedup or a variant label reads the same in all three. The statistics come from
``analysis.summarize``; the text of each figure from :mod:`.format`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from .. import _format as fmt
from .._rounds.variant import variant_label
from .._stats.summary import warnings_for

#: The columns of a summary table after the ``by`` keys (first: the variant label).
SUMMARY_HEADER: Final = (
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
)
#: What the columns mean, under every rendering of the table.
SUMMARY_LEGEND: Final = (
    "wall median over measured rounds (warm-up and failed rounds left out); median CI = "
    "distribution-free interval for the median (order statistics) at the confidence the "
    "number of rounds allows; spread = interquartile range / median; cores = CPU seconds "
    "of the process tree / wall; util = cores / usable CPUs; speedup = baseline median / "
    "median; effic. = speedup per worker"
)


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """One variant: its ``by`` keys, label and cells (all text, control characters escaped)."""

    keys: tuple[str, ...]
    model: str
    variant: str
    #: no round of the variant was measured: the cells after ``rounds`` are empty
    failed: bool
    cells: tuple[str, ...]  # the columns of SUMMARY_HEADER after "variant"

    @property
    def row(self) -> tuple[str, ...]:
        return (*self.keys, self.variant, *self.cells)


@dataclass(frozen=True, slots=True)
class SummaryTable:
    """The variants of one experiment and parameter set, and what to note about them."""

    experiment: str
    params: str
    title: str
    workload: str
    by: tuple[str, ...]
    lines: tuple[SummaryLine, ...]
    notes: tuple[str, ...]

    @property
    def header(self) -> tuple[str, ...]:
        return (*self.by, *SUMMARY_HEADER)

    @property
    def rows(self) -> list[tuple[str, ...]]:
        """Header and one row per variant, ready for an aligned or Markdown table."""
        return [self.header, *(line.row for line in self.lines)]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts keyed by column name (for display code that reads a few fields)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def experiment_title(experiment: object, params: object) -> str:
    """``test_x.py::test_pi [n=3]``: an experiment and its parameters, as one title."""
    text = fmt.escape(experiment)
    return text + (f" [{fmt.escape(params)}]" if isinstance(params, str) and params else "")


def summary_line(line: pd.Series, by: Sequence[str] = ()) -> tuple[SummaryLine, list[str]]:
    """One row of ``analysis.summarize`` as a display line, and its notes."""
    keys = tuple(fmt.escape(line[name]) for name in by)
    model = str(line["model"])
    variant = fmt.escape(variant_label(model, line["workers"]))
    label = " ".join([*keys, variant])
    rounds = int(line["rounds"])
    if rounds == 0:
        cells = ("0", "FAILED", *[""] * (len(SUMMARY_HEADER) - 3))
        return SummaryLine(keys, model, variant, True, cells), [
            f"{label}: {fmt.escape(line['error'])}"
        ]
    cells = (
        str(rounds),
        fmt.seconds(line["wall_median_s"]),
        fmt.interval(
            line.get("wall_ci_low_s"), line.get("wall_ci_high_s"), line.get("wall_ci_level")
        ),
        fmt.spread(line["wall_rel_spread"]),
        fmt.cpu_seconds(line["cpu_median_s"]),
        fmt.cores(line["cores_used"]),
        fmt.percent(line["utilization"]),
        fmt.seconds(line["startup_median_s"]),
        fmt.speedup(line["speedup"]),
        fmt.efficiency(line["efficiency"]),
    )
    notes: list[str] = []
    if line["failed"]:
        notes.append(f"{label}: failed after {rounds} round(s): {fmt.escape(line['error'])}")
    notes.extend(f"{label}: {note}" for note in warnings_for(line))
    return SummaryLine(keys, model, variant, False, cells), notes


def summary_tables(summary: pd.DataFrame, by: Sequence[str] = ()) -> list[SummaryTable]:
    """One table per experiment and parameter set of ``analysis.summarize``'s frame."""
    tables: list[SummaryTable] = []
    if summary.empty:
        return tables
    for (experiment, params), group in summary.groupby(
        ["experiment", "params"], sort=False, observed=True
    ):
        lines: list[SummaryLine] = []
        notes: list[str] = []
        for _, row in group.iterrows():
            line, line_notes = summary_line(row, by)
            lines.append(line)
            notes.extend(line_notes)
        params_text = params if isinstance(params, str) else ""
        tables.append(
            SummaryTable(
                experiment=str(experiment),
                params=params_text,
                title=experiment_title(experiment, params_text),
                workload=fmt.escape(group["workload"].iloc[0]),
                by=tuple(by),
                lines=tuple(lines),
                notes=tuple(notes),
            )
        )
    return tables
