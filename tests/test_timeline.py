"""Per-task spans: the picklable wrappers, their rows, the tasks table end to end."""

from __future__ import annotations

import asyncio
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import BUSY_SOURCE
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._measuring.spans import TaskSpan, interpreter_id, now_ns, task_rows, traced
from pytest_concur._storing.schema import TASKS_SCHEMA


def busy(seconds: float) -> float:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return seconds


async def nap(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


async def busy_async(seconds: float) -> float:
    busy(seconds)
    await asyncio.sleep(0)
    return seconds


def test_plain_wrapper_returns_value_and_span() -> None:
    wrapped = traced(busy, is_coroutine=False)
    before = now_ns()
    value, span = wrapped((7, 0.02))
    after = now_ns()
    assert value == 0.02
    index, host, pid, thread_id, interp, start, end, cpu, suspensions = span
    assert (index, pid, thread_id) == (7, os.getpid(), threading.get_native_id())
    assert isinstance(host, str)
    assert host
    assert interp == interpreter_id()
    assert before <= start <= end <= after
    assert 0.015e9 <= cpu <= (end - start) + 1e7  # its own thread's CPU, at most its span
    assert suspensions is None


def test_coroutine_cpu_counts_only_its_own_steps() -> None:
    """Two tasks share one loop: the napping one's span covers the busy one's work, but
    its CPU time does not."""

    async def both() -> list[Any]:
        return list(
            await asyncio.gather(
                traced(nap, is_coroutine=True)((0, 0.15)),
                traced(busy_async, is_coroutine=True)((1, 0.1)),
            )
        )

    (nap_value, nap_span), (busy_value, busy_span) = asyncio.run(both())
    assert (nap_value, busy_value) == (0.15, 0.1)
    nap_wall = (nap_span[6] - nap_span[5]) / 1e9
    assert nap_wall >= 0.14
    assert nap_span[7] / 1e9 < 0.05  # the busy task's 0.1 s is not charged to it
    assert busy_span[7] / 1e9 >= 0.09
    assert nap_span[8] is not None
    assert nap_span[8] >= 1
    assert busy_span[8] == 1  # exactly one await that yields


def test_coroutine_wrapper_passes_cancellation_and_errors_through() -> None:
    async def boom(item: int) -> int:
        await asyncio.sleep(0)
        raise ValueError(item)

    async def run() -> None:
        with pytest.raises(ValueError, match="3"):
            await traced(boom, is_coroutine=True)((0, 3))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(traced(nap, is_coroutine=True)((0, 5.0)), 0.05)

    asyncio.run(run())


def test_wrappers_pickle_by_reference() -> None:
    for wrapper in (traced(busy, is_coroutine=False), traced(nap, is_coroutine=True)):
        again = pickle.loads(pickle.dumps(wrapper))
        assert type(again) is type(wrapper)
        assert again.fn is wrapper.fn  # type: ignore[attr-defined]


def test_wrapper_overhead_is_small() -> None:
    """A robust bound, not a benchmark: the measured figure is in docs/timelines.md."""

    def noop(item: int) -> int:
        return item

    wrapped = traced(noop, is_coroutine=False)
    calls = 20_000
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for index in range(calls):
            wrapped((index, index))
        bare_start = time.perf_counter()
        for index in range(calls):
            noop(index)
        bare = time.perf_counter() - bare_start
        best = min(best, (bare_start - started - bare) / calls)
    assert best < 50e-6


def test_timeline_module_imports_no_pandas_or_numpy() -> None:
    """Workers and subinterpreters import it to unpickle tasks (numpy breaks the latter)."""
    code = (
        "import sys, pytest_concur._measuring.spans, pytest_concur.models;"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@given(
    spans=st.lists(
        st.tuples(
            st.integers(0, 10**6), st.integers(0, 10**9), st.integers(0, 10**9),
            st.integers(0, 10**9), st.none() | st.integers(0, 100),
        ),
        max_size=20,
    ),
    round_start=st.integers(0, 10**12),
)  # fmt: skip
def test_task_rows_are_relative_to_the_round(
    spans: list[tuple[int, int, int, int, int | None]], round_start: int
) -> None:
    records = [
        TaskSpan(0, index, "h", 1, 2, None, round_start + offset, round_start + offset + length,
                 cpu, suspended)
        for index, (offset, length, cpu, _, suspended) in enumerate(
            (a, b, c, d, e) for a, b, c, d, e in spans
        )
    ]  # fmt: skip
    rows = task_rows(records, keys={"run_id": "r", "test_id": "t", "round": 3},
                     round_start_ns=round_start)  # fmt: skip
    assert len(rows) == len(records)
    for row, span in zip(rows, records, strict=True):
        assert row["round"] == 3
        assert row["task"] == span.task
        assert row["start_s"] == pytest.approx((span.start_ns - round_start) / 1e9)
        assert row["end_s"] - row["start_s"] == pytest.approx(row["wall_s"], abs=1e-9)
        assert row["cpu_s"] == span.cpu_ns / 1e9
        assert set(row) <= set(TASKS_SCHEMA.names)


EXPERIMENT = """
import asyncio, os, time
import pytest

""" + BUSY_SOURCE + """
async def nap(seconds):
    await asyncio.sleep(seconds)
    return seconds

@pytest.mark.concur(workload="cpu", models=["serial", "threads"], workers=[2], rounds=2, warmup=1)
def test_busy(concur):
    assert concur.map(busy, [0.02] * 3) == [0.02] * 3
    assert concur.map(busy, [0.01]) == [0.01]

@pytest.mark.concur(workload="io", models=["asyncio"], workers=[3], rounds=1, warmup=0)
def test_nap(concur):
    assert concur.map(nap, [0.05] * 3) == [0.05] * 3
"""


def tables(pytester: pytest.Pytester) -> dict[str, pd.DataFrame]:
    """Each table file the session wrote, by kind."""
    found: dict[str, pd.DataFrame] = {}
    for path in Path(pytester.path, "results").glob("*/*.parquet"):
        kind = path.parent.name
        # plain Python values, not pd.read_parquet or to_pandas: pytester drops modules
        # imported during a test, and pandas' Arrow-backed types break when re-imported
        found[kind] = pd.DataFrame(pq.read_table(path).to_pydict())
    return found


def test_tasks_table_end_to_end(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0")
    result.assert_outcomes(passed=3)
    found = tables(pytester)
    assert set(found) == {"rounds", "tasks", "recommendations", "runs"}  # sampling off: no cores
    rounds, tasks = found["rounds"], found["tasks"]
    assert list(tasks.columns) == TASKS_SCHEMA.names
    # 2 variants x 3 rounds x 4 tasks, and 1 x 1 x 3
    assert len(tasks) == 2 * 3 * 4 + 3
    assert (rounds["tasks"] == [4] * 6 + [3]).all()
    merged = tasks.merge(rounds, on=["run_id", "test_id", "round"], suffixes=("", "_round"))
    assert len(merged) == len(tasks)  # every task belongs to a stored round
    assert (merged["start_s"] >= -1e-3).all()
    assert (merged["end_s"] <= merged["wall_s_round"] + 1e-3).all()
    busy_tasks = tasks[tasks["test_id"].str.contains("busy")]
    assert sorted(busy_tasks["map_index"].unique()) == [0, 1]
    assert (busy_tasks["cpu_s"] >= busy_tasks["wall_s"].clip(upper=0.009)).all()
    serial = tasks[tasks["model"] == "serial"]
    assert serial["pid"].nunique() == 1
    assert serial["thread_id"].nunique() == 1
    assert (serial["thread_id"] == serial["pid"]).all()  # the main thread ran them
    threads = tasks[tasks["model"] == "threads"]
    assert (threads["pid"] == serial["pid"].iloc[0]).all()
    assert not (threads["thread_id"] == threads["pid"]).any()
    naps = tasks[tasks["model"] == "asyncio"]
    assert (naps["suspensions"] >= 1).all()
    assert (naps["cpu_s"] < naps["wall_s"]).all()
    # three naps of 0.05 s at once on one loop: their spans overlap
    assert naps["start_s"].max() < naps["end_s"].min()


def test_no_tasks_option_turns_the_table_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-no-tasks", "--concur-sample-interval=0", "-k", "nap"
    )
    result.assert_outcomes(passed=1, deselected=2)
    found = tables(pytester)
    assert set(found) == {"rounds", "recommendations", "runs"}
    assert found["rounds"]["tasks"].isna().all()


def test_timelines_under_xdist_are_written_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--concur-sample-interval=0.02"
    )
    result.assert_outcomes(passed=3)
    found = tables(pytester)
    rounds, tasks, cores = found["rounds"], found["tasks"], found["cores"]
    assert len(rounds) == 7
    assert len(tasks) == 2 * 3 * 4 + 3
    assert not tasks.duplicated(["test_id", "round", "map_index", "task"]).any()
    assert set(cores["test_id"]) == set(rounds["test_id"])
    assert not cores.duplicated(["test_id", "round", "sample", "cpu"]).any()
    assert set(rounds["xdist_worker"].dropna()) <= {"gw0", "gw1"}


def test_a_round_has_timeline_rows_only_with_spans_or_samples_that_reach_into_it() -> None:
    from pytest_concur._measuring.sampler import CoreSamples
    from pytest_concur._measuring.watch import RoundWatch

    watch = RoundWatch.begin(timeout=None, sampling=None)
    watch.round_start_ns = 1_000
    ticks = ((1, 0, 0, 9, 0, 0, 0, 0),)

    def samples(*times_ns: int) -> CoreSamples:
        return CoreSamples(0.1, times_ns, tuple(ticks for _ in times_ns))

    span = TaskSpan(map_index=0, task=0, host="h", pid=1, thread_id=1, interpreter_id=None,
                    start_ns=1_000, end_ns=2_000, cpu_ns=1_000, suspensions=None)  # fmt: skip
    no_spans: list[TaskSpan] = []
    for window in [None, samples(500, 900), samples(900)]:
        assert not watch.has_timeline(no_spans, window)
        # what it saves making: no row at all
        assert watch.timeline_rows({"round": 0}, no_spans, window) == ([], [])
    assert watch.has_timeline([span], None)
    assert watch.has_timeline([], samples(900, 1_100))
    assert watch.timeline_rows({"round": 0}, [], samples(900, 1_100))[1]
