"""Adaptive rounds: the sequential stopping rule, pure, fed one wall time at a time."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import t as scipy_t

from pytest_concur._running.configuration import AutoRounds
from pytest_concur._stats.sequential import (
    AdaptiveRule,
    relative_half_width,
    t_quantile,
)


def test_looks_are_few_and_fixed_before_the_first_round() -> None:
    assert AutoRounds().design().looks() == (5, 8, 10)
    assert AutoRounds(min_rounds=5, max_rounds=20).design().looks() == (5, 8, 12, 18, 20)
    assert AutoRounds(min_rounds=3, max_rounds=3).design().looks() == (3,)
    assert AutoRounds(min_rounds=2, max_rounds=4).design().looks() == (2, 3, 4)


@given(low=st.integers(2, 60), extra=st.integers(0, 200))
def test_looks_run_from_minimum_to_maximum_increasing(low: int, extra: int) -> None:
    looks = AutoRounds(min_rounds=low, max_rounds=low + extra).design().looks()
    assert looks[0] == low
    assert looks[-1] == low + extra
    assert all(a < b for a, b in itertools.pairwise(looks))


def test_alpha_is_spent_over_the_looks() -> None:
    one_look = AutoRounds(min_rounds=5, max_rounds=5).design()
    five_looks = AutoRounds(min_rounds=5, max_rounds=20).design()
    assert one_look.quantile(5) == pytest.approx(scipy_t.ppf(0.975, 4), rel=1e-6)
    # alpha 0.05 over five looks: 0.01 each, two-sided
    assert five_looks.quantile(5) == pytest.approx(scipy_t.ppf(0.995, 4), rel=1e-6)
    assert five_looks.quantile(20) == pytest.approx(scipy_t.ppf(0.995, 19), rel=1e-6)


@given(p=st.floats(0.5, 0.9999), df=st.integers(1, 200))
def test_t_quantile_agrees_with_scipy(p: float, df: int) -> None:
    assert t_quantile(p, df) == pytest.approx(scipy_t.ppf(p, df), rel=1e-5, abs=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_rounds": 10, "max_rounds": 5}, "minimum of rounds \\(10\\) is above the maximum"),
        ({"min_rounds": 1}, "at least 2"),
        ({"half_width": -0.03}, "half-width must be above 0"),
        ({"half_width": 0.0}, "half-width must be above 0"),
        ({"budget_s": 0.0}, "time budget must be above 0"),
        ({"budget_s": math.inf}, "time budget"),
        ({"alpha": 1.0}, "alpha"),
    ],
)
def test_bad_plans_are_refused_naming_the_value(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(AutoRounds().design(), **kwargs)  # type: ignore[arg-type]


def test_steady_rounds_stop_at_the_minimum() -> None:
    rule = AdaptiveRule(AutoRounds(min_rounds=5, max_rounds=20).design())
    stops = [rule.add(1.0 + 0.001 * (i % 2), elapsed_s=i) for i in range(5)]
    assert stops == [False, False, False, False, True]
    assert rule.stop_reason == "target width"
    assert rule.half_width is not None
    assert rule.half_width <= 0.03


def test_noisy_rounds_run_to_the_maximum_and_only_stop_there() -> None:
    rng = random.Random(1)
    rule = AdaptiveRule(AutoRounds(min_rounds=5, max_rounds=12).design())
    stopped_at = None
    for index in range(1, 13):
        if rule.add(rng.uniform(0.5, 1.5), elapsed_s=0.0):
            stopped_at = index
            break
    assert stopped_at == 12
    assert rule.stop_reason == "max rounds"


def test_the_budget_stops_only_after_the_minimum() -> None:
    rule = AdaptiveRule(AutoRounds(min_rounds=5, max_rounds=20, budget_s=1.0).design())
    noisy = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
    assert [rule.add(v, elapsed_s=10.0) for v in noisy[:4]] == [False] * 4
    assert rule.add(noisy[4], elapsed_s=10.0)
    assert rule.stop_reason == "time budget"
    assert rule.add(5.0, elapsed_s=11.0)  # stays stopped


def test_it_stops_only_at_looks() -> None:
    rng = random.Random(3)
    rule = AdaptiveRule(AutoRounds(min_rounds=5, max_rounds=20, half_width=0.05).design())
    count = 0
    while True:
        count += 1
        value = rng.uniform(0.8, 1.2) if count <= 5 else 1.0
        if rule.add(value, elapsed_s=0.0):
            break
    assert count in rule.design.looks()


def test_half_width_is_undefined_without_spread_information() -> None:
    assert relative_half_width([1.0], 2.0) == math.inf
    assert relative_half_width([0.0, 0.0], 2.0) == math.inf
    assert relative_half_width([1.0, 1.0, 1.0], 2.0) == 0.0
    spread = relative_half_width([0.9, 1.0, 1.1], 2.0)
    assert spread == pytest.approx(2.0 * math.sqrt(math.pi / 2) * 0.1 / math.sqrt(3))


@pytest.mark.parametrize("sigma", [0.01, 0.02, 0.04])
@pytest.mark.parametrize("max_rounds", [10, 20])
def test_stopped_intervals_cover_the_true_median_as_promised(sigma: float, max_rounds: int) -> None:
    """Simulated: lognormal rounds (true median 1.0); the interval at the stopping look
    must cover 1.0 in at least 95% of runs, up to simulation noise (3 standard errors).
    A rule that stopped on a MAD-based interval missed about 15% here."""
    rng = random.Random(7)
    plan = AutoRounds(min_rounds=5, max_rounds=max_rounds, half_width=0.03).design()
    runs, misses = 1000, 0
    for _ in range(runs):
        rule = AdaptiveRule(plan)
        values: list[float] = []
        while True:
            values.append(math.exp(rng.gauss(0.0, sigma)))
            if rule.add(values[-1], elapsed_s=0.0):
                break
        center = statistics.median(values)
        half = relative_half_width(values, plan.quantile(len(values))) * center
        if not center - half <= 1.0 <= center + half:
            misses += 1
    bound = 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs)
    assert misses / runs <= bound
