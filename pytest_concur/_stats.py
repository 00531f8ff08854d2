"""Statistics for small, skewed samples of timings: distribution-free and honest about n.

scipy provides the exact tests; the functions here fix the conventions (one-sided
questions, order-statistic intervals) so every part of pytest-concur uses the same ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval with the confidence it actually achieves (order statistics)."""

    low: float
    high: float
    confidence: float


def median_ci(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Distribution-free interval for the median from order statistics (binomial).

    With few values the achievable confidence is limited (n=5 gives at most 93.75%); the
    returned ``confidence`` says what was achieved, and the interval is the whole range
    when even that falls short.
    """
    from scipy.stats import binom

    data = np.sort(np.asarray(values, dtype=float))
    n = len(data)
    if n == 0:
        return Interval(math.nan, math.nan, 0.0)
    # widest j with P(X_(j) <= median <= X_(n-j+1)) >= confidence, X ~ Binomial(n, 1/2)
    best = Interval(float(data[0]), float(data[-1]), float(1 - 2 * binom.cdf(0, n, 0.5)))
    for j in range(1, n // 2 + 1):
        achieved = float(1 - 2 * binom.cdf(j - 1, n, 0.5))
        if achieved < confidence:
            break
        best = Interval(float(data[j - 1]), float(data[n - j]), achieved)
    return best


def p_less(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided Mann-Whitney U p-value for "values of ``a`` tend to be smaller than ``b``".

    Exact for small samples without ties (scipy chooses), valid for skewed timings.
    Returns 1.0 when either sample is empty.
    """
    from scipy.stats import mannwhitneyu

    if len(a) == 0 or len(b) == 0:
        return 1.0
    return float(mannwhitneyu(a, b, alternative="less").pvalue)


def smallest_possible_p(n_a: int, n_b: int) -> float:
    """The smallest one-sided p-value a rank test can reach with these sample sizes."""
    if n_a == 0 or n_b == 0:
        return 1.0
    return 1.0 / math.comb(n_a + n_b, n_a)
