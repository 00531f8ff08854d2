"""The round loop: the test body run once per round in one test item, each round measured."""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._environment import Environment, gil_enabled
from ._measure import Usage, measure
from ._runner import Concur, RoundCosts


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
    return readable, as_json


def _error_text(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return "".join(lines).strip()


def _outcome(error: BaseException | None, skip_types: tuple[type[BaseException], ...]) -> str:
    if error is None:
        return "passed"
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
) -> BaseException | None:
    """Run warm-up and measured rounds; hand each row to ``on_round`` as soon as it exists.

    Stops at the first round that raises and returns that exception, so the caller can
    fail the test after every measured row is safe.
    """
    costs = RoundCosts(0.0, 0.0)

    def one_round() -> None:
        nonlocal costs
        try:
            body()
        finally:
            costs = runner._end_round()

    for index in range(plan.warmup + plan.rounds):
        measured = measure(one_round)
        row = make_row(
            measured.usage,
            costs,
            facts,
            environment,
            round_index=index,
            warmup=index < plan.warmup,
            exclusive=exclusive,
            outcome=_outcome(measured.error, skip_types),
            error=None if measured.error is None else _error_text(measured.error),
        )
        on_round(row)
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
        outcome=outcome,
        error=error,
        session_complete=True,
    )
    return row
