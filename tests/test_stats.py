"""The statistics behind verdicts: rank and sign tests, order-statistic intervals, small n."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_concur._stats import samples as _stats

samples = st.lists(
    st.floats(min_value=1e-3, max_value=1e3, allow_nan=False), min_size=1, max_size=12
)


def test_three_against_three_reach_five_percent_at_best() -> None:
    assert _stats.p_less([1, 2, 3], [4, 5, 6]) == pytest.approx(0.05)
    assert _stats.smallest_possible_p(3, 3) == pytest.approx(0.05)
    assert _stats.smallest_possible_p(5, 5) == pytest.approx(1 / 252)
    assert _stats.smallest_possible_p(0, 5) == 1.0


def test_p_less_is_one_sided() -> None:
    assert _stats.p_less([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) < 0.01
    assert _stats.p_less([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) > 0.99
    assert _stats.p_less([], [1.0]) == 1.0


def test_sign_test_exact_values() -> None:
    assert _stats.p_sign_above([2, 3, 4, 5, 6], 1) == pytest.approx(1 / 32)
    assert _stats.p_sign_below([2, 3, 4, 5, 6], 1) == pytest.approx(1.0)
    # four of five above: P(X >= 4) for Binomial(5, 1/2) = 6/32
    assert _stats.p_sign_above([0, 3, 4, 5, 6], 1) == pytest.approx(6 / 32)
    # values on the threshold carry no sign
    assert _stats.p_sign_above([1, 1, 1], 1) == 1.0
    assert _stats.p_sign_above([1, 1, 2, 2, 2, 2, 2], 1) == pytest.approx(1 / 32)


def test_sign_test_needs_five_values_for_five_percent() -> None:
    assert _stats.smallest_possible_sign_p(4) == pytest.approx(1 / 16)
    assert _stats.smallest_possible_sign_p(5) == pytest.approx(1 / 32)
    assert _stats.smallest_possible_sign_p(0) == 1.0


@settings(max_examples=60, deadline=None)
@given(samples, st.floats(min_value=1e-3, max_value=1e3))
def test_sign_p_values_are_probabilities_and_complementary(
    values: list[float], threshold: float
) -> None:
    above = _stats.p_sign_above(values, threshold)
    below = _stats.p_sign_below(values, threshold)
    assert 0 <= above <= 1
    assert 0 <= below <= 1
    # both one-sided tests cannot reject at once
    assert not (above <= 0.05 and below <= 0.05)
    assert min(above, below) >= _stats.smallest_possible_sign_p(len(values)) - 1e-12


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_rank_p_values_never_beat_the_smallest_possible(a: list[float], b: list[float]) -> None:
    p = _stats.p_less(a, b)
    assert 0 <= p <= 1
    if len(a) + len(b) <= 14 and len(set(a) | set(b)) == len(a) + len(b):  # exact, no ties
        assert p >= _stats.smallest_possible_p(len(a), len(b)) - 1e-12


@settings(max_examples=60, deadline=None)
@given(samples)
def test_median_ci_contains_the_median(values: list[float]) -> None:
    interval = _stats.median_ci(values)
    ordered = sorted(values)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    assert interval.low <= median <= interval.high
    assert 0 <= interval.confidence <= 1  # one value: an interval of width 0, confidence 0


def test_median_ci_of_nothing() -> None:
    interval = _stats.median_ci([])
    assert math.isnan(interval.low)
    assert interval.confidence == 0.0


def test_scaled() -> None:
    assert _stats.scaled([1, 2.5], 2) == [2.0, 5.0]
