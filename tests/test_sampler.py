"""The per-core sampler: /proc/stat parsing, rows, the sampler process, and its cost."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import BUSY_SOURCE
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._measuring.sampler import CoreSampler, CoreSamples, CoreSampling, read_cpu_ticks
from pytest_concur._storing.schema import CORES_SCHEMA
from pytest_concur._warning_types import MeasurementWarning

PROC_STAT = """cpu  100 0 50 800 10 0 5 0 0 0
cpu1 60 0 30 400 5 0 3 0 0 0
cpu0 40 0 20 400 5 0 2 0 0 0
intr 12345
ctxt 999
cpu10 1 2 3 4
"""


def test_read_cpu_ticks_orders_cpus_and_skips_the_total() -> None:
    ticks = read_cpu_ticks(PROC_STAT)
    assert ticks == [
        [40, 0, 20, 400, 5, 0, 2, 0],
        [60, 0, 30, 400, 5, 0, 3, 0],
        [1, 2, 3, 4, 0, 0, 0, 0],  # old kernels: missing fields are zero
    ]


def test_read_cpu_ticks_of_this_machine() -> None:
    ticks = read_cpu_ticks(Path("/proc/stat").read_text())
    assert len(ticks) == os.cpu_count()


counters = st.lists(st.integers(0, 50), min_size=8, max_size=8)


@given(
    steps=st.lists(st.lists(counters, min_size=2, max_size=2), min_size=1, max_size=6),
    start=st.integers(0, 10**12),
)
def test_rows_are_fractions_of_each_interval(steps: list[list[list[int]]], start: int) -> None:
    # cumulative counters: each step adds its deltas to the previous sample
    samples = [[[0] * 8, [0] * 8]]
    for step in steps:
        samples.append([[a + b for a, b in zip(prev, add, strict=True)]
                        for prev, add in zip(samples[-1], step, strict=True)])  # fmt: skip
    times = tuple(start + 10**8 * index for index in range(len(samples)))
    data = CoreSamples(0.1, times, tuple(tuple(tuple(cpu) for cpu in s) for s in samples))
    rows = data.rows(keys={"round": 0}, round_start_ns=start)
    assert len(rows) == 2 * len(steps)
    for row in rows:
        assert set(row) <= set(CORES_SCHEMA.names)
        assert row["end_s"] - row["start_s"] == pytest.approx(0.1)
        if row["ticks"] == 0:
            assert row["busy"] is None  # no tick, no claim
        else:
            for share in ("busy", "user", "system", "iowait", "steal"):
                assert 0 <= row[share] <= 1
            assert row["busy"] == pytest.approx(row["user"] + row["system"] + row["steal"])
    busy = data.cores_busy()
    assert busy is None or 0 <= busy <= 2


def test_sampler_process_brackets_a_round_and_costs_little() -> None:
    sampler = CoreSampler(0.02)
    try:
        sampler.start()
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        cpu_before = sampler.cpu_s()
        end = time.thread_time() + 0.3
        while time.thread_time() < end:  # a busy round in this process
            pass
        cpu_after = sampler.cpu_s()
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        samples = sampler.stop()
        # the ring holds the newest sample at or before the start and all since: the
        # last is at most an interval old (more only when the sampler was held up)
        assert samples.times_ns[0] <= before
        assert before < samples.times_ns[-1] <= after
        assert list(samples.times_ns) == sorted(samples.times_ns)
        # woke on time while this process was busy: no GIL to wait for
        assert len(samples.times_ns) >= 5  # 15 expected; a loaded machine may delay a few
        assert all(len(cpus) == os.cpu_count() for cpus in samples.ticks)
        busy = samples.cores_busy()
        assert busy is not None
        assert 0.5 <= busy <= (os.cpu_count() or 1)
        assert cpu_before is not None
        assert cpu_after is not None
        # a robust bound (measured: 0.2 to 0.4 ms a sample here, see docs/timelines.md)
        assert (cpu_after - cpu_before) / len(samples.times_ns) < 0.01
        sampler.start()  # a second round on the same process
        assert len(sampler.stop().times_ns) >= 2
    finally:
        sampler.close()
    assert sampler._process.returncode == 0


def test_a_round_reads_the_ring_and_asks_the_sampler_nothing() -> None:
    """The parent's cost per round: no message to the sampler, a few memory reads."""
    sampler = CoreSampler(0.1)
    try:
        sampler.start()  # waits for the first sample once
        calls = 5000
        started = time.process_time()
        for _ in range(calls):
            sampler.start()
            sampler.stop()
        per_round_us = (time.process_time() - started) / calls * 1e6
        # measured: 5 us here; 440 us with the old start/stop messages (CPU time: a busy
        # machine delays it, it does not inflate it)
        assert per_round_us < 40
    finally:
        sampler.close()


def test_the_ring_file_is_gone_once_the_sampler_has_mapped_it() -> None:
    sampler = CoreSampler(0.05)
    try:
        assert os.path.exists(sampler._path)
        sampler.start()
        assert not os.path.exists(sampler._path)
    finally:
        sampler.close()


def test_machine_busy_sees_a_busy_core_between_rounds() -> None:
    sampling = CoreSampling(0.02)
    try:
        assert sampling.begin()
        sampling.end()
        since = time.monotonic_ns()
        end = time.thread_time() + 0.25
        while time.thread_time() < end:  # keeps one core busy
            pass
        busy = sampling.machine_busy(since)
        assert busy is not None
        assert busy >= 0.5
    finally:
        sampling.close()
    assert CoreSampling(None).machine_busy(0) is None


def test_a_lost_sampler_is_said_once_and_sampling_stops() -> None:
    sampling = CoreSampling(0.05)
    try:
        assert sampling.begin()
        (pid,) = sampling.exclude
        os.kill(pid, 9)
        time.sleep(0.2)  # the kill lands; the next round's read notices, zombie or not
        with pytest.warns(MeasurementWarning, match="per-core sampling stopped"):
            assert sampling.end() is None
        assert not sampling.begin()
        assert sampling.exclude == ()
    finally:
        sampling.close()


def test_sampling_off_starts_nothing() -> None:
    sampling = CoreSampling(None)
    assert not sampling.begin()
    assert sampling.end() is None
    assert sampling.exclude == ()


EXPERIMENT = (
    """
import time
import pytest

"""
    + BUSY_SOURCE
    + """
@pytest.mark.concur(workload="cpu", models=["serial"], rounds=2, warmup=0)
def test_busy(concur):
    concur.map(busy, [0.15])
"""
)


def test_cores_table_end_to_end(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    # no repeats: a crowded round measured again would add a round
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           "--concur-sample-interval=0.03",
                                           "--concur-crowded-retries=0")  # fmt: skip
    result.assert_outcomes(passed=1)
    folder = Path(pytester.path, "results")
    (cores_file,) = folder.glob("cores/*.parquet")
    (rounds_file,) = folder.glob("rounds/*.parquet")
    cores = pd.DataFrame(pq.read_table(cores_file).to_pydict())
    rounds = pd.DataFrame(pq.read_table(rounds_file).to_pydict())
    assert list(cores.columns) == CORES_SCHEMA.names
    assert set(cores["round"]) == {0, 1}
    assert cores["cpu"].nunique() == os.cpu_count()
    for _, one in rounds.iterrows():
        mine = cores[cores["round"] == one["round"]]
        assert mine["start_s"].min() <= 0
        # the round reads the ring at its end: the newest sample is an interval old at
        # most (0.03 s), unless the sampler itself waited for a CPU
        assert mine["end_s"].max() >= one["wall_s"] - 0.03 - 0.05
        assert mine["sample"].nunique() >= 3
    assert (rounds["sample_interval_s"] == 0.03).all()
    # the session's own process used about one core: the machine was at least that busy
    assert (rounds["system_cores_busy"] >= 0.5).all()
    assert (rounds["sampler_cpu_s"] < 0.05).all()
    assert (rounds["descendants"] == 0).all()  # the sampler is not in the measured tree


def test_sampling_is_on_by_default_and_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    pytester.makeini("[pytest]\nconcur_sample_interval = 0\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    folder = Path(pytester.path, "results")
    assert list(folder.glob("cores/*.parquet")) == []
    (rounds_file,) = folder.glob("rounds/*.parquet")
    rounds = pd.DataFrame(pq.read_table(rounds_file).to_pydict())
    assert rounds["sample_interval_s"].isna().all()
    assert rounds["system_cores_busy"].isna().all()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-sample-interval=0.1", "--concur-results=again"
    )
    result.assert_outcomes(passed=1)
    assert len(list(Path(pytester.path, "again").glob("cores/*.parquet"))) == 1


def test_bad_interval_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--concur-sample-interval=-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--concur-sample-interval*zero or more*"])
