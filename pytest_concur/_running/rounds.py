"""The round loop: the test body run once per round in one test item, each round measured."""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .._measuring.environment import Environment, gil_enabled
from .._measuring.process_tree import Meter, Usage
from .._measuring.sampler import CoreSampling
from .._measuring.spans import now_ns
from .._measuring.transfer import round_columns
from .._measuring.watch import RoundWatch
from .fixture import Concur, RoundCosts


@dataclass(frozen=True, slots=True)
class Variant:
    """One expansion of the marker: the model and worker count of a test item."""

    model: str
    workers: int


@dataclass(frozen=True, slots=True)
class RoundPlan:
    warmup: int
    rounds: int


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
    start_method: str | None


def describe_params(params: Mapping[str, object]) -> tuple[str, str]:
    """The user's own parameters as a readable key and as JSON (repr for non-JSON values)."""
    readable = ",".join(f"{name}={value}" for name, value in sorted(params.items()))
    as_json = json.dumps(dict(params), default=repr, sort_keys=True, ensure_ascii=False)
    if not as_json.isascii():
        try:
            as_json.encode("utf-8")
        except UnicodeEncodeError:
            # lone surrogates: JSON's \u escapes store them exactly, json.loads gives them back
            as_json = json.dumps(dict(params), default=repr, sort_keys=True)
    return readable, as_json


def _error_text(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return "".join(lines).strip()


def _outcome(error: BaseException | None, skip_types: tuple[type[BaseException], ...]) -> str:
    if error is None:
        return "passed"
    if isinstance(error, KeyboardInterrupt):  # Ctrl-C or SIGTERM: the round did not end
        return "interrupted"
    if isinstance(error, skip_types):
        return "skipped"
    return "failed"


def run_rounds(
    body: Callable[[], object],
    runner: Concur,
    plan: RoundPlan,
    facts: ItemFacts,
    environment: Environment,
    *,
    exclusive: bool,
    skip_types: tuple[type[BaseException], ...],
    on_round: Callable[[dict[str, Any]], None],
    hold: Callable[[], AbstractContextManager[float | None]] = lambda: nullcontext(None),
    timeout: float | None = None,
    sampling: CoreSampling | None = None,
    on_timeline: Callable[[list[dict[str, Any]], list[dict[str, Any]]], None] | None = None,
) -> BaseException | None:
    """Run warm-up and measured rounds; hand each row to ``on_round`` as soon as it exists.

    Stops at the first round that raises and returns that exception, so the caller can
    fail the test after every measured row is safe. ``hold`` guards each measured round
    (under xdist, the session's measure lock) and yields the seconds it waited, or None.
    ``timeout`` bounds each round; ``sampling`` samples per-core use; ``on_timeline``
    receives each round's rows of the ``tasks`` and ``cores`` tables (docs/timelines.md).
    """
    costs = RoundCosts(0.0, 0.0)
    watch: RoundWatch | None = None

    def one_round() -> None:
        nonlocal costs
        assert watch is not None
        watch.round_start_ns = now_ns()
        costs = RoundCosts(0.0, 0.0)
        with watch.deadline.armed():
            try:
                body()
            finally:
                costs = runner._end_round(abort=watch.deadline.expired)

    # one Meter for the item's rounds: its /proc files stay open between them
    with Meter() as meter:
        for index in range(plan.warmup + plan.rounds):
            # the guard spans the snapshots too: no other worker measures while they are read
            with hold() as lock_wait_s:
                watch = RoundWatch.begin(timeout=timeout, sampling=sampling)
                started_at = time.time()
                measured = meter.measure(
                    one_round, exclude=(*watch.exclude, *runner.excluded_processes)
                )
                samples = watch.end(measured.error)
            spans = runner._take_spans()
            row = make_row(
                measured.usage,
                costs,
                facts,
                environment,
                round_index=index,
                warmup=index < plan.warmup,
                exclusive=exclusive,
                lock_wait_s=lock_wait_s,
                round_started_at=datetime.fromtimestamp(started_at, UTC).isoformat(),
                outcome=_outcome(measured.error, skip_types),
                error=None if measured.error is None else _error_text(measured.error),
            )
            row.update(
                watch.columns(samples, tasks=len(spans) if runner._trace else None, costs=costs)
            )
            row.update(round_columns(span.transfer for span in spans))
            on_round(row)
            if on_timeline is not None:
                keys = {"run_id": row["run_id"], "test_id": facts.test_id, "round": index,
                        "model": facts.model, "workers": facts.workers}  # fmt: skip
                on_timeline(*watch.timeline_rows(keys, spans if runner._trace else None, samples))
            if measured.error is not None:
                return measured.error
    return None


def make_row(
    usage: Usage,
    costs: RoundCosts,
    facts: ItemFacts,
    environment: Environment,
    *,
    round_index: int,
    warmup: bool,
    exclusive: bool,
    outcome: str,
    error: str | None,
    lock_wait_s: float | None = None,
    round_started_at: str | None = None,
) -> dict[str, Any]:
    """One tidy row of plain values (they cross process boundaries under xdist)."""
    cores_used = usage.cpu_s / usage.wall_s if usage.wall_s > 0 else float("nan")
    row: dict[str, Any] = environment.as_row()
    row["started_at"] = environment.started_at.isoformat()
    row.update(
        gil_enabled=gil_enabled(),
        xdist_worker=os.environ.get("PYTEST_XDIST_WORKER"),
        test_id=facts.test_id,
        experiment=facts.experiment,
        params=facts.params,
        params_json=facts.params_json,
        workload=facts.workload,
        model=facts.model,
        workers=facts.workers,
        start_method=facts.start_method,
        round=round_index,
        warmup=warmup,
        wall_s=usage.wall_s,
        cpu_user_s=usage.cpu_user_s,
        cpu_sys_s=usage.cpu_sys_s,
        cpu_s=usage.cpu_s,
        cores_used=cores_used,
        utilization=cores_used / environment.usable_cpus,
        ctx_voluntary=usage.ctx_voluntary,
        ctx_involuntary=usage.ctx_involuntary,
        max_rss_bytes=usage.max_rss_bytes,
        startup_s=costs.startup_s,
        shutdown_s=costs.shutdown_s,
        descendants=usage.descendants_seen,
        load_avg_1m=os.getloadavg()[0],
        exclusive=exclusive,
        lock_wait_s=lock_wait_s,
        round_started_at=round_started_at,
        outcome=outcome,
        error=error,
        session_complete=True,
    )
    return row
