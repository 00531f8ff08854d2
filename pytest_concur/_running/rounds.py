"""The round loop: the test body run once per round in one test item, each round measured."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from .._measuring.accounting import AccountingBackend, choose_backend
from .._measuring.environment import Environment
from .._measuring.sampler import CoreSampling
from .._measuring.spans import TaskSpan, now_ns
from .._measuring.transfer import NO_TRANSFER, round_transfer
from .._measuring.watch import RoundWatch
from .fixture import NO_POOL, RoundCosts
from .retry import CrowdedRetry
from .row import ItemFacts, RoundRow, RowBuilder
from .schedule import ClaimsCheck, RoundPlan, RoundSchedule


class RoundRunner(Protocol):
    """What the round loop needs of the fixture object (``Concur``): its public round side."""

    @property
    def excluded_processes(self) -> tuple[int, ...]: ...

    @property
    def traces_tasks(self) -> bool: ...

    def end_round(self, *, abort: bool = False) -> RoundCosts: ...

    def take_spans(self) -> list[TaskSpan]: ...


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
    runner: RoundRunner,
    plan: RoundPlan,
    facts: ItemFacts,
    environment: Environment,
    *,
    exclusive: bool,
    skip_types: tuple[type[BaseException], ...],
    on_round: Callable[[RoundRow], None],
    hold: Callable[[], AbstractContextManager[float | None]] = lambda: nullcontext(None),
    timeout: float | None = None,
    sampling: CoreSampling | None = None,
    on_timeline: Callable[[list[dict[str, Any]], list[dict[str, Any]]], None] | None = None,
    accounting: AccountingBackend | None = None,
    claims: ClaimsCheck | None = None,
) -> BaseException | None:
    """Run warm-up and measured rounds; hand each row to ``on_round`` as soon as it exists.

    Stops at the first round that raises and returns that exception, so the caller can
    fail the test after every measured row is safe. ``hold`` guards each measured round
    (under xdist, the session's measure lock) and yields the seconds it waited, or None.
    ``timeout`` bounds each round; ``sampling`` samples per-core use; ``on_timeline``
    receives each round's rows of the ``tasks`` and ``cores`` tables (docs/timelines.md),
    for the rounds that have any. ``claims`` lets adaptive rounds stop a variant once the
    claims it is part of are settled (_claims/interim.py).
    """
    costs = NO_POOL
    watch: RoundWatch | None = None

    def one_round() -> None:
        nonlocal costs
        assert watch is not None
        watch.round_start_ns = now_ns()
        costs = NO_POOL
        with watch.deadline.armed():
            try:
                body()
            finally:
                costs = runner.end_round(abort=watch.deadline.expired)

    retry = None
    if sampling is not None and plan.crowded_retries > 0:
        retry = CrowdedRetry(plan.crowded_retries, plan.quiet_wait_s, sampling.machine_busy)
    schedule = RoundSchedule(
        plan.warmup, plan.rounds, adaptive=plan.adaptive, retry=retry, claims=claims
    )
    backend = accounting if accounting is not None else choose_backend(None)
    rows = RowBuilder(environment, facts, exclusive=exclusive, accounting=backend.name)
    traces_tasks = runner.traces_tasks
    # one meter for the item's rounds: the /proc one keeps its files open between them
    with backend.meter() as meter:
        for index in schedule:
            # the guard spans the snapshots too: no other worker measures while they are read
            with hold() as lock_wait_s:
                watch = RoundWatch.begin(timeout=timeout, sampling=sampling)
                started_at = time.time()
                measured = meter.measure(
                    one_round, exclude=(*watch.exclude, *runner.excluded_processes)
                )
                samples = watch.end(measured.error)
            spans = runner.take_spans()
            row = rows.row(
                index=index,
                warmup=index < plan.warmup,
                outcome=_outcome(measured.error, skip_types),
                error=None if measured.error is None else _error_text(measured.error),
                lock_wait_s=lock_wait_s,
                started_at=started_at,
                tasks=len(spans) if traces_tasks else None,
                usage=measured.usage,
                costs=costs,
                readings=watch.readings(samples),
                transfer=round_transfer(span.transfer for span in spans) if spans else NO_TRANSFER,
                decide=schedule.observe,  # whether the round counts, and why it stops
            )
            on_round(row)
            traced = spans if traces_tasks else None
            if on_timeline is not None and watch.has_timeline(traced, samples):
                keys = {"run_id": row["run_id"], "test_id": facts.test_id, "round": index,
                        "model": facts.model, "workers": facts.workers}  # fmt: skip
                on_timeline(*watch.timeline_rows(keys, traced, samples))
            if measured.error is not None:
                return measured.error
    return None
