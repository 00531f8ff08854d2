"""How every figure reads: seconds, p-values, speedups, spreads, percentages, cores.

The one place a measured number becomes text. The terminal report, the command line
and the HTML page all call these, so the same number always reads the same way. A
missing value (None, NaN, ``pd.NA``) reads ``-`` everywhere.
"""

from __future__ import annotations

import math
from typing import Final

MISSING: Final = "-"


def _finite(value: object) -> float | None:
    """The value as a finite float, or None when it is missing or not a number."""
    if value is None or isinstance(value, str):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]  # pd.NA raises TypeError
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def escape(text: object) -> str:
    """Control characters from test ids and errors must not drive a terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def seconds(value: object) -> str:
    """A duration in a unit that keeps it short: ``850 us``, ``12.3 ms``, ``1.250 s``."""
    number = _finite(value)
    if number is None:
        return MISSING
    if abs(number) < 1e-3:
        return f"{number * 1e6:.0f} us"
    if abs(number) < 1.0:
        return f"{number * 1e3:.1f} ms"
    return f"{number:.3f} s"


def seconds_tick(value: float) -> str:
    """Tick text for a time axis: as short as the tick allows (0, 250 ms, 1.5 s, 40 us)."""
    if value == 0:
        return "0"
    if abs(value) < 1e-3:
        return f"{value * 1e6:g} us"
    if abs(value) < 1:
        return f"{value * 1e3:g} ms"
    return f"{value:g} s"


def tick(value: float) -> str:
    """Tick text for a plain axis: whole numbers without decimals, others as short as they go."""
    if value == 0:
        return "0"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:g}"


def number(value: object, spec: str, suffix: str = "") -> str:
    """Any other figure in a format spec, e.g. ``number(x, ".3f")``."""
    found = _finite(value)
    return MISSING if found is None else format(found, spec) + suffix


def cpu_seconds(value: object) -> str:
    """CPU seconds of the process tree, in a column of their own: ``0.412``."""
    return number(value, ".3f")


def cores(value: object) -> str:
    """Cores kept busy on average (CPU seconds / wall): ``1.97``."""
    return number(value, ".2f")


def percent(fraction: object, decimals: int = 0) -> str:
    """A fraction as a percentage, whole unless asked: ``0.42`` -> ``42%``."""
    found = _finite(fraction)
    return MISSING if found is None else f"{found * 100:.{decimals}f}%"


def spread(relative: object) -> str:
    """The relative spread of a variant's rounds, interquartile range / median: ``12%``.

    One definition everywhere (docs/analysis.md): the ``wall_rel_spread`` column.
    """
    return percent(relative)


def speedup(value: object) -> str:
    """A speedup or any ratio read as "times": ``1.95x``."""
    return number(value, ".2f", "x")


def ceiling(value: object) -> str:
    """Amdahl's ceiling: a speedup, or ``unbounded`` for a fully parallel fit."""
    found = _finite(value)
    if found is None and isinstance(value, float) and math.isinf(value):
        return "unbounded"
    return speedup(value)


def efficiency(value: object) -> str:
    """Speedup per worker: ``0.49``."""
    return number(value, ".2f")


def fraction(value: object) -> str:
    """A fraction shown as one (Amdahl's parallel fraction): ``0.93``."""
    return number(value, ".2f")


def change(ratio: object) -> str:
    """A ratio candidate / baseline as a signed change: ``1.031`` -> ``+3.1%``."""
    found = _finite(ratio)
    return MISSING if found is None else f"{(found - 1) * 100:+.1f}%"


def p_value(value: object) -> str:
    """A p-value: three decimals, or scientific notation below 0.001."""
    found = _finite(value)
    if found is None:
        return MISSING
    return f"{found:.3f}" if found >= 0.001 else f"{found:.1e}"


def interval(low: object, high: object, level: object, *, dash: str = " - ") -> str:
    """A confidence interval of seconds with its level: ``1.0 ms - 1.2 ms (95%)``."""
    if _finite(low) is None or _finite(high) is None:
        return MISSING
    return f"{seconds(low)}{dash}{seconds(high)} ({percent(level)})"


def mebibytes(value: object) -> str:
    """A size in bytes as MiB: ``3.0 MiB``."""
    found = _finite(value)
    return MISSING if found is None else f"{found / 2**20:.1f} MiB"


def size(value: object) -> str:
    """A size in bytes in the binary unit that keeps it short: ``512 B``, ``24.0 MiB``."""
    found = _finite(value)
    if found is None:
        return MISSING
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(found) >= scale:
            return f"{found / scale:.1f} {unit}"
    return f"{found:.0f} B"


def count(value: object) -> str:
    """A count of things, with thousands separated: ``20,000``."""
    found = _finite(value)
    return MISSING if found is None else f"{found:,.0f}"


def figure(value: object) -> str:
    """A count or measure without a unit: three significant digits, four from 10 000."""
    found = _finite(value)
    if found is None:
        return MISSING
    return f"{found:.3g}" if abs(found) < 1e4 else f"{found:.4g}"


def measure(value: object, column: str) -> str:
    """A value of a named rounds column, in that column's unit (``_s``, ``_bytes``)."""
    if column.endswith("_s"):
        return seconds(value)
    if column.endswith("_bytes"):
        return mebibytes(value)
    if column == "utilization":
        return percent(value)
    return figure(value)
