"""SVG timelines: a Gantt chart of tasks by worker and heat strips of busy cores."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .. import _format as fmt
from .svg import _GRID, _axes, _clip, _Frame, _num, _open, nice_ticks, text


@dataclass(frozen=True, slots=True)
class Span:
    """One task on a Gantt lane, in seconds from the start of the round."""

    start: float
    end: float
    colour: str
    tip: str
    #: share of the task's time spent on a CPU (0..1), drawn as the bar's opacity; None: full
    busy: float | None = None


def pack(spans: Sequence[Span], limit: int = 16) -> list[list[Span]]:
    """Spans in rows where none overlap (greedy, by start), at most ``limit`` rows.

    Tasks that overlap in time on one worker (coroutines on one thread) get rows of
    their own, so their concurrency shows; past ``limit`` rows the extra spans join
    the row that frees up first and overlap there.
    """
    rows: list[list[Span]] = []
    ends: list[float] = []
    for item in sorted(spans, key=lambda s: (s.start, s.end)):
        free = next((i for i, end in enumerate(ends) if end <= item.start), None)
        if free is None and len(rows) < limit:
            rows.append([])
            ends.append(-math.inf)
            free = len(rows) - 1
        if free is None:
            free = min(range(len(ends)), key=ends.__getitem__)
        rows[free].append(item)
        ends[free] = max(ends[free], item.end)
    return rows


def _opacity(busy: float | None) -> str:
    """Bars of tasks that mostly waited are pale, tasks that computed all along solid."""
    if busy is None or not math.isfinite(busy):
        return "0.85"
    return f"{0.2 + 0.75 * min(max(busy, 0.0), 1.0):.2f}"


def gantt(
    lanes: Sequence[tuple[str, Sequence[Span]]],
    *,
    title: str,
    span_s: float,
    width: float = 720,
    lane_height: float = 18,
    max_stack: int = 16,
    label_width: float = 150,
) -> str:
    """One horizontal lane per worker, one bar per task: who ran what, when.

    Tasks that overlap on one worker are stacked inside its lane (see :func:`pack`).
    """
    packed = [(name, pack(spans, max_stack)) for name, spans in lanes]
    heights = [lane_height if len(rows) <= 1 else min(4.0 * len(rows) + 8, 72.0)
               for _, rows in packed]  # fmt: skip
    top, bottom_room = 8.0, 40.0
    plot_height = sum(heights) or lane_height
    height = top + plot_height + bottom_room
    xt = nice_ticks(0.0, span_s if span_s > 0 else 1.0)
    frame = _Frame(label_width, top, width - label_width - 30, plot_height, 0.0, xt[-1], 0.0, 1.0)
    parts = _open(width, height, title, "chart gantt")
    parts.extend(_axes(frame, xt, [], "time in the round", "", x_is_seconds=True))
    y = top
    for index, ((name, rows), lane) in enumerate(zip(packed, heights, strict=True)):
        parts.append(f'<g class="lane" data-name="{text(name)}">')
        if index % 2:
            parts.append(
                f'<rect x="{_num(frame.left)}" y="{_num(y)}" width="{_num(frame.width)}" '
                f'height="{_num(lane)}" fill="#f3f4f6"/>'
            )
        parts.append(
            f'<text x="{_num(label_width - 8)}" y="{_num(y + lane / 2 + 4)}" '
            f'text-anchor="end">{text(_clip(name, int(label_width / 6.5)))}'
            f"<title>{text(name)}</title></text>"
        )
        row_height = (lane - 4) / max(len(rows), 1)
        for number, row in enumerate(rows):
            row_top = y + 2 + number * row_height
            gap = 0.5 if row_height > 3 else 0.0
            for item in row:
                x0 = frame.x(max(item.start, 0.0))
                x1 = frame.x(max(item.end, item.start))
                bar_height = max(row_height - 2 * gap, 0.8)
                parts.append(
                    f'<rect class="task" x="{_num(x0)}" y="{_num(row_top + gap)}" '
                    f'width="{_num(max(x1 - x0, 0.8))}" height="{_num(bar_height)}" '
                    f'rx="{1.5 if row_height > 6 else 0}" fill="{item.colour}" '
                    f'fill-opacity="{_opacity(item.busy)}" '
                    f'stroke="white" stroke-width="0.4"><title>{text(item.tip)}</title></rect>'
                )
        parts.append("</g>")
        y += lane
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Cell:
    """One sample of one lane of a heat strip: [start, end) seconds and a value in 0..1."""

    start: float
    end: float
    value: float


def heat_strips(
    lanes: Sequence[tuple[str, Sequence[Cell]]],
    *,
    title: str,
    span_s: float,
    width: float = 720,
    lane_height: float = 18,
    colour: str = "#0072b2",
    label_width: float = 150,
) -> str:
    """One strip per CPU core, darker where the core was busier; a scale below."""
    top = 8.0
    rows = max(len(lanes), 1)
    height = top + lane_height * rows + 66
    xt = nice_ticks(0.0, span_s if span_s > 0 else 1.0)
    frame = _Frame(
        label_width, top, width - label_width - 30, lane_height * rows, 0.0, xt[-1], 0.0, 1.0
    )
    parts = _open(width, height, title, "chart heat")
    parts.extend(_axes(frame, xt, [], "time in the round", "", x_is_seconds=True))
    for index, (name, cells) in enumerate(lanes):
        y = top + index * lane_height
        parts.append(
            f'<g class="core" data-name="{text(name)}"><text x="{_num(label_width - 8)}" '
            f'y="{_num(y + lane_height * 0.7)}" text-anchor="end">{text(name)}</text>'
            f'<rect x="{_num(frame.left)}" y="{_num(y + 1)}" width="{_num(frame.width)}" '
            f'height="{_num(lane_height - 2)}" fill="#f3f4f6"/>'
        )
        for cell in cells:
            if not math.isfinite(cell.value):
                continue
            x0 = frame.x(max(cell.start, 0.0))
            x1 = frame.x(max(cell.end, cell.start))
            value = min(max(cell.value, 0.0), 1.0)
            parts.append(
                f'<rect x="{_num(x0)}" y="{_num(y + 1)}" width="{_num(max(x1 - x0, 0.5))}" '
                f'height="{_num(lane_height - 2)}" fill="{colour}" '
                f'fill-opacity="{value:.2f}"><title>{text(name)}: {fmt.percent(value)} busy, '
                f"{text(fmt.seconds_tick(cell.start))} to {text(fmt.seconds_tick(cell.end))}"
                "</title></rect>"
            )
        parts.append("</g>")
    scale_y = top + lane_height * rows + 44
    parts.append('<g class="scale">')
    for step in range(11):
        parts.append(
            f'<rect x="{_num(frame.left + step * 16)}" y="{_num(scale_y)}" width="16" '
            f'height="10" fill="{colour}" fill-opacity="{step / 10:.1f}" stroke="{_GRID}"/>'
        )
    parts.append(
        f'<text x="{_num(frame.left + 11 * 16 + 8)}" y="{_num(scale_y + 9)}">busy: 0% to 100% '
        f"of the core</text></g>"
    )
    parts.append("</svg>")
    return "".join(parts)
