"""A round's row: every column of the rounds table, typed, and built in one place.

``RoundRow`` lists the columns of ``ROUNDS_SCHEMA`` (``_storing/schema.py``) in the same
order, with the Python type of each (tests/test_row.py proves they agree). It is a
``TypedDict``, so a row is a plain dict at run time: it crosses from xdist workers to
the controller as it is, and mypy rejects a misspelt or missing column where the row
is built. :func:`round_row` is the only place a row is made; each column is decided
there once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NewType, TypedDict

from .._measuring.crowded_round import other_cores, round_crowded, usable_cores
from .._measuring.environment import Environment, gil_enabled, load_average
from .._measuring.transfer import RoundTransfer
from .._measuring.usage import Usage
from .._measuring.watch import WatchReadings
from .fixture import RoundCosts

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


def round_row(
    environment: Environment,
    facts: ItemFacts,
    round_facts: RoundFacts,
    usage: Usage,
    costs: RoundCosts,
    readings: WatchReadings,
    transfer: RoundTransfer,
) -> RoundRow:
    """One tidy row of plain values (they cross process boundaries under xdist)."""
    cores_used = usage.cpu_s / usage.wall_s if usage.wall_s > 0 else float("nan")
    return RoundRow(
        run_id=environment.run_id,
        started_at=IsoTime(environment.started_at.isoformat()),
        host=environment.host,
        python=environment.python,
        implementation=environment.implementation,
        free_threaded=environment.free_threaded,
        gil_enabled=gil_enabled(),
        tox_env=environment.tox_env,
        cpu_model=environment.cpu_model,
        logical_cpus=environment.logical_cpus,
        usable_cpus=environment.usable_cpus,
        cpu_quota=environment.cpu_quota,
        accounting=round_facts.accounting,
        platform=environment.platform,
        xdist_worker=os.environ.get("PYTEST_XDIST_WORKER"),
        test_id=facts.test_id,
        experiment=facts.experiment,
        params=facts.params,
        params_json=facts.params_json,
        workload=facts.workload,
        model=facts.model,
        workers=facts.workers,
        start_method=start_method_of(facts, costs),
        round=round_facts.index,
        warmup=round_facts.warmup,
        wall_s=usage.wall_s,
        cpu_user_s=usage.cpu_user_s,
        cpu_sys_s=usage.cpu_sys_s,
        cpu_s=usage.cpu_s,
        cores_used=cores_used,
        # against the cgroup quota where it allows fewer cores than the CPUs
        utilization=cores_used / environment.usable_cores,
        ctx_voluntary=usage.ctx_voluntary,
        ctx_involuntary=usage.ctx_involuntary,
        max_rss_bytes=usage.max_rss_bytes,
        startup_s=costs.startup_s,
        shutdown_s=costs.shutdown_s,
        descendants=usage.descendants_seen,
        # the load as this round ended: the session's start says nothing about the round
        load_avg_1m=load_average(),
        exclusive=round_facts.exclusive,
        lock_wait_s=round_facts.lock_wait_s,
        round_started_at=IsoTime(datetime.fromtimestamp(round_facts.started_at, UTC).isoformat()),
        timeout_s=readings.timeout_s,
        executor_address=costs.executor_address,
        sample_interval_s=readings.sample_interval_s,
        system_cores_busy=readings.system_cores_busy,
        sampler_cpu_s=readings.sampler_cpu_s,
        other_cores_busy=other_cores(readings.system_cores_busy, cores_used),
        crowded=round_crowded(
            readings.system_cores_busy,
            cores_used,
            usable_cores(environment.usable_cpus, environment.cpu_quota),
        ),
        # the schedule's columns: it fills them as it counts the round (schedule.py)
        repeat_of=None,
        quiet_wait_s=None,
        rel_half_width=None,
        stop_reason=None,
        tasks=round_facts.tasks,
        transfer_bytes=transfer.bytes,
        transfer_s=transfer.seconds,
        outcome=round_facts.outcome,
        error=round_facts.error,
        session_complete=True,
    )
