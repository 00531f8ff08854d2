"""concur.map(fn, items, chunksize=N) on the fixture object itself: batches for models that
ship tasks, spans still per task, the round's chunksize for its row; a warning and null
for models that cannot batch; a bad value refused before any worker starts."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable

import pytest

from pytest_concur import ConcurWarning
from pytest_concur._running.fixture import Concur
from pytest_concur.models import Model, ModelOptions, builtin_models


def _model(name: str) -> Model:
    (model,) = [m for m in builtin_models() if m.name == name]
    return model


def double(x: int) -> int:
    return 2 * x


async def double_later(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


SHIPPING = [("processes", double), ("asyncio-processes", double_later),
            pytest.param("subinterpreters", double, marks=pytest.mark.skipif(
                _model("subinterpreters").unavailable() is not None,
                reason="no concurrent.interpreters here (3.14+)"))]  # fmt: skip


@pytest.mark.parametrize(("model", "fn"), SHIPPING)
@pytest.mark.parametrize("trace", [True, False])
def test_batches_come_back_in_order_with_a_span_per_task(
    model: str, fn: Callable[[int], object], trace: bool
) -> None:
    concur = Concur(_model(model), 2, ModelOptions(start_method="fork"), trace=trace)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConcurWarning)
            assert concur.map(fn, range(23), chunksize=5) == [2 * x for x in range(23)]
            assert concur.map(fn, range(3), chunksize=2) == [0, 2, 4]
    finally:
        costs = concur.end_round()
    assert costs.chunksize == 5  # the largest of the round's
    spans = concur.take_spans()
    if not trace:
        assert spans == []
        return
    assert [(s.map_index, s.task) for s in spans] == [
        *((0, task) for task in range(23)),
        *((1, task) for task in range(3)),
    ]
    assert all(s.map_start_ns is not None and s.map_start_ns <= s.start_ns for s in spans)
    # each task carries an even share of its batch's bytes (one payload and reply per batch)
    first = [s.transfer_bytes for s in spans if s.map_index == 0]
    assert all(size is not None and size > 0 for size in first)
    for batch in range(0, 23, 5):
        shares = [size for size in first[batch : batch + 5] if size is not None]
        assert max(shares) - min(shares) <= 1
    # the next round starts unbatched
    assert concur.end_round().chunksize is None


def test_a_model_that_cannot_batch_says_so_and_stores_nothing() -> None:
    concur = Concur(_model("threads"), 2, ModelOptions())
    try:
        with pytest.warns(ConcurWarning, match="chunksize=4 ignored: threads does not ship"):
            assert concur.map(double, range(6), chunksize=4) == [0, 2, 4, 6, 8, 10]
    finally:
        costs = concur.end_round()
    assert costs.chunksize is None
    assert len(concur.take_spans()) == 6


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_a_bad_chunksize_is_refused_before_workers_start(bad: object) -> None:
    concur = Concur(_model("processes"), 2, ModelOptions())
    with pytest.raises(ValueError, match="chunksize must be a positive integer"):
        concur.map(double, range(3), chunksize=bad)  # type: ignore[arg-type]
    assert concur.end_round().pool_ran is False
