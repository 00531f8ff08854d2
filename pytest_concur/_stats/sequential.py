"""The statistics of adaptive rounds (``--concur-rounds auto``): when one variant has been
measured enough.

The rule is a group-sequential, fixed-width confidence interval for the median wall time
(Chow and Robbins' sequential interval, with the looks bounded and alpha spent over them):

* The rule looks only at a few planned sample sizes: the minimum, then about x1.5 each
  time, then the maximum (5, 8, 10 with the defaults). Between looks it never stops, so
  the number of looks K is fixed before the first round.
* At each look n it forms an interval for the median, ``median +- t * se`` with
  ``se = 1.2533 * s / sqrt(n)`` (the standard error of a median of normal data, ``s`` the
  sample standard deviation) and ``t`` Student's two-sided quantile with n - 1 degrees of
  freedom at ``alpha / K``: alpha is spent evenly over the looks (Bonferroni), so the
  probability that *any* of the K intervals misses the true median is at most about
  alpha, whatever look the rule stops at. That is what keeps the stopped interval
  honest: a fixed 95% interval recomputed after every round and stopped at the first
  narrow one covers less than 95%. (A robust scale, the MAD, was tried first: at five
  rounds it is so noisy that stopping on it selected underestimates, and simulated
  intervals missed 15% of the time; tests/test_adaptive.py keeps that simulation.)
* It stops at the first look whose half-width is within ``half_width`` of the median, or
  at the maximum, or (after the minimum) when the item's time budget is spent.

The width rule sees only one variant's own rounds: the claims' tests are not repeated by
it; only their sample size depends on the variant's own spread, which leaves a location
test's error rate at its nominal level (the "internal pilot" result; Wittes and Brittain
1990). A variant may also stop at a look once the claims it is part of are decided; that
is a repeated test, and pays for it with alpha spent over the looks (_claims/interim.py,
_stats/spending.py). Pure and standard-library only: it runs between measured rounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from statistics import median, stdev
from typing import Final

from .._rounds.conventions import ALPHA

#: the large-sample standard error of a median is sqrt(pi/2) sigma / sqrt(n) (normal data)
_SE_FACTOR: Final = math.sqrt(math.pi / 2)
_GROWTH: Final = 1.5


@dataclass(frozen=True, slots=True)
class SequentialDesign:
    """The rule's settings (their defaults are the options', _running/configuration.py);
    invalid combinations raise ValueError naming the value."""

    min_rounds: int
    max_rounds: int
    half_width: float
    budget_s: float
    alpha: float = ALPHA

    def __post_init__(self) -> None:
        if self.min_rounds < 2:
            raise ValueError(f"the minimum of rounds must be at least 2, got {self.min_rounds}")
        if self.min_rounds > self.max_rounds:
            raise ValueError(
                f"the minimum of rounds ({self.min_rounds}) is above the maximum "
                f"({self.max_rounds})"
            )
        if not (math.isfinite(self.half_width) and self.half_width > 0):
            raise ValueError(f"the target half-width must be above 0, got {self.half_width}")
        if not (math.isfinite(self.budget_s) and self.budget_s > 0):
            raise ValueError(f"the time budget must be above 0 seconds, got {self.budget_s}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1, got {self.alpha}")

    def looks(self) -> tuple[int, ...]:
        """The round counts at which the rule may stop, fixed before the first round."""
        looks = [self.min_rounds]
        while looks[-1] < self.max_rounds:
            looks.append(min(self.max_rounds, max(looks[-1] + 1, round(looks[-1] * _GROWTH))))
        return tuple(looks)

    def quantile(self, rounds: int) -> float:
        """Student's two-sided quantile at a look, at alpha spent evenly over the looks."""
        return t_quantile(1 - self.alpha / len(self.looks()) / 2, rounds - 1)


@lru_cache(maxsize=256)
def t_quantile(p: float, df: int) -> float:
    """Student's t quantile, standard library only: bisection on the exact CDF for integer
    degrees of freedom (the finite series in theta = atan(t / sqrt(df)); Abramowitz and
    Stegun 26.7.3 and 26.7.4)."""
    if df < 1 or not 0.5 <= p < 1:
        raise ValueError(f"need df >= 1 and 0.5 <= p < 1, got df={df}, p={p}")

    def cdf(t: float) -> float:
        theta = math.atan(t / math.sqrt(df))
        sin, cos2 = math.sin(theta), math.cos(theta) ** 2
        term, total = 1.0, 1.0
        if df % 2:  # odd: 2/pi (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...))
            for k in range(3, df, 2):
                term *= (k - 1) / k * cos2
                total += term
            inside = theta + (sin * math.cos(theta) * total if df > 1 else 0.0)
            return 0.5 + inside / math.pi
        for k in range(2, df, 2):  # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
            term *= (k - 1) / k * cos2
            total += term
        return 0.5 + sin * total / 2

    low, high = 0.0, 1.0
    while cdf(high) < p:
        low, high = high, high * 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) < p else (low, middle)
        if high - low <= 1e-12 * high:
            break
    return float(low + high) / 2


def relative_half_width(values: list[float], quantile: float) -> float:
    """``quantile`` standard errors of the median, relative to it (inf when undefined)."""
    if len(values) < 2:
        return math.inf
    center = median(values)
    if center <= 0:
        return math.inf
    return quantile * _SE_FACTOR * stdev(values) / math.sqrt(len(values)) / center


class AdaptiveRule:
    """Fed one measured wall time at a time; says when the variant has enough rounds."""

    def __init__(self, design: SequentialDesign) -> None:
        self.design = design
        self._looks = frozenset(design.looks())
        self._values: list[float] = []
        self.half_width: float | None = None  # at the latest look
        self.stop_reason: str | None = None

    @property
    def rounds(self) -> int:
        return len(self._values)

    def add(
        self, wall_s: float, *, elapsed_s: float, claims: Callable[[], str | None] | None = None
    ) -> bool:
        """Record one counted round; True when the variant should stop here.

        ``elapsed_s`` is the time the item has run so far (its budget's clock). ``claims``
        is asked at each look whether the claims the variant is part of still need its
        rounds (_claims/interim.py): a reason stops it, before the width is considered.
        """
        if self.stop_reason is not None:
            return True
        self._values.append(wall_s)
        n = len(self._values)
        if n < self.design.min_rounds:
            return False
        if n in self._looks:
            self.half_width = relative_half_width(self._values, self.design.quantile(n))
            self.stop_reason = claims() if claims is not None else None
            if self.stop_reason is None and self.half_width <= self.design.half_width:
                self.stop_reason = "target width"
        if self.stop_reason is None and n >= self.design.max_rounds:
            self.stop_reason = "max rounds"
        if self.stop_reason is None and elapsed_s >= self.design.budget_s:
            self.stop_reason = "time budget"
        return self.stop_reason is not None
