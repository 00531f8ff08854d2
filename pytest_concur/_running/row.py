"""A round's row: every column of the rounds table, typed, and built in one place.

``RoundRow`` lists the columns of ``ROUNDS_SCHEMA`` (``_storing/schema.py``) in the same
order, with the Python type of each (tests/test_row.py proves they agree). It is a
``TypedDict``, so a row is a plain dict at run time: it crosses from xdist workers to
the controller as it is, and mypy rejects a misspelt or missing column where the row
is built. :class:`RowBuilder` is the only place a row is made; each column is decided
there once (those an item's rows share once per item, the rest once per round).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NewType, TypedDict

from .._measuring.environment import Environment, gil_enabled, load_average
from .._measuring.transfer import RoundTransfer
from .._measuring.usage import Usage
from .._measuring.watch import WatchReadings
from .._rounds.counting import other_cores, round_crowded, usable_cores
from .fixture import RoundCosts

if TYPE_CHECKING:
    from .schedule import ScheduleColumns

#: A time as ISO 8601 text with its UTC offset: how times travel in rows (a timestamp
#: column in the files).
IsoTime = NewType("IsoTime", str)


class RoundRow(TypedDict):
    """One measured round, as stored: the rounds table's columns in schema order."""

    run_id: str
    started_at: IsoTime
    host: str
    python: str
    implementation: str
    free_threaded: bool
    gil_enabled: bool
    tox_env: str | None
    cpu_model: str
    logical_cpus: int
    usable_cpus: int
    cpu_quota: float | None
    accounting: str
    platform: str
    xdist_worker: str | None
    test_id: str
    experiment: str
    params: str
    params_json: str
    workload: str
    model: str
    workers: int
    start_method: str | None
    round: int
    warmup: bool
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    cpu_s: float
    cores_used: float
    utilization: float
    ctx_voluntary: int
    ctx_involuntary: int
    max_rss_bytes: int
    startup_s: float
    shutdown_s: float
    descendants: int
    load_avg_1m: float
    exclusive: bool
    lock_wait_s: float | None
    round_started_at: IsoTime | None
    timeout_s: float | None
    executor_address: str | None
    sample_interval_s: float | None
    system_cores_busy: float | None
    sampler_cpu_s: float | None
    other_cores_busy: float | None
    crowded: bool | None
    repeat_of: int | None
    quiet_wait_s: float | None
    rel_half_width: float | None
    stop_reason: str | None
    tasks: int | None
    transfer_bytes: int | None
    transfer_s: float | None
    chunksize: int | None
    outcome: str
    error: str | None
    session_complete: bool


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What every row of one test item shares."""

    test_id: str
    experiment: str
    params: str
    params_json: str
    workload: str
    model: str
    workers: int
    #: the start method the experiment asks for (marker or option); None: the default
    start_method: str | None


@dataclass(frozen=True, slots=True)
class RoundFacts:
    """What only this round knows, besides its measurement."""

    index: int
    warmup: bool
    exclusive: bool
    outcome: str
    error: str | None
    #: seconds waited for the session's measure lock; None: no lock
    lock_wait_s: float | None
    #: when the timed window began (seconds since the epoch)
    started_at: float
    #: the round's task spans; None: task spans off
    tasks: int | None
    #: the accounting backend that measured the round (proc, psutil)
    accounting: str = "proc"


def start_method_of(facts: ItemFacts, costs: RoundCosts) -> str | None:
    """The start method a row records: the one the round's pool really used, when a pool
    ran (None for models that start no processes, the interpreter's default where none
    was named); otherwise the one asked for, except for serial, which starts nothing."""
    if costs.pool_ran:
        return costs.start_method
    return None if facts.model == "serial" else facts.start_method


class RowBuilder:
    """Makes the rows of one test item: what every row of the item shares (the session's
    environment, the item's facts) is decided once, here; each round copies that and
    fills in its own columns (a round's cost is the plugin's overhead, docs/performance.md).
    """

    __slots__ = ("_facts", "_item_row", "_usable_cores", "_utilization_cores")

    def __init__(
        self, environment: Environment, facts: ItemFacts, *, exclusive: bool, accounting: str
    ) -> None:
        self._facts = facts
        # against the cgroup quota where it allows fewer cores than the CPUs
        self._utilization_cores = environment.usable_cores
        self._usable_cores = usable_cores(environment.usable_cpus, environment.cpu_quota)
        # every column in schema order; those set to None or 0 below are the round's own,
        # filled by row() (the schedule's four as it decides: schedule.py)
        self._item_row = RoundRow(
            run_id=environment.run_id,
            started_at=IsoTime(environment.started_at.isoformat()),
            host=environment.host,
            python=environment.python,
            implementation=environment.implementation,
            free_threaded=environment.free_threaded,
            gil_enabled=True,
            tox_env=environment.tox_env,
            cpu_model=environment.cpu_model,
            logical_cpus=environment.logical_cpus,
            usable_cpus=environment.usable_cpus,
            cpu_quota=environment.cpu_quota,
            accounting=accounting,
            platform=environment.platform,
            # set by xdist before its worker starts: one process's value all along
            xdist_worker=os.environ.get("PYTEST_XDIST_WORKER"),
            test_id=facts.test_id,
            experiment=facts.experiment,
            params=facts.params,
            params_json=facts.params_json,
            workload=facts.workload,
            model=facts.model,
            workers=facts.workers,
            start_method=None,
            round=0,
            warmup=False,
            wall_s=0.0,
            cpu_user_s=0.0,
            cpu_sys_s=0.0,
            cpu_s=0.0,
            cores_used=0.0,
            utilization=0.0,
            ctx_voluntary=0,
            ctx_involuntary=0,
            max_rss_bytes=0,
            startup_s=0.0,
            shutdown_s=0.0,
            descendants=0,
            load_avg_1m=0.0,
            exclusive=exclusive,
            lock_wait_s=None,
            round_started_at=None,
            timeout_s=None,
            executor_address=None,
            sample_interval_s=None,
            system_cores_busy=None,
            sampler_cpu_s=None,
            other_cores_busy=None,
            crowded=None,
            repeat_of=None,
            quiet_wait_s=None,
            rel_half_width=None,
            stop_reason=None,
            tasks=None,
            transfer_bytes=None,
            transfer_s=None,
            chunksize=None,
            outcome="",
            error=None,
            session_complete=True,
        )

    def row(
        self,
        *,
        index: int,
        warmup: bool,
        outcome: str,
        error: str | None,
        lock_wait_s: float | None,
        started_at: float,
        tasks: int | None,
        usage: Usage,
        costs: RoundCosts,
        readings: WatchReadings,
        transfer: RoundTransfer,
        decide: Callable[[RoundRow], ScheduleColumns] | None = None,
    ) -> RoundRow:
        """One round's row: a tidy dict of plain values (they cross process boundaries
        under xdist). The arguments are :class:`RoundFacts`' fields and the measurement;
        ``decide`` is the item's schedule, which sees the row and gives the columns of its
        decision (whether the round counts, and why the item stops)."""
        row = self._item_row.copy()
        wall_s = usage.wall_s
        cpu_s = usage.cpu_s
        cores_used = cpu_s / wall_s if wall_s > 0 else float("nan")
        machine = readings.system_cores_busy
        row["gil_enabled"] = gil_enabled()
        row["start_method"] = start_method_of(self._facts, costs)
        row["round"] = index
        row["warmup"] = warmup
        row["wall_s"] = wall_s
        row["cpu_user_s"] = usage.cpu_user_s
        row["cpu_sys_s"] = usage.cpu_sys_s
        row["cpu_s"] = cpu_s
        row["cores_used"] = cores_used
        row["utilization"] = cores_used / self._utilization_cores
        row["ctx_voluntary"] = usage.ctx_voluntary
        row["ctx_involuntary"] = usage.ctx_involuntary
        row["max_rss_bytes"] = usage.max_rss_bytes
        row["startup_s"] = costs.startup_s
        row["shutdown_s"] = costs.shutdown_s
        row["descendants"] = usage.descendants_seen
        # the load as this round ended: the session's start says nothing about the round
        row["load_avg_1m"] = load_average()
        row["lock_wait_s"] = lock_wait_s
        row["round_started_at"] = IsoTime(datetime.fromtimestamp(started_at, UTC).isoformat())
        row["timeout_s"] = readings.timeout_s
        row["executor_address"] = costs.executor_address
        row["sample_interval_s"] = readings.sample_interval_s
        row["system_cores_busy"] = machine
        row["sampler_cpu_s"] = readings.sampler_cpu_s
        if machine is not None:  # without the sampler both are null
            row["other_cores_busy"] = other_cores(machine, cores_used)
            row["crowded"] = round_crowded(machine, cores_used, self._usable_cores)
        row["tasks"] = tasks
        row["transfer_bytes"] = transfer.bytes
        row["transfer_s"] = transfer.seconds
        row["chunksize"] = costs.chunksize
        row["outcome"] = outcome
        row["error"] = error
        if decide is not None:
            decided = decide(row)
            row["repeat_of"], row["quiet_wait_s"] = decided["repeat_of"], decided["quiet_wait_s"]
            row["rel_half_width"] = decided["rel_half_width"]
            row["stop_reason"] = decided["stop_reason"]
        return row


def round_row(
    environment: Environment,
    facts: ItemFacts,
    round_facts: RoundFacts,
    usage: Usage,
    costs: RoundCosts,
    readings: WatchReadings,
    transfer: RoundTransfer,
) -> RoundRow:
    """One round's row on its own (a loop of rounds keeps one :class:`RowBuilder`)."""
    builder = RowBuilder(
        environment, facts, exclusive=round_facts.exclusive, accounting=round_facts.accounting
    )
    return builder.row(
        index=round_facts.index,
        warmup=round_facts.warmup,
        outcome=round_facts.outcome,
        error=round_facts.error,
        lock_wait_s=round_facts.lock_wait_s,
        started_at=round_facts.started_at,
        tasks=round_facts.tasks,
        usage=usage,
        costs=costs,
        readings=readings,
        transfer=transfer,
    )
