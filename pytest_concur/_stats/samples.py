"""Statistics for small, skewed samples of timings: distribution-free and honest about n.

scipy provides the exact tests; the functions here fix the conventions (one-sided
questions, order-statistic intervals) so every part of pytest-concur uses the same ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .spending import unanimous_rank_p, unanimous_sign_p


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
    return unanimous_rank_p(n_a, n_b)


def p_sign_above(values: Sequence[float], threshold: float) -> float:
    """One-sided sign-test p-value for "the median of ``values`` is above ``threshold``".

    Distribution-free and exact (binomial); values equal to the threshold carry no sign
    and are left out, as the test prescribes. Returns 1.0 when no value is left.
    """
    from scipy.stats import binom

    above = sum(1 for value in values if value > threshold)
    below = sum(1 for value in values if value < threshold)
    n = above + below
    if n == 0:
        return 1.0
    # P(at least `above` successes in n fair coin flips)
    return float(binom.sf(above - 1, n, 0.5))


def p_sign_below(values: Sequence[float], threshold: float) -> float:
    """One-sided sign-test p-value for "the median of ``values`` is below ``threshold``"."""
    return p_sign_above([-value for value in values], -threshold)


def smallest_possible_sign_p(n: int) -> float:
    """The smallest one-sided p-value a sign test can reach with ``n`` values."""
    return unanimous_sign_p(n)


def scaled(values: Sequence[float], factor: float) -> list[float]:
    """``values`` each multiplied by ``factor`` (tests of "at least ``factor`` times")."""
    return [float(value) * factor for value in values]


def median_ci_ranks(n: int, confidence: float = 0.95) -> tuple[int, float]:
    """The order statistic ``j`` (1-based) and confidence that :func:`median_ci` uses for n.

    The interval is ``sorted(values)[j - 1]`` to ``sorted(values)[n - j]``. One
    vectorised binomial call instead of one per candidate rank: for summaries of many
    variants at once. ``j`` is 0 when ``n`` is 0.
    """
    from scipy.stats import binom

    if n <= 0:
        return 0, 0.0
    ranks = np.arange(0, n // 2 + 1)
    # achieved[j] = P(X_(j) <= median <= X_(n-j+1)) for j = 1..n//2; j = 1 is the whole range
    achieved = 1 - 2 * binom.cdf(ranks, n, 0.5)
    best_j, best = 1, float(achieved[0])
    for j in range(2, n // 2 + 1):
        if float(achieved[j - 1]) < confidence:
            break
        best_j, best = j, float(achieved[j - 1])
    return best_j, best
