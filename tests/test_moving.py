"""The moving share behind transfer_bound, and its chunksize suggestion (_advice/moving.py):
pure parts with generated inputs, the frame reader on hand-built spans, the sentence."""

from __future__ import annotations

import math
from typing import get_args

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._advice import codes as c
from pytest_concur._advice.moving import (
    Advice,
    Moving,
    RoundMoving,
    Suggestion,
    call_cost,
    finding,
    moving_by_variant,
    moving_share,
    suggest,
    summarise,
    union_length,
)
from pytest_concur._measuring.transfer import batched, split

seconds = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)
small_seconds = st.floats(min_value=1e-7, max_value=1e-2, allow_nan=False)
intervals = st.lists(
    st.tuples(seconds, seconds).map(lambda pair: (min(pair), max(pair))), max_size=20
)


@given(intervals)
def test_union_length_is_between_the_longest_and_the_sum(spans: list[tuple[float, float]]) -> None:
    covered = union_length(spans)
    lengths = [end - start for start, end in spans]
    assert max(lengths, default=0.0) - 1e-9 <= covered <= sum(lengths) + 1e-9


def test_union_length_counts_overlaps_once() -> None:
    assert union_length([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]) == pytest.approx(4.0)
    assert union_length([(0.0, 4.0), (1.0, 2.0)]) == pytest.approx(4.0)


@given(
    st.lists(st.tuples(st.integers(0, 3), seconds, seconds), min_size=1, max_size=20),
    seconds,
)
def test_a_call_costs_at_least_what_its_tasks_took(
    raw: list[tuple[int, float, float]], map_start: float
) -> None:
    spans = [(worker, min(a, b), max(a, b)) for worker, a, b in raw]
    cost = call_cost(map_start, spans)
    assert 0.0 <= cost.inside_s <= cost.window_s + 1e-9
    assert cost.outside_s >= 0.0


def test_a_worker_is_charged_up_to_its_own_last_task() -> None:
    # worker 1: waits 1 s, works 1 s; worker 2: works 0.5 s right away, then idles
    # (its idle tail is imbalance, not moving)
    cost = call_cost(0.0, [(1, 1.0, 2.0), (2, 0.0, 0.5)])
    assert cost.window_s == pytest.approx(2.5)
    assert cost.inside_s == pytest.approx(1.5)
    assert cost.outside_s == pytest.approx(1.0)


@given(seconds, seconds, seconds)
def test_the_share_is_a_fraction(outside: float, inside: float, pickling: float) -> None:
    share = moving_share(outside, inside, pickling)
    assert math.isnan(share) or 0.0 <= share <= 1.0
    assert math.isnan(share) == (max(outside, pickling) + inside == 0)


@given(seconds, seconds, seconds, st.floats(min_value=1e-6, max_value=1.0))
def test_the_share_grows_with_the_moving(
    outside: float, inside: float, pickling: float, more: float
) -> None:
    inside = inside + 1e-3
    assert moving_share(outside + more, inside, pickling) >= moving_share(outside, inside, pickling)


def test_the_share_takes_the_larger_bound_and_does_not_add_them() -> None:
    # pickling inside the workers' windows is already in their outside time
    assert moving_share(0.9, 0.1, 0.5) == pytest.approx(0.9)
    assert moving_share(0.1, 0.1, 0.3) == pytest.approx(0.75)


def _suggest(moving: float, pickling: float, work: float, **given: object) -> Suggestion:
    options: dict[str, object] = {"bytes_per_task": 100.0, "chunksize": None,
                                  "tasks_per_worker": 1e6} | given  # fmt: skip
    return suggest(moving_s=moving, pickling_s=pickling, work_s=work, **options)  # type: ignore[arg-type]


@given(small_seconds, small_seconds, small_seconds)
def test_the_chunksize_suggested_is_the_smallest_that_meets_the_target(
    handover: float, pickling: float, work: float
) -> None:
    found = _suggest(handover + pickling, pickling, work)
    allowed = work * c.BATCH_OVERHEAD / (1 - c.BATCH_OVERHEAD)
    if pickling >= allowed:
        assert found.advice == "too_little_work"
        return
    assert found.advice == "chunksize"
    assert found.chunksize is not None
    assert found.chunksize >= 1
    overhead = handover / found.chunksize + pickling  # the batch model
    assert overhead / (overhead + work) <= c.BATCH_OVERHEAD * (1 + 1e-9)
    if found.chunksize > 1:
        smaller = handover / (found.chunksize - 1) + pickling
        assert smaller / (smaller + work) > c.BATCH_OVERHEAD * (1 - 1e-9)


def _batches_needed(found: Suggestion) -> float:
    """How big the batches must be: infinite where batching cannot help."""
    return math.inf if found.chunksize is None else float(found.chunksize)


@given(small_seconds, small_seconds, small_seconds, st.floats(min_value=1.0, max_value=10.0))
def test_the_suggestion_grows_with_the_handover_and_shrinks_with_the_work(
    handover: float, pickling: float, work: float, factor: float
) -> None:
    base = _batches_needed(_suggest(handover + pickling, pickling, work))
    dearer = _batches_needed(_suggest(handover * factor + pickling, pickling, work))
    heavier = _batches_needed(_suggest(handover + pickling, pickling, work * factor))
    costlier = _batches_needed(_suggest(handover + pickling * factor, pickling * factor, work))
    assert dearer >= base >= heavier
    assert costlier >= base


def test_the_handover_measured_in_batches_is_per_batch() -> None:
    # measured at chunksize 10: 10 us of hand-over per task is 100 us per batch
    once = _suggest(101e-6, 1e-6, 100e-6)
    again = _suggest(11e-6, 1e-6, 100e-6, chunksize=10)
    assert once == again == Suggestion("chunksize", math.ceil(100e-6 / (100e-6 / 9 - 1e-6)))


def test_batching_cannot_fix_big_data_nor_too_little_work() -> None:
    assert _suggest(0.1, 0.01, 1e-4, bytes_per_task=float(c.DATA_BYTES)).advice == "too_big"
    assert _suggest(0.1, 0.01, 1e-4, bytes_per_task=c.DATA_BYTES - 1.0).advice == (
        "too_little_work"
    )
    # 4 tasks per worker, but 50 would be needed
    assert _suggest(5e-3, 0.0, 1e-3, tasks_per_worker=4.0).advice == "too_few_tasks"
    assert _suggest(math.nan, 0.0, 1e-3).advice == "none"


Calls = list[tuple[float, list[tuple[int, float, float]]]]


def _spans(calls: Calls, **extra: object) -> pd.DataFrame:
    rows = []
    for map_index, (start, tasks) in enumerate(calls):
        for task, (pid, begin, end) in enumerate(tasks):
            rows.append({"run_id": "r", "test_id": "t[processes-2]", "round": 0,
                         "map_index": map_index, "task": task, "pid": pid, "thread_id": pid,
                         "start_s": begin, "end_s": end, "map_start_s": start,
                         "transfer_bytes": 100, "transfer_s": 1e-6} | extra)  # fmt: skip
    return pd.DataFrame(rows)


def _rounds(model: str = "processes", chunksize: float | None = None) -> pd.DataFrame:
    return pd.DataFrame([{"run_id": "r", "test_id": "t[processes-2]", "round": 0,
                          "experiment": "t", "params": "", "model": model, "workers": 2,
                          "chunksize": chunksize}])  # fmt: skip


def test_the_share_of_a_round_from_its_spans() -> None:
    # two workers, a call that began at 1.0: each ran two tasks of 10 ms, waiting 40 ms
    # before each: 80 ms of the 100 ms each worker spent on the call went to moving
    calls = [(1.0, [(11, 1.04, 1.05), (11, 1.09, 1.10), (12, 1.04, 1.05), (12, 1.09, 1.10)])]
    (moving,) = moving_by_variant(_rounds(), _spans(calls)).values()
    assert moving.tasks == 4
    assert moving.share == pytest.approx(0.8)
    assert moving.work_s == pytest.approx(0.01)
    assert moving.moving_s == pytest.approx(0.04)
    assert moving.bytes_per_task == 100


def test_short_calls_and_other_models_are_not_judged() -> None:
    short = [(1.0, [(11, 1.001, 1.002)])]  # under MIN_MAP_S: timer noise
    assert moving_by_variant(_rounds(), _spans(short)) == {}
    calls = [(1.0, [(11, 1.04, 1.05)])]
    assert moving_by_variant(_rounds(model="threads"), _spans(calls)) == {}
    # spans stored before map_start_s existed: nothing to measure the windows from
    assert moving_by_variant(_rounds(), _spans(calls).drop(columns="map_start_s")) == {}
    assert moving_by_variant(_rounds(), _spans(calls, map_start_s=None)) == {}


def test_the_rounds_chunksize_is_the_one_measured_at() -> None:
    calls = [(1.0, [(11, 1.04, 1.05), (12, 1.04, 1.05)])]
    (moving,) = moving_by_variant(_rounds(chunksize=8.0), _spans(calls)).values()
    assert moving.chunksize == 8


def _moving(share: float, advice: Suggestion, chunksize: int | None = None) -> Moving:
    return Moving(tasks=20_000, share=share, work_s=1e-6, moving_s=2.4e-5, pickling_s=1e-6,
                  bytes_per_task=76.0, chunksize=chunksize, suggestion=advice)  # fmt: skip


def test_the_sentence_gives_tasks_share_bytes_and_what_helps() -> None:
    text = finding(_moving(0.96, Suggestion("chunksize", 150)), transfer_s=0.0,
                   transfer_bytes=0.0, cpu_s=1.0)  # fmt: skip
    assert text == (
        "20,000 tasks of 1 us each; 96% of the workers' time went to moving them "
        "(24 us and 76 B per task): chunksize=150 would bring moving under 10% of the time"
    )
    big = finding(_moving(0.99, Suggestion("too_big"), chunksize=4), transfer_s=0.0,
                  transfer_bytes=0.0, cpu_s=1.0)  # fmt: skip
    assert big is not None
    assert "in batches of 4" in big
    assert big.endswith("the data itself is too big to move; batching cannot fix it")
    for advice in ("too_little_work", "too_few_tasks"):
        assert advice in get_args(Advice)
        said = finding(_moving(0.9, Suggestion(advice)), transfer_s=0.0,
                       transfer_bytes=0.0, cpu_s=1.0)  # fmt: skip
        assert said is not None
        assert "too little work to move" in said


def test_under_the_threshold_nothing_is_said() -> None:
    below = _moving(c.MOVE_SHARE - 0.01, Suggestion("chunksize", 3))
    assert finding(below, transfer_s=1.0, transfer_bytes=10.0, cpu_s=1.0) is None
    at = _moving(c.MOVE_SHARE, Suggestion("chunksize", 3))
    assert finding(at, transfer_s=0.0, transfer_bytes=0.0, cpu_s=1.0) is not None


def test_without_spans_the_pickling_share_of_the_cpu_decides() -> None:
    said = finding(None, transfer_s=0.3, transfer_bytes=2**20, cpu_s=1.0)
    assert said == "pickling 1.0 MiB took 300.0 ms, 30% of the round's CPU time"
    assert finding(None, transfer_s=0.2, transfer_bytes=2**20, cpu_s=1.0) is None
    assert finding(None, transfer_s=0.2, transfer_bytes=2**20, cpu_s=0.0) is None


@given(st.integers(0, 10_000), st.integers(1, 100))
def test_split_shares_add_up_and_differ_by_one_at_most(total: int, parts: int) -> None:
    shares = split(total, parts)
    assert len(shares) == parts
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1


@given(st.lists(st.integers(), max_size=50), st.integers(1, 20))
def test_batches_keep_every_job_in_order(jobs: list[int], size: int) -> None:
    batches = batched(jobs, size)
    assert [job for batch in batches for job in batch] == jobs
    assert all(1 <= len(batch) <= size for batch in batches)
    assert all(len(batch) == size for batch in batches[:-1])


def test_a_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        batched([1], 0)


def test_summarise_takes_medians_over_rounds() -> None:
    rounds = [RoundMoving(tasks=10, window_s=1.0, inside_s=0.5, pickling_s=0.01, bytes=1000,
                          workers=2) for _ in range(3)]  # fmt: skip
    moving = summarise(rounds, None)
    assert moving is not None
    assert moving.share == pytest.approx(0.5)
    assert moving.moving_s == pytest.approx(0.05)
    assert summarise([], None) is None
