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

from .. import _format as fmt

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
        label = fmt.seconds_tick(tick) if y_is_seconds else fmt.tick(tick)
        parts.append(
            f'<line x1="{_num(frame.left)}" y1="{_num(y)}" x2="{_num(frame.left + frame.width)}" '
            f'y2="{_num(y)}" stroke="{_GRID}"/>'
            f'<text x="{_num(frame.left - 6)}" y="{_num(y + 4)}" text-anchor="end" '
            f'fill="{_AXIS}">{text(label)}</text>'
        )
    for tick in xticks:
        x = frame.x(tick)
        label = fmt.seconds_tick(tick) if x_is_seconds else fmt.tick(tick)
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
                point = f"{item.name}: {fmt.figure(x)}, {fmt.figure(y)}"
                parts.append(
                    f'<circle cx="{_num(frame.x(x))}" cy="{_num(frame.y(y))}" r="4" '
                    f'fill="{item.colour}" stroke="white" stroke-width="1.5">'
                    f"<title>{text(tip or point)}</title></circle>"
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
                f"<title>{text(bar.tip or f'{label} {bar.name}: ' + fmt.figure(bar.value))}"
                "</title></rect>"
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
