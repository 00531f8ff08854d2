"""Small inline-SVG charts for the HTML report: line, grouped bars, Gantt lanes and heat strips.

Pure functions from numbers and labels to SVG text; every label is escaped here, so
callers may pass any string from a test. No scripts, no external resources: the
charts render offline, and ``<title>`` elements give hover tooltips without code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Final

FONT: Final = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
_AXIS: Final = "#6b7280"
_GRID: Final = "#e5e7eb"
_TEXT: Final = "#1f2937"

#: Colours for models, chosen to stay distinct for common colour-vision deficiencies
#: (Okabe-Ito); unknown models take the next free one.
_MODEL_COLOURS: Final = {
    "serial": "#6b7280",
    "threads": "#0072b2",
    "processes": "#d55e00",
    "asyncio": "#009e73",
    "asyncio-processes": "#cc79a7",
    "subinterpreters": "#56b4e9",
    "gevent": "#e69f00",
    "dask": "#8e44ad",
}
_SPARE_COLOURS: Final = ("#e69f00", "#cc79a7", "#56b4e9", "#8e44ad", "#b8860b", "#2f4f4f")
PALETTE: Final = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8e44ad")


def model_colour(model: str, index: int = 0) -> str:
    """A stable colour per model name; ``index`` picks among spares for unknown ones."""
    return _MODEL_COLOURS.get(model, _SPARE_COLOURS[index % len(_SPARE_COLOURS)])


def text(value: object) -> str:
    """Any value as escaped text for SVG/HTML content or attributes."""
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks: list[float] = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def tick_label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:g}"


def seconds_label(value: float) -> str:
    """Tick text for a time axis in seconds: 0, 250 ms, 1.5 s, 40 us."""
    if value == 0:
        return "0"
    if abs(value) < 1e-3:
        return f"{value * 1e6:g} us"
    if abs(value) < 1:
        return f"{value * 1e3:g} ms"
    return f"{value:g} s"


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a line chart; ``tips`` are hover texts per point."""

    name: str
    points: Sequence[tuple[float, float]]
    colour: str
    dash: str | None = None
    markers: bool = True
    tips: Sequence[str] = field(default_factory=tuple)
    width: float = 2.0
    in_legend: bool = True


@dataclass(frozen=True, slots=True)
class _Frame:
    """Plot area inside the SVG and the data ranges it maps."""

    left: float
    top: float
    width: float
    height: float
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * self.width

    def y(self, value: float) -> float:
        return self.top + self.height - (value - self.y0) / (self.y1 - self.y0) * self.height


def _open(width: float, height: float, label: str, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" '
        f'height="{_num(height)}" font-family="{text(FONT)}" font-size="12" fill="{_TEXT}">',
        f"<title>{text(label)}</title>",
    ]


def _axes(
    frame: _Frame,
    xticks: Sequence[float],
    yticks: Sequence[float],
    x_label: str,
    y_label: str,
    *,
    y_is_seconds: bool = False,
    x_is_seconds: bool = False,
) -> list[str]:
    parts = ['<g class="axes">']
    bottom = frame.top + frame.height
    for tick in yticks:
        y = frame.y(tick)
        label = seconds_label(tick) if y_is_seconds else tick_label(tick)
        parts.append(
            f'<line x1="{_num(frame.left)}" y1="{_num(y)}" x2="{_num(frame.left + frame.width)}" '
            f'y2="{_num(y)}" stroke="{_GRID}"/>'
            f'<text x="{_num(frame.left - 6)}" y="{_num(y + 4)}" text-anchor="end" '
            f'fill="{_AXIS}">{text(label)}</text>'
        )
    for tick in xticks:
        x = frame.x(tick)
        label = seconds_label(tick) if x_is_seconds else tick_label(tick)
        parts.append(
            f'<line x1="{_num(x)}" y1="{_num(bottom)}" x2="{_num(x)}" y2="{_num(bottom + 4)}" '
            f'stroke="{_AXIS}"/><text x="{_num(x)}" y="{_num(bottom + 17)}" '
            f'text-anchor="middle" fill="{_AXIS}">{text(label)}</text>'
        )
    parts.append(
        f'<line x1="{_num(frame.left)}" y1="{_num(bottom)}" x2="{_num(frame.left + frame.width)}" '
        f'y2="{_num(bottom)}" stroke="{_AXIS}"/>'
        f'<line x1="{_num(frame.left)}" y1="{_num(frame.top)}" x2="{_num(frame.left)}" '
        f'y2="{_num(bottom)}" stroke="{_AXIS}"/>'
    )
    if x_label:
        parts.append(
            f'<text class="axis-label" x="{_num(frame.left + frame.width / 2)}" '
            f'y="{_num(bottom + 36)}" text-anchor="middle">{text(x_label)}</text>'
        )
    if y_label:
        cx = frame.left - (58 if y_is_seconds else 44)
        cy = frame.top + frame.height / 2
        parts.append(
            f'<text class="axis-label" x="{_num(cx)}" y="{_num(cy)}" text-anchor="middle" '
            f'transform="rotate(-90 {_num(cx)} {_num(cy)})">{text(y_label)}</text>'
        )
    parts.append("</g>")
    return parts


def _legend(
    items: Sequence[tuple[str, str, str | None]], x: float, y: float, *, boxes: bool = False
) -> list[str]:
    """Legend entries (name, colour, dash) stacked downwards from (x, y); boxes for bars."""
    parts = ['<g class="legend">']
    for index, (name, colour, dash) in enumerate(items):
        top = y + index * 18
        dash_attr = f' stroke-dasharray="{text(dash)}"' if dash else ""
        mark = (
            f'<rect x="{_num(x + 4)}" y="{_num(top - 6)}" width="14" height="12" rx="2" '
            f'fill="{colour}"/>'
            if boxes
            else f'<line x1="{_num(x)}" y1="{_num(top)}" x2="{_num(x + 22)}" y2="{_num(top)}" '
            f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        parts.append(f'{mark}<text x="{_num(x + 28)}" y="{_num(top + 4)}">{text(name)}</text>')
    parts.append("</g>")
    return parts


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: float = 560,
    height: float = 320,
    x_ticks: Sequence[float] | None = None,
    y_min: float | None = 0.0,
    y_max: float | None = None,
) -> str:
    """Lines with point markers; a legend on the right names each series."""
    xs = [x for s in series for x, _ in s.points if math.isfinite(x)]
    ys = [y for s in series for _, y in s.points if math.isfinite(y)]
    named = [s for s in series if s.in_legend]
    legend_width = min(200.0, 40 + 7.0 * max((len(s.name) for s in named), default=0))
    frame = _Frame(
        left=62,
        top=16,
        width=width - 62 - legend_width - 16,
        height=height - 16 - 52,
        x0=min(xs, default=0.0),
        x1=max(xs, default=1.0),
        y0=min(ys, default=0.0) if y_min is None else y_min,
        y1=max(ys, default=1.0) if y_max is None else y_max,
    )
    xt = list(x_ticks) if x_ticks is not None else nice_ticks(frame.x0, frame.x1)
    yt = nice_ticks(frame.y0, frame.y1)
    x0, x1 = min(frame.x0, xt[0]), max(frame.x1, xt[-1])
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    frame = _Frame(frame.left, frame.top, frame.width, frame.height, x0, x1, yt[0], yt[-1])
    parts = _open(width, height, title, "chart line-chart")
    parts.extend(_axes(frame, xt, yt, x_label, y_label))
    for item in series:
        points = [(x, y) for x, y in item.points if math.isfinite(x) and math.isfinite(y)]
        if not points:
            continue
        path = " ".join(f"{_num(frame.x(x))},{_num(frame.y(y))}" for x, y in points)
        dash = f' stroke-dasharray="{text(item.dash)}"' if item.dash else ""
        parts.append(
            f'<g class="series" data-name="{text(item.name)}">'
            f'<polyline points="{path}" fill="none" stroke="{item.colour}" '
            f'stroke-width="{_num(item.width)}"{dash}/>'
        )
        if item.markers:
            tips = list(item.tips) + [""] * (len(points) - len(item.tips))
            for (x, y), tip in zip(points, tips, strict=False):
                parts.append(
                    f'<circle cx="{_num(frame.x(x))}" cy="{_num(frame.y(y))}" r="4" '
                    f'fill="{item.colour}" stroke="white" stroke-width="1.5">'
                    f"<title>{text(tip or f'{item.name}: {x:g}, {y:.3g}')}</title></circle>"
                )
        parts.append("</g>")
    parts.extend(
        _legend(
            [(s.name, s.colour, s.dash) for s in named],
            frame.left + frame.width + 18,
            frame.top + 8,
        )
    )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a grouped bar chart, with an optional interval drawn as a whisker."""

    name: str
    value: float
    colour: str
    low: float | None = None
    high: float | None = None
    tip: str = ""


def bar_chart(
    groups: Sequence[tuple[str, Sequence[Bar]]],
    *,
    title: str,
    y_label: str,
    legend: Sequence[tuple[str, str]],
    width: float = 720,
    height: float = 300,
    y_is_seconds: bool = True,
) -> str:
    """Groups of bars side by side (e.g. one group per variant, one bar per Python)."""
    values = [
        v
        for _, bars in groups
        for bar in bars
        for v in (bar.value, bar.high)
        if v is not None and math.isfinite(v)
    ]
    yt = nice_ticks(0.0, max(values, default=1.0))
    legend_width = min(200.0, 40 + 7.0 * max((len(n) for n, _ in legend), default=0))
    left = 76.0 if y_is_seconds else 62.0
    plot_width = width - left - legend_width - 16
    slot = plot_width / max(len(groups), 1)
    longest = max((len(label) for label, _ in groups), default=0)
    # labels that do not fit under their group are turned, and get the room they need
    turn = longest * 6.5 > slot * 0.95
    label_room = min(longest, 22) * 4.6 + 14 if turn else 24.0
    frame = _Frame(left, 16, plot_width, height - 16 - label_room - 8, 0, 1, yt[0], yt[-1])
    parts = _open(width, height, title, "chart bar-chart")
    parts.extend(_axes(frame, [], yt, "", y_label, y_is_seconds=y_is_seconds))
    bottom = frame.top + frame.height
    for index, (label, bars) in enumerate(groups):
        inner = slot * 0.8
        bar_width = inner / max(len(bars), 1)
        start = frame.left + index * slot + slot * 0.1
        parts.append(f'<g class="bar-group" data-name="{text(label)}">')
        for position, bar in enumerate(bars):
            if not math.isfinite(bar.value):
                continue
            x = start + position * bar_width
            y = frame.y(bar.value)
            parts.append(
                f'<rect x="{_num(x + 1)}" y="{_num(y)}" width="{_num(max(bar_width - 2, 1))}" '
                f'height="{_num(max(bottom - y, 0))}" fill="{bar.colour}">'
                f"<title>{text(bar.tip or f'{label} {bar.name}: {bar.value:.3g}')}</title></rect>"
            )
            if bar.low is not None and bar.high is not None and math.isfinite(bar.low):
                cx = x + bar_width / 2
                parts.append(
                    f'<path d="M{_num(cx)},{_num(frame.y(bar.low))}V{_num(frame.y(bar.high))}'
                    f"M{_num(cx - 4)},{_num(frame.y(bar.low))}h8M{_num(cx - 4)},"
                    f'{_num(frame.y(bar.high))}h8" stroke="{_TEXT}" stroke-width="1.2" '
                    f'fill="none"/>'
                )
        cx = frame.left + index * slot + slot / 2
        placement = (
            f'x="{_num(cx + 4)}" y="{_num(bottom + 12)}" text-anchor="end" '
            f'transform="rotate(-35 {_num(cx + 4)} {_num(bottom + 12)})"'
            if turn
            else f'x="{_num(cx)}" y="{_num(bottom + 16)}" text-anchor="middle"'
        )
        parts.append(
            f'<text {placement} fill="{_AXIS}">{text(_clip(label, 22 if turn else 40))}'
            f"<title>{text(label)}</title></text></g>"
        )
    parts.extend(
        _legend(
            [(n, c, None) for n, c in legend],
            frame.left + frame.width + 18,
            frame.top + 8,
            boxes=True,
        )
    )
    parts.append("</svg>")
    return "".join(parts)


def _clip(label: str, room: int) -> str:
    room = max(room, 4)
    return label if len(label) <= room else label[: room - 1] + "…"


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
                f'fill-opacity="{value:.2f}"><title>{text(name)}: {value:.0%} busy, '
                f"{text(seconds_label(cell.start))} to {text(seconds_label(cell.end))}"
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
