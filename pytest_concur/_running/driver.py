"""The round driver: one experiment item run as measured rounds, its rows sent on their way.

``plugin.py``'s ``pytest_pyfunc_call`` hands each experiment item here. The driver plans
the item's rounds (:func:`~.schedule.plan_rounds`), runs them (:func:`~.rounds.run_rounds`)
and sends every row as it is measured: to the session, or, on an xdist worker, to the
journal and onto the call report (:func:`carry_on_report`), which brings it to the
controller. An interrupt or a crash mid-item loses none.

With ``-v`` each round's wall time shows as the round ends: pytest's own progress is per
test item, and one item of an experiment runs all its rounds, so a slow variant would
look stuck. The line of the item grows instead: ``test_pi[threads-2] 0.87sw 0.86s 0.88s
PASSED`` (``w``: a warm-up round, ``c``: a crowded one, docs/adaptive-rounds.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import pytest

from .._storing.schema import CORES_SCHEMA, TASKS_SCHEMA
from .early_stop import early_stop
from .experiment import Experiment
from .fixture import Concur
from .rounds import describe_params, run_rounds
from .row import ItemFacts, RoundRow
from .schedule import plan_rounds
from .session_hooks import check_gil

if TYPE_CHECKING:
    from .session_hooks import Active

_ROWS = pytest.StashKey[list[RoundRow]]()
#: an item's rows of the tasks and cores tables, while it runs on an xdist worker
_TIMELINES = pytest.StashKey[tuple[list[dict[str, Any]], list[dict[str, Any]]]]()


def run_item(
    item: pytest.Function, experiment: Experiment, active: Active, *, worker: bool
) -> None:
    """Run the item's rounds; raises the test's own error when a round failed."""
    variant, spec = experiment.variant, experiment.spec
    session = active.session
    runner = item.funcargs["concur"]
    assert isinstance(runner, Concur)
    user_params = {name: value for name, value in item.callspec.params.items() if name != "concur"}
    params, params_json = describe_params(user_params)
    facts = ItemFacts(
        test_id=item.nodeid,
        experiment=experiment.id,
        params=params,
        params_json=params_json,
        workload=spec.workload,
        model=variant.model,
        workers=variant.workers,
        start_method=runner.start_method,
    )
    testargs = {arg: item.funcargs[arg] for arg in item._fixtureinfo.argnames}
    rows = item.stash.setdefault(_ROWS, [])
    check_gil(session, f"the setup of {item.nodeid}")
    progress = round_progress(item.config)
    item_rows: list[RoundRow] = []

    def on_round(row: RoundRow) -> None:
        progress(row)
        item_rows.append(row)
        if worker:
            rows.append(row)
            session.journal_row(row)
        else:
            session.add_rows([row])
        check_gil(session, f"round {row['round']} of {item.nodeid}")

    timelines = item.stash.setdefault(_TIMELINES, ([], []))

    def on_timeline(tasks: list[dict[str, Any]], cores: list[dict[str, Any]]) -> None:
        if worker:
            timelines[0].extend(tasks)
            timelines[1].extend(cores)
        else:
            session.add_rows(tasks, table="tasks", schema=TASKS_SCHEMA)
            session.add_rows(cores, table="cores", schema=CORES_SCHEMA)

    plan = plan_rounds(session.settings, spec)
    stop = early_stop(item, plan.adaptive)
    guard = active.guard
    error = run_rounds(
        lambda: item.obj(**testargs),
        runner,
        plan,
        facts,
        session.environment,
        exclusive=guard.exclusive,
        skip_types=(pytest.skip.Exception,),
        on_round=on_round,
        hold=guard.hold,
        timeout=plan.timeout,
        sampling=active.sampling,
        on_timeline=on_timeline,
        accounting=active.accounting,
        claims=None if stop is None else stop.check,
    )
    if stop is not None:
        stop.done(item_rows)
    if error is not None:
        raise error


def carry_on_report(item: pytest.Item, report: pytest.TestReport, active: Active) -> None:
    """The call report of an experiment item carries its rows as plain values, so xdist
    brings them to the controller."""
    rows = item.stash.get(_ROWS, None)
    if rows:
        report.concur_rows = rows  # type: ignore[attr-defined]
        active.session.rows_delivered()
    tasks, cores = item.stash.get(_TIMELINES, ([], []))
    if tasks:
        report.concur_tasks = tasks  # type: ignore[attr-defined]
    if cores:
        report.concur_cores = cores  # type: ignore[attr-defined]


def make_runner(experiment: Experiment, active: Active, params: Mapping[str, Any]) -> Concur:
    """The ``concur`` fixture's object for this item's model and worker count; ``params``
    are the test's parameters (one named ``start_method`` sweeps it)."""
    from ..models import ModelOptions
    from .spec import SpecError, swept_start_method

    session, variant = active.session, experiment.variant
    model = session.models[variant.model]
    reason = model.unavailable()
    if reason is not None:
        pytest.skip(f"model {variant.model!r} cannot run here: {reason}")
    try:
        swept = swept_start_method(experiment.spec, params)
    except SpecError as exc:
        pytest.fail(f"{experiment.id}: {exc}", pytrace=False)
    options = ModelOptions(
        start_method=swept or experiment.spec.start_method or session.settings.start_method,
        dask_scheduler=session.settings.dask_scheduler,
    )
    return Concur(model, variant.workers, options, trace=session.settings.task_timeline)


def _ignore(row: Mapping[str, Any]) -> None:
    return None


def round_progress(config: pytest.Config) -> Callable[[Mapping[str, Any]], None]:
    """A callback for each finished round: writes its wall time in verbose mode, else nothing.

    xdist workers have no terminal of their own; their progress is xdist's.
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.get_verbosity() < 1 or hasattr(config, "workerinput"):
        return _ignore

    capture = config.pluginmanager.get_plugin("capturemanager")

    def show(row: Mapping[str, Any]) -> None:
        # warm-up rounds are not in the statistics; crowded ones are measured again
        mark = "w" if row.get("warmup") else ("c" if row.get("crowded") else "")
        # the round runs inside the test call, where pytest captures the terminal
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            reporter.write(f"{row['wall_s']:.3g}s{mark} ")
            reporter.flush()

    return show
