"""Regression thresholds such as ``wall:10%``: parsed early, so a typo is a usage error.

Standard library only: pytest's option parsing imports this before any analysis.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

#: Measures where a larger value is worse, so a threshold on them means "slower/bigger".
_WORSE_WHEN_HIGHER: Final = {
    "wall": "wall_s",
    "cpu": "cpu_s",
    "rss": "max_rss_bytes",
    "startup": "startup_s",
    "shutdown": "shutdown_s",
    "wall_s": "wall_s",
    "cpu_s": "cpu_s",
    "cpu_user_s": "cpu_user_s",
    "cpu_sys_s": "cpu_sys_s",
    "max_rss_bytes": "max_rss_bytes",
    "startup_s": "startup_s",
    "shutdown_s": "shutdown_s",
    "ctx_voluntary": "ctx_voluntary",
    "ctx_involuntary": "ctx_involuntary",
}
_THRESHOLD = re.compile(r"^\s*([A-Za-z_]+)\s*:\s*([0-9]*\.?[0-9]+)\s*(%|x)\s*$")


@dataclass(frozen=True, slots=True)
class Threshold:
    """``wall:10%``: fail when the candidate's median is over 10% above the baseline's."""

    name: str
    column: str
    limit: float  # allowed relative increase, 0.10 for 10%

    def __str__(self) -> str:
        return f"{self.name}:{self.limit * 100:g}%"


def parse_thresholds(text: str) -> tuple[Threshold, ...]:
    """``"wall:10%"``, ``"wall:10%,cpu:25%"`` or ratios like ``"wall:1.1x"``.

    Raises ValueError with a message fit for the user.
    """
    items = [part for part in text.split(",") if part.strip()]
    if not items:
        raise ValueError("expected METRIC:PERCENT such as wall:10%, got nothing")
    found: list[Threshold] = []
    for item in items:
        match = _THRESHOLD.match(item)
        if match is None:
            raise ValueError(
                f"expected METRIC:PERCENT such as wall:10% (or a ratio, wall:1.1x), got {item!r}"
            )
        name, number, unit = match.groups()
        if name not in _WORSE_WHEN_HIGHER:
            raise ValueError(
                f"unknown metric {name!r} in {item.strip()!r}; choose from: "
                f"{', '.join(_WORSE_WHEN_HIGHER)}"
            )
        value = float(number)
        limit = value / 100 if unit == "%" else value - 1
        if not math.isfinite(limit) or limit < 0:
            raise ValueError(f"a threshold must allow zero or more growth, got {item.strip()!r}")
        found.append(Threshold(name, _WORSE_WHEN_HIGHER[name], limit))
    return tuple(found)
