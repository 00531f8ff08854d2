"""Crowded rounds measured again, and the schedule of an item's rounds (pure parts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from round_rows import round_row

from pytest_concur._rounds.counting import (
    MIN_QUIET_ROUNDS,
    other_cores,
    quiet_rounds,
    round_crowded,
)
from pytest_concur._running.configuration import AutoRounds
from pytest_concur._running.retry import CrowdedRetry
from pytest_concur._running.schedule import RoundSchedule


class FakeTime:
    """A clock that moves only when slept on, and a machine whose load is scripted."""

    def __init__(self, machine: list[float | None]) -> None:
        self.now = 0.0
        self.machine = iter(machine)
        self.probes: list[int] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def now_ns(self) -> int:
        return int(self.now * 1e9)

    def probe(self, since_ns: int) -> float | None:
        self.probes.append(since_ns)
        return next(self.machine)


def retry(fake: FakeTime, *, limit: int = 3, max_wait_s: float = 1.0) -> CrowdedRetry:
    return CrowdedRetry(
        limit, max_wait_s, fake.probe, clock=fake.clock, sleep=fake.sleep, now_ns=fake.now_ns
    )


def test_a_round_is_crowded_when_others_filled_the_machine() -> None:
    assert round_crowded(2.0, 1.0, 2) is True  # one core ours, one someone else's
    assert round_crowded(1.1, 1.0, 2) is False  # others used a tenth of a core
    assert round_crowded(1.6, 0.2, 4) is False  # others busy, but CPUs to spare
    assert round_crowded(None, 1.0, 2) is None  # no sampler: nobody knows
    assert other_cores(2.0, 1.0) == 1.0
    assert other_cores(0.5, 1.0) == 0.0  # never below zero
    assert other_cores(None, 1.0) is None


def test_waits_until_the_machine_is_quiet() -> None:
    fake = FakeTime([1.0, 1.0, 0.1])  # others busy, busy, then quiet
    policy = retry(fake)
    assert policy.wants_repeat(True)
    waited = policy.wait_for_quiet(own_cores=1.0, usable_cpus=2)
    assert waited == pytest.approx(0.3)
    assert policy.used == 1
    assert not policy.gave_up


def test_a_wait_that_runs_out_ends_the_repeats_of_the_item() -> None:
    fake = FakeTime([1.0] * 100)  # a core busy for good
    policy = retry(fake, max_wait_s=0.5)
    waited = policy.wait_for_quiet(own_cores=1.0, usable_cpus=2)
    assert 0.5 <= waited < 0.7
    assert policy.gave_up
    assert not policy.wants_repeat(True)


def test_repeats_are_bounded_and_only_for_crowded_rounds() -> None:
    fake = FakeTime([0.0] * 10)
    policy = retry(fake, limit=2)
    assert not policy.wants_repeat(False)
    assert not policy.wants_repeat(None)  # unknown is not crowded
    for _ in range(2):
        assert policy.wants_repeat(True)
        policy.wait_for_quiet(1.0, 2)
    assert not policy.wants_repeat(True)


def test_without_a_sampler_there_is_nothing_to_wait_for() -> None:
    fake = FakeTime([None])
    assert retry(fake).wait_for_quiet(1.0, 2) == pytest.approx(0.1)


def row(index: int, *, crowded: bool | None = False, wall_s: float = 1.0,
        warmup: bool = False, outcome: str = "passed") -> dict[str, Any]:  # fmt: skip
    return round_row(round=index, warmup=warmup, outcome=outcome, crowded=crowded,
                     wall_s=wall_s, cores_used=1.0, usable_cpus=2)  # fmt: skip


def drive(
    schedule: RoundSchedule, crowded: Iterator[bool], wall: float = 1.0
) -> list[dict[str, Any]]:
    rows = []
    for index in schedule:
        one = row(index, warmup=index < schedule.warmup, crowded=next(crowded), wall_s=wall)
        one.update(schedule.observe(one))
        rows.append(one)
    return rows


def test_a_crowded_round_is_measured_again_and_both_rows_stay() -> None:
    fake = FakeTime([0.0] * 10)
    schedule = RoundSchedule(1, 3, retry=retry(fake))
    rows = drive(schedule, iter([True, False, True, False, False]))
    assert [r["round"] for r in rows] == [0, 1, 2, 3, 4]  # warm-up crowding does not count
    assert [r["repeat_of"] for r in rows] == [None, None, None, 2, None]
    assert rows[3]["quiet_wait_s"] == pytest.approx(0.1)
    assert [r["crowded"] for r in rows].count(True) == 2


def test_crowded_rounds_count_once_the_repeats_are_spent() -> None:
    fake = FakeTime([0.0] * 10)
    schedule = RoundSchedule(0, 3, retry=retry(fake, limit=1))
    rows = drive(schedule, iter([True] * 10))
    assert len(rows) == 4  # three rounds and one repeat


def test_a_fixed_schedule_without_retry_runs_the_plan() -> None:
    schedule = RoundSchedule(2, 3)
    assert len(drive(schedule, iter([True] * 10))) == 5


def test_an_adaptive_schedule_stops_when_the_rule_says_and_says_why() -> None:
    schedule = RoundSchedule(1, 99, adaptive=AutoRounds(min_rounds=5, max_rounds=10).design())
    rows = drive(schedule, iter([False] * 20))
    assert len(rows) == 6  # one warm-up and the minimum: every round took 1.0 s
    assert rows[-1]["stop_reason"] == "target width"
    assert rows[-1]["rel_half_width"] == 0.0
    assert all(r["stop_reason"] is None for r in rows[:-1])


def test_a_failed_round_is_not_counted() -> None:
    schedule = RoundSchedule(0, 2)
    indices = iter(schedule)
    first = next(indices)
    schedule.observe(row(first, outcome="failed"))
    assert next(indices) == 1  # the loop itself stops at a failure; the count did not move


def frame(crowded_flags: list[bool], model: str = "threads") -> pd.DataFrame:
    return pd.DataFrame([
        round_row(experiment="e", params=None, model=model, workers=2, round=index,
                  wall_s=1.0, cores_used=1.0, usable_cpus=2,
                  system_cores_busy=2.0 if flag else 1.0)
        for index, flag in enumerate(crowded_flags)
    ])  # fmt: skip


def test_statistics_leave_crowded_rounds_out_when_enough_quiet_ones_remain() -> None:
    rows = frame([True, False, False, True, False])
    selection = quiet_rounds(rows)
    assert selection.dropped == 2
    assert len(selection.rows) == MIN_QUIET_ROUNDS
    assert not selection.busy_variants


def test_a_variant_with_too_few_quiet_rounds_keeps_them_all_and_is_named() -> None:
    rows = pd.concat([frame([True, True, False, True]), frame([False] * 4, model="serial")])
    selection = quiet_rounds(rows)
    assert selection.dropped == 0
    assert len(selection.rows) == 8
    assert selection.busy_variants == {("e", "", "threads", 2)}
    reason = selection.busy_reason()
    assert reason == "machine busy: 3 of 4 rounds of threads-2 crowded; rerun on a quiet machine"


def test_the_round_loop_imports_no_pandas_numpy_or_scipy() -> None:
    """The schedule, the stopping rule and the crowding check run in the measuring process,
    between rounds: no extension there may re-enable the GIL of a free-threaded build."""
    import subprocess
    import sys

    code = (
        "import sys, pytest_concur._running.rounds, pytest_concur._running.schedule;"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
