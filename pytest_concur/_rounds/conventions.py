"""The median every reader takes, and the significance level every test is judged at."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

#: The significance level of verdicts, recommendations and comparisons unless told otherwise.
ALPHA: Final = 0.05


def median(values: Iterable[float]) -> float:
    """The median of the finite values (NaN ones left out); NaN when none is left."""
    clean = sorted(v for v in values if not math.isnan(v))
    if not clean:
        return math.nan
    middle = len(clean) // 2
    return clean[middle] if len(clean) % 2 else (clean[middle - 1] + clean[middle]) / 2
