"""The typed round row (_running/row.py) against the rounds table's schema, column for column."""

from __future__ import annotations

import dataclasses
import os
import types
from datetime import UTC, datetime
from typing import Any, Union, get_args, get_origin, get_type_hints

import pyarrow as pa
import pytest

from pytest_concur._measuring.environment import current_environment
from pytest_concur._measuring.spans import TaskSpan
from pytest_concur._measuring.transfer import round_transfer
from pytest_concur._measuring.usage import Usage
from pytest_concur._measuring.watch import WatchReadings
from pytest_concur._running.fixture import RoundCosts
from pytest_concur._running.rounds import run_rounds
from pytest_concur._running.row import (
    IsoTime,
    ItemFacts,
    RoundFacts,
    RoundRow,
    RowBuilder,
    round_row,
    start_method_of,
)
from pytest_concur._running.schedule import RoundPlan
from pytest_concur._storing.files import UnknownColumnError, rows_to_table
from pytest_concur._storing.schema import ROUNDS_SCHEMA

#: the Arrow type of a column for each Python type a row may hold
_ARROW_OF: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    IsoTime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(annotation: Any) -> tuple[pa.DataType, bool]:
    """(Arrow type, nullable) of a RoundRow annotation."""
    if get_origin(annotation) in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _ARROW_OF[inner], True
    return _ARROW_OF[annotation], False


def test_the_row_has_the_schemas_columns_in_order_with_their_types() -> None:
    hints = get_type_hints(RoundRow)
    assert list(hints) == ROUNDS_SCHEMA.names
    for field in ROUNDS_SCHEMA:
        arrow_type, _ = _arrow_type(hints[field.name])
        assert arrow_type == field.type, field.name


def test_every_column_is_required_in_a_row() -> None:
    # total: a row that forgets a column does not type-check
    assert RoundRow.__required_keys__ == frozenset(ROUNDS_SCHEMA.names)
    assert RoundRow.__optional_keys__ == frozenset()


FACTS = ItemFacts(
    test_id="t.py::test_x[processes-2]",
    experiment="t.py::test_x",
    params="",
    params_json="{}",
    workload="cpu",
    model="processes",
    workers=2,
    start_method="spawn",
)
USAGE = Usage(
    wall_s=0.5,
    cpu_user_s=0.8,
    cpu_sys_s=0.2,
    ctx_voluntary=3,
    ctx_involuntary=1,
    max_rss_bytes=1 << 20,
    descendants_seen=2,
)


def _row(costs: RoundCosts, facts: ItemFacts = FACTS) -> RoundRow:
    environment = current_environment("run-1", datetime(2026, 1, 1, tzinfo=UTC))
    return round_row(
        environment,
        facts,
        RoundFacts(
            index=3,
            warmup=False,
            exclusive=True,
            outcome="passed",
            error=None,
            lock_wait_s=None,
            started_at=1_767_225_600.0,
            tasks=None,
        ),
        USAGE,
        costs,
        WatchReadings(
            timeout_s=None, sample_interval_s=0.01, system_cores_busy=1.5, sampler_cpu_s=0.001
        ),
        round_transfer([(100, 2_000_000), None, (50, 1_000_000)]),
    )


def test_a_built_row_becomes_a_table_of_the_schema_with_every_value_kept() -> None:
    row = _row(RoundCosts(0.1, 0.05, start_method="spawn", pool_ran=True))
    hints = get_type_hints(RoundRow)
    for name, value in row.items():
        _, nullable = _arrow_type(hints[name])
        if value is None:
            assert nullable, f"{name} is None but its type does not allow it"
    table = rows_to_table([row])
    assert table.schema.equals(ROUNDS_SCHEMA)
    stored = table.to_pylist()[0]
    assert stored["cores_used"] == pytest.approx(2.0)
    assert stored["utilization"] == pytest.approx(2.0 / row["usable_cpus"])
    assert stored["round_started_at"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert stored["system_cores_busy"] == 1.5
    assert stored["round"] == 3
    assert (stored["transfer_bytes"], stored["transfer_s"]) == (150, pytest.approx(0.003))
    assert all(stored[name] is not None for name, value in row.items() if value is not None)


def test_the_start_method_is_the_pools_when_one_ran_else_the_one_asked_for() -> None:
    ran = RoundCosts(0.1, 0.05, start_method="forkserver", pool_ran=True)
    idle = RoundCosts(0.0, 0.0)
    assert start_method_of(FACTS, ran) == "forkserver"
    assert start_method_of(FACTS, idle) == "spawn"
    serial = dataclasses.replace(FACTS, model="serial", workers=1)
    assert start_method_of(serial, idle) is None
    threads_ran = RoundCosts(0.1, 0.05, start_method=None, pool_ran=True)
    assert start_method_of(FACTS, threads_ran) is None  # a pool without processes
    assert _row(ran)["start_method"] == "forkserver"


def test_an_unknown_key_is_an_error_naming_it_not_a_null_column() -> None:
    row: dict[str, Any] = dict(_row(RoundCosts(0.0, 0.0)))
    row["wal_s"] = row.pop("wall_s")
    with pytest.raises(UnknownColumnError, match="'wal_s'"):
        rows_to_table([row])


def test_a_missing_column_is_null() -> None:
    row: dict[str, Any] = dict(_row(RoundCosts(0.0, 0.0)))
    del row["tasks"]
    assert rows_to_table([row]).column("tasks").to_pylist() == [None]


class _FakeRunner:
    """A stand-in for Concur through the round loop's interface (RoundRunner)."""

    excluded_processes: tuple[int, ...] = ()
    traces_tasks = False

    def __init__(self) -> None:
        self.ended: list[bool] = []

    def end_round(self, *, abort: bool = False) -> RoundCosts:
        self.ended.append(abort)
        return RoundCosts(0.001, 0.002, start_method="forkserver", pool_ran=True)

    def take_spans(self) -> list[TaskSpan]:
        return []


def test_the_round_loop_builds_one_row_per_round_through_the_runners_interface() -> None:
    runner = _FakeRunner()
    rows: list[RoundRow] = []
    error = run_rounds(
        lambda: None,
        runner,
        RoundPlan(warmup=1, rounds=2),
        FACTS,
        current_environment("run-2"),
        exclusive=False,
        skip_types=(),
        on_round=rows.append,
    )
    assert error is None
    assert runner.ended == [False, False, False]  # each round ended inside its window
    assert [(row["round"], row["warmup"]) for row in rows] == [(0, True), (1, False), (2, False)]
    assert {row["start_method"] for row in rows} == {"forkserver"}  # what the pool used
    assert {row["startup_s"] for row in rows} == {0.001}
    assert {row["tasks"] for row in rows} == {None}  # spans off
    assert {(row["transfer_bytes"], row["transfer_s"]) for row in rows} == {(None, None)}
    rows_to_table(rows)  # every key a column


def _round_of(builder: RowBuilder, index: int, readings: WatchReadings) -> RoundRow:
    return builder.row(
        index=index,
        warmup=False,
        outcome="passed",
        error=None,
        lock_wait_s=None,
        started_at=1_767_225_600.0 + index,
        tasks=None,
        usage=USAGE,
        costs=RoundCosts(0.0, 0.0),
        readings=readings,
        transfer=round_transfer([]),
    )


def test_rows_of_one_builder_are_separate_dicts_with_the_items_columns_once_decided() -> None:
    environment = current_environment("run-3", datetime(2026, 1, 1, tzinfo=UTC))
    builder = RowBuilder(environment, FACTS, exclusive=True, accounting="proc")
    quiet = WatchReadings(
        timeout_s=None, sample_interval_s=0.1, system_cores_busy=2.0, sampler_cpu_s=0.0
    )
    first, second = _round_of(builder, 0, quiet), _round_of(builder, 1, WatchReadings(
        timeout_s=None, sample_interval_s=None, system_cores_busy=None, sampler_cpu_s=None
    ))  # fmt: skip
    assert first is not second
    assert list(first) == ROUNDS_SCHEMA.names == list(second)  # every column, schema order
    assert (first["round"], second["round"]) == (0, 1)
    assert first["round_started_at"] != second["round_started_at"]
    # the sampler's columns of the first round do not leak into the second
    assert first["other_cores_busy"] == pytest.approx(0.0)  # 2 busy, 2 of them its own
    assert first["crowded"] is False
    assert second["other_cores_busy"] is None
    assert second["crowded"] is None
    # the item's columns: as round_row decides them for a single row
    single = round_row(
        environment,
        FACTS,
        RoundFacts(
            index=0, warmup=False, exclusive=True, outcome="passed", error=None,
            lock_wait_s=None, started_at=1_767_225_600.0, tasks=None,
        ),
        USAGE,
        RoundCosts(0.0, 0.0),
        quiet,
        round_transfer([]),
    )  # fmt: skip
    # every column but the load, read as each row is made
    assert {**single, "load_avg_1m": 0.0} == {**first, "load_avg_1m": 0.0}
    assert first["started_at"] == "2026-01-01T00:00:00+00:00"
    assert first["xdist_worker"] == os.environ.get("PYTEST_XDIST_WORKER")
