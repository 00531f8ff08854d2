"""pytest hooks of pytest-concur: options, markers, parametrization, the round loop, reports.

Thin on purpose: every hook delegates to a module that owns the work. A good guest: until
an experiment is collected nothing heavy is imported and nothing in the process changes
(:mod:`._running.activation` does that, once, when the first experiment shows up).
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from ._measuring.environment import gil_enabled, new_run_id
from ._running.experiment import Experiment, experiment_of, experiments_of
from ._running.gate import GATE, Gate, SessionHooks, check_gil, gate_of, state_of
from ._running.settings import add_options, read_settings
from ._running.spec import SpecError, parse_spec
from ._running.xdist import ControllerHooks, is_worker, session_identity
from ._storing.journal import JournalFolder, JournalHooks

if TYPE_CHECKING:
    from ._running.fixture import Concur
    from ._running.row import RoundRow

_ROWS = pytest.StashKey["list[RoundRow]"]()  # RoundRow: imported for typing only
#: an item's rows of the tasks and cores tables, while it runs on an xdist worker
_TIMELINES = pytest.StashKey[tuple[list[dict[str, Any]], list[dict[str, Any]]]]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs
    from ._running import run_hooks

    pluginmanager.add_hookspecs(hookspecs)
    pluginmanager.register(run_hooks, "concur-run-hooks")  # --concur-save, --check-system


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        'concur(workload, models=[...], workers=[...], rounds=N|"auto", warmup=, '
        "timeout=, start_method=, claim=, expect=[...]): a measured concurrency experiment; "
        "takes the `concur` fixture",
    )
    # an xdist worker takes the controller's run id and start time; the rest is its own
    given_id, given_start = session_identity(config)
    started_at = given_start or datetime.now(UTC)
    gate = Gate(config, given_id or new_run_id(started_at), started_at)
    # free-threaded builds: the GIL state the session starts with, and with the GIL off the
    # modules loaded so far, to name the import that turns it on (cheap: no imports)
    enabled = gil_enabled()
    gate.gil_at_start = (enabled, frozenset() if enabled else frozenset(sys.modules))
    config.stash[GATE] = gate
    # options and ini keys are checked now, so a bad value is a usage error (cheap: the
    # model names wait for the registry, loaded now only when the command line names some)
    gate.settings = read_settings(config, None)
    config.pluginmanager.register(SessionHooks(gate, worker=is_worker(config)), "concur-session")
    if config.pluginmanager.hasplugin("xdist") and not is_worker(config):
        # the controller collects nothing: it tells every worker the session's identity,
        # lock and journal folder up front (each made only when a worker starts)
        controller = ControllerHooks(
            gate.run_id, gate.started_at,
            allow_overlap=gate.settings.allow_overlap,
        )  # fmt: skip
        config.pluginmanager.register(controller, "concur-xdist")
        config.add_cleanup(controller.close)
        gate.journals = JournalFolder()
        config.add_cleanup(gate.journals.remove)
        config.pluginmanager.register(JournalHooks(gate.journals), "concur-journal")
    # model names asked for on the command line, models registered by a conftest or
    # plugin, or a stored run to compare with: this run means experiments, and a bad name
    # or a missing baseline is a usage error now
    registers_models = config.pluginmanager.hook.pytest_concur_register_models.get_hookimpls()
    settings = gate.settings
    if settings.models is not None or settings.compare is not None or registers_models:
        gate.activate()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("concur")
    wants_fixture = "concur" in metafunc.fixturenames
    if marker is None:
        if wants_fixture:
            pytest.fail(
                f"{metafunc.definition.nodeid}: the `concur` fixture needs the experiment "
                f'marker, e.g. @pytest.mark.concur(workload="cpu", models=["serial", '
                f'"threads"], workers=[1, 2])',
                pytrace=False,
            )
        return
    session = gate_of(metafunc.config).activate().state
    problem: str | None = None
    try:
        spec = parse_spec(marker.args, marker.kwargs, known_models=session.models)
    except SpecError as exc:
        problem = str(exc)
    if problem is not None:  # failed outside the except block: no chained traceback
        pytest.fail(
            f"{metafunc.definition.nodeid}: invalid concur marker: {problem}", pytrace=False
        )
    if not wants_fixture:
        pytest.fail(
            f"{metafunc.definition.nodeid}: a concur experiment must take the `concur` fixture "
            f"and run its work through it (concur.map(fn, items))",
            pytrace=False,
        )
    workload_mark = getattr(pytest.mark, _workload_marker(metafunc.config, spec.workload))
    # the parsed marker rides on each item's parameter: no later stage parses it again
    metafunc.parametrize(
        "concur",
        [
            pytest.param(experiment, id=experiment.variant.id, marks=workload_mark)
            for experiment in experiments_of(metafunc.definition.nodeid, spec)
        ],
        indirect=True,
    )


def _workload_marker(config: pytest.Config, workload: str) -> str:
    """Register the workload's marker the first time an experiment uses it (--strict-markers)."""
    from ._running.spec import WORKLOADS

    gate = gate_of(config)
    if gate.workload_markers is None:
        gate.workload_markers = set()
    if workload not in gate.workload_markers:
        gate.workload_markers.add(workload)
        config.addinivalue_line(
            "markers", f"{workload}: concur workload type - {WORKLOADS[workload]}"
        )
    return workload


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = state_of(config)
    if state is None:
        return
    settings = state.settings
    if settings.models is None and settings.workers is None and settings.workloads is None:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        experiment = experiment_of(item)
        if experiment is None:
            keep.append(item)
            continue
        variant, spec = experiment.variant, experiment.spec
        selected = (
            (settings.models is None or variant.model in settings.models)
            and (settings.workloads is None or spec.workload in settings.workloads)
            and (
                settings.workers is None
                or variant.model == "serial"
                or variant.workers in settings.workers
            )
        )
        (keep if selected else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def concur(request: pytest.FixtureRequest) -> Concur:
    """The runner for this experiment's model and worker count: ``concur.map(fn, items)``."""
    from ._running.fixture import Concur
    from ._running.spec import SpecError, swept_start_method
    from .models import ModelOptions

    experiment = getattr(request, "param", None)
    session = state_of(request.config)
    if not isinstance(experiment, Experiment) or session is None:
        pytest.fail("the `concur` fixture needs the @pytest.mark.concur marker", pytrace=False)
    variant = experiment.variant
    model = session.models[variant.model]
    reason = model.unavailable()
    if reason is not None:
        pytest.skip(f"model {variant.model!r} cannot run here: {reason}")
    # a test parameter named start_method sweeps it (one pool per value)
    callspec = getattr(request.node, "callspec", None)
    try:
        swept = swept_start_method(experiment.spec, callspec.params if callspec else {})
    except SpecError as exc:
        pytest.fail(f"{request.node.nodeid}: {exc}", pytrace=False)
    options = ModelOptions(
        start_method=swept or experiment.spec.start_method or session.settings.start_method,
        dask_scheduler=session.settings.dask_scheduler,
    )
    return Concur(model, variant.workers, options, trace=session.settings.task_timeline)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    experiment = experiment_of(pyfuncitem)
    if experiment is None:
        return None
    from ._claims.lookout import lookout
    from ._running.fixture import Concur
    from ._running.progress import round_progress
    from ._running.round_options import round_plan
    from ._running.rounds import describe_params, run_rounds
    from ._running.row import ItemFacts
    from ._storing.schema import CORES_SCHEMA, TASKS_SCHEMA

    variant, spec = experiment.variant, experiment.spec
    active = gate_of(pyfuncitem.config).activate()
    session = active.state
    runner = pyfuncitem.funcargs["concur"]
    assert isinstance(runner, Concur)
    user_params = {
        name: value for name, value in pyfuncitem.callspec.params.items() if name != "concur"
    }
    params, params_json = describe_params(user_params)
    facts = ItemFacts(
        test_id=pyfuncitem.nodeid,
        experiment=experiment.id,
        params=params,
        params_json=params_json,
        workload=spec.workload,
        model=variant.model,
        workers=variant.workers,
        start_method=runner.start_method,
    )
    testargs = {arg: pyfuncitem.funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames}
    rows = pyfuncitem.stash.setdefault(_ROWS, [])
    # a worker's rows ride on the call report to the controller; elsewhere each goes to
    # the session as it is measured, so an interrupt or a crash mid-item loses none
    worker = is_worker(pyfuncitem.config)

    check_gil(session, f"the setup of {pyfuncitem.nodeid}")
    progress = round_progress(pyfuncitem.config)

    item_rows: list[RoundRow] = []

    def on_round(row: RoundRow) -> None:
        progress(row)
        item_rows.append(row)
        if worker:
            rows.append(row)
            session.journal_row(row)
        else:
            session.add_rows([row])
        check_gil(session, f"round {row['round']} of {pyfuncitem.nodeid}")

    timelines = pyfuncitem.stash.setdefault(_TIMELINES, ([], []))

    def on_timeline(tasks: list[dict[str, Any]], cores: list[dict[str, Any]]) -> None:
        if worker:
            timelines[0].extend(tasks)
            timelines[1].extend(cores)
        else:
            session.add_rows(tasks, table="tasks", schema=TASKS_SCHEMA)
            session.add_rows(cores, table="cores", schema=CORES_SCHEMA)

    plan = round_plan(session.settings, spec)
    look = lookout(pyfuncitem, plan.adaptive)
    guard = active.guard
    error = run_rounds(
        lambda: pyfuncitem.obj(**testargs),
        runner,
        plan,
        facts,
        session.environment,
        exclusive=guard.exclusive,
        skip_types=(pytest.skip.Exception,),
        on_round=on_round,
        hold=guard.hold,
        timeout=session.settings.round_timeout(spec),
        sampling=active.sampling,
        on_timeline=on_timeline,
        accounting=active.accounting,
        claims=None if look is None else look.check,
    )
    if look is not None:
        look.done(item_rows)
    if error is not None:
        raise error
    return True


def pytest_collection_finish(session: pytest.Session) -> None:
    # test modules imported during collection may have turned the GIL on
    state = state_of(session.config)
    if state is not None:
        check_gil(state, "collection")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = state_of(item.config)
    if call.when == "call" and state is not None:
        rows = item.stash.get(_ROWS, None)
        if rows:
            # plain values ride on the report, so xdist brings them to the controller
            report.concur_rows = rows  # type: ignore[attr-defined]
            state.rows_delivered()
        tasks, cores = item.stash.get(_TIMELINES, ([], []))
        if tasks:
            report.concur_tasks = tasks  # type: ignore[attr-defined]
        if cores:
            report.concur_cores = cores  # type: ignore[attr-defined]
    return report
