"""Amdahl's law fit: exact recovery on synthetic data, constraints, and degenerate input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._stats.amdahl import fit_amdahl

worker_sets = st.lists(st.integers(1, 256), min_size=2, max_size=8, unique=True).filter(
    lambda counts: max(counts) > 1
)


@given(p=st.floats(0.0, 1.0), counts=worker_sets)
def test_exact_speedups_give_back_the_parallel_fraction(p: float, counts: list[int]) -> None:
    speedups = [1 / ((1 - p) + p / n) for n in counts]
    fit = fit_amdahl(counts, speedups)
    assert fit is not None
    assert fit.parallel_fraction == pytest.approx(p, abs=1e-9)
    assert fit.rmse == pytest.approx(0.0, abs=1e-9)
    assert fit.points == len(counts)
    if p < 1 - 1e-6:
        assert fit.ceiling == pytest.approx(1 / (1 - p), rel=1e-6)
    for n, speedup in zip(counts, speedups, strict=True):
        assert fit.predict(n) == pytest.approx(speedup, rel=1e-9)


@given(
    counts=worker_sets,
    noise=st.lists(st.floats(0.5, 2.0), min_size=8, max_size=8),
    p=st.floats(0.0, 1.0),
)
def test_noisy_speedups_stay_within_bounds(counts: list[int], noise: list[float], p: float) -> None:
    speedups = [noise[i] / ((1 - p) + p / n) for i, n in enumerate(counts)]
    fit = fit_amdahl(counts, speedups)
    assert fit is not None
    assert 0.0 <= fit.parallel_fraction <= 1.0
    assert fit.ceiling >= 1.0
    assert fit.rmse >= 0.0


@given(counts=worker_sets, speedups=st.lists(st.floats(1e-3, 1e3), min_size=8, max_size=8))
def test_any_positive_speedups_give_a_fraction_in_zero_to_one(
    counts: list[int], speedups: list[float]
) -> None:
    fit = fit_amdahl(counts, speedups[: len(counts)])
    assert fit is not None
    assert 0.0 <= fit.parallel_fraction <= 1.0


def test_superlinear_speedup_is_clamped_to_a_fully_parallel_fit() -> None:
    fit = fit_amdahl([1, 2, 4], [1.0, 2.5, 6.0])
    assert fit is not None
    assert fit.parallel_fraction == 1.0
    assert math.isinf(fit.ceiling)


def test_slowdown_is_clamped_to_a_serial_fit() -> None:
    fit = fit_amdahl([1, 2, 4], [1.0, 0.8, 0.5])
    assert fit is not None
    assert fit.parallel_fraction == 0.0
    assert fit.ceiling == 1.0


def test_nothing_to_fit_without_a_point_above_one_worker() -> None:
    assert fit_amdahl([1, 1], [1.0, 0.9]) is None
    assert fit_amdahl([], []) is None
    assert fit_amdahl([2, 4], [math.nan, -1.0]) is None


def test_unusable_points_are_left_out() -> None:
    fit = fit_amdahl([2, 4, 8], [1 / 0.55, math.nan, 0.0])
    assert fit is not None
    assert fit.points == 1
    assert fit.parallel_fraction == pytest.approx(0.9)


def test_mismatched_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="2 worker counts but 1 speedups"):
        fit_amdahl([1, 2], [1.0])
