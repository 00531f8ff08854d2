"""pytest hooks of pytest-concur: options, markers, parametrization, the round loop, reports.

Thin on purpose: every hook delegates to a module that owns the work.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import Any

import pytest

from ._claims.hooks import ClaimHooks
from ._measuring.environment import current_environment
from ._measuring.gil import enabled_before_session
from ._measuring.process_tree import become_child_subreaper
from ._measuring.sampler import CoreSampling
from ._reporting.outputs import SessionOutputs
from ._running.experiment import Experiment, experiment_of, experiments_of
from ._running.fixture import Concur
from ._running.interrupt import terminate_like_interrupt
from ._running.progress import round_progress
from ._running.rounds import RoundPlan, describe_params, run_rounds
from ._running.row import ItemFacts, RoundRow
from ._running.session import ConcurSession
from ._running.settings import add_options, read_settings
from ._running.spec import WORKLOADS, SpecError, parse_spec
from ._running.xdist import (
    ControllerHooks,
    MeasureGuard,
    is_worker,
    measure_guard,
    session_identity,
)
from ._storing.files import CORES_SCHEMA, TASKS_SCHEMA
from ._storing.journal import JournalFolder, JournalHooks, worker_journal
from ._storing.spill import fallback_folder
from ._warnings import GilStateWarning
from .models import ModelOptions, ModelRegistryError, all_models, builtin_models

_SESSION = pytest.StashKey[ConcurSession]()
_GUARD = pytest.StashKey[MeasureGuard]()
_ROWS = pytest.StashKey[list[RoundRow]]()
#: an item's rows of the tasks and cores tables, while it runs on an xdist worker
_TIMELINES = pytest.StashKey[tuple[list[dict[str, Any]], list[dict[str, Any]]]]()
_SAMPLING = pytest.StashKey[CoreSampling]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "concur(workload, models=[...], workers=[...], rounds=, warmup=, timeout=, "
        "start_method=, claim=, expect=[...]): a measured concurrency experiment; "
        "takes the `concur` fixture",
    )
    for name, description in WORKLOADS.items():
        config.addinivalue_line("markers", f"{name}: concur workload type - {description}")
    try:
        models = all_models(builtin_models(), config.pluginmanager)
    except ModelRegistryError as exc:
        raise pytest.UsageError(f"pytest-concur: {exc}") from None
    settings = read_settings(config, models)
    # the per-core sampler is a process of its own, started at the first measured round
    sampling = CoreSampling(settings.sample_interval)
    config.stash[_SAMPLING] = sampling
    config.add_cleanup(sampling.close)
    # an xdist worker takes the controller's run id and start time; the rest is its own
    run_id, started_at = session_identity(config)
    environment = current_environment(run_id, started_at)
    state = ConcurSession(settings=settings, environment=environment, models=models)
    config.stash[_SESSION] = state
    # claims: carried on reports, judged at session end over all rows (docs/claims.md)
    claims = ClaimHooks(state, worker=is_worker(config))
    config.pluginmanager.register(claims, "concur-claims")
    # the report, verdicts, comparison and HTML page: built at session end, in one order
    outputs = (
        None if is_worker(config) else SessionOutputs(state, claims, config.invocation_params.dir)
    )
    config.pluginmanager.register(_SessionHooks(state, outputs), "concur-session")
    config.add_cleanup(state.close)
    state.journal = worker_journal(config)  # rows of a crashed item survive (xdist worker)
    if not is_worker(config):
        restore_sigterm = terminate_like_interrupt()  # SIGTERM ends the session as Ctrl-C
        if restore_sigterm is not None:
            config.add_cleanup(restore_sigterm)
    guard = measure_guard(config, allow_overlap=settings.allow_overlap)
    config.stash[_GUARD] = guard
    config.add_cleanup(guard.close)
    # orphaned grandchildren come back to this process, so their CPU time is counted
    become_child_subreaper()
    if config.pluginmanager.hasplugin("xdist") and not is_worker(config):
        controller = ControllerHooks(
            environment.run_id, environment.started_at, allow_overlap=settings.allow_overlap
        )
        config.pluginmanager.register(controller, "concur-xdist")
        config.add_cleanup(controller.close)
        state.journals = JournalFolder()
        config.pluginmanager.register(JournalHooks(state.journals), "concur-journal")
    gil_note = enabled_before_session()
    if gil_note is not None:
        config.issue_config_time_warning(GilStateWarning(gil_note), stacklevel=2)


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
    session = metafunc.config.stash[_SESSION]
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
    workload_mark = getattr(pytest.mark, spec.workload)
    # the parsed marker rides on each item's parameter: no later stage parses it again
    metafunc.parametrize(
        "concur",
        [
            pytest.param(experiment, id=experiment.variant.id, marks=workload_mark)
            for experiment in experiments_of(metafunc.definition.nodeid, spec)
        ],
        indirect=True,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = config.stash[_SESSION].settings
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
    experiment = getattr(request, "param", None)
    if not isinstance(experiment, Experiment):
        pytest.fail("the `concur` fixture needs the @pytest.mark.concur marker", pytrace=False)
    variant = experiment.variant
    session = request.config.stash[_SESSION]
    model = session.models[variant.model]
    reason = model.unavailable()
    if reason is not None:
        pytest.skip(f"model {variant.model!r} cannot run here: {reason}")
    options = ModelOptions(
        start_method=experiment.spec.start_method or session.settings.start_method,
        dask_scheduler=session.settings.dask_scheduler,
    )
    return Concur(model, variant.workers, options, trace=session.settings.task_timeline)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    experiment = experiment_of(pyfuncitem)
    if experiment is None:
        return None
    variant, spec = experiment.variant, experiment.spec
    session = pyfuncitem.config.stash[_SESSION]
    runner = pyfuncitem.funcargs["concur"]
    assert isinstance(runner, Concur)
    warmup, rounds = session.settings.plan(spec)
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

    _check_gil(session, f"the setup of {pyfuncitem.nodeid}")
    progress = round_progress(pyfuncitem.config)

    def on_round(row: RoundRow) -> None:
        progress(row)
        if worker:
            rows.append(row)
            session.journal_row(row)
        else:
            session.add_rows([row])
        _check_gil(session, f"round {row['round']} of {pyfuncitem.nodeid}")

    timelines = pyfuncitem.stash.setdefault(_TIMELINES, ([], []))

    def on_timeline(tasks: list[dict[str, Any]], cores: list[dict[str, Any]]) -> None:
        if worker:
            timelines[0].extend(tasks)
            timelines[1].extend(cores)
        else:
            session.add_rows(tasks, table="tasks", schema=TASKS_SCHEMA)
            session.add_rows(cores, table="cores", schema=CORES_SCHEMA)

    guard = pyfuncitem.config.stash[_GUARD]
    error = run_rounds(
        lambda: pyfuncitem.obj(**testargs),
        runner,
        RoundPlan(warmup=warmup, rounds=rounds),
        facts,
        session.environment,
        exclusive=guard.exclusive,
        skip_types=(pytest.skip.Exception,),
        on_round=on_round,
        hold=guard.hold,
        timeout=session.settings.round_timeout(spec),
        sampling=pyfuncitem.config.stash[_SAMPLING],
        on_timeline=on_timeline,
    )
    if error is not None:
        raise error
    return True


def _check_gil(session: ConcurSession, where: str) -> None:
    change = session.gil.check(where)
    if change is not None:
        warnings.warn(GilStateWarning(change.message()), stacklevel=2)


def pytest_collection_finish(session: pytest.Session) -> None:
    # test modules imported during collection may have turned the GIL on
    _check_gil(session.config.stash[_SESSION], "collection")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":
        rows = item.stash.get(_ROWS, None)
        if rows:
            # plain values ride on the report, so xdist brings them to the controller
            report.concur_rows = rows  # type: ignore[attr-defined]
            item.config.stash[_SESSION].rows_delivered()
        tasks, cores = item.stash.get(_TIMELINES, ([], []))
        if tasks:
            report.concur_tasks = tasks  # type: ignore[attr-defined]
        if cores:
            report.concur_cores = cores  # type: ignore[attr-defined]
    return report


class _SessionHooks:
    """Hooks that need the session state but receive no config from pytest."""

    def __init__(self, state: ConcurSession, outputs: SessionOutputs | None) -> None:
        self._state = state
        self._outputs = outputs  # None on an xdist worker, which leaves no outputs
        self._worker = outputs is None

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        # any test, measured or not, may have turned the GIL on (recorded with the item)
        _check_gil(self._state, nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._worker:
            return
        rows = getattr(report, "concur_rows", None)
        if rows and report.when == "call":
            self._state.add_rows(rows)
        if report.when == "call":  # an xdist worker's timelines, written once, here
            self._state.add_rows(getattr(report, "concur_tasks", ()), table="tasks",
                                 schema=TASKS_SCHEMA)  # fmt: skip
            self._state.add_rows(getattr(report, "concur_cores", ()), table="cores",
                                 schema=CORES_SCHEMA)  # fmt: skip
        if report.when == "teardown":
            self._state.item_done()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self._worker:
            return
        self._state.recover()
        if session.config.pluginmanager.hasplugin("dsession"):
            # an xdist controller collects nothing, so it cannot know whether experiments
            # will run: it checks without creating anything, and says so now
            problem = self._state.check_results_folder(create=False)
            self._state.unwritable = problem
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if problem is not None and reporter is not None:
                reporter.write_line(
                    f"pytest-concur: results folder {self._state.settings.results_dir} cannot "
                    f"be written ({problem}); rows will be kept in {fallback_folder()} instead",
                    yellow=True,
                    bold=True,
                )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self._worker or session.config.option.collectonly:
            return
        if not any(experiment_of(item) is not None for item in session.items):
            return  # no experiment will run: the results folder does not matter
        problem = self._state.check_results_folder(create=True)
        if problem is not None:
            raise pytest.UsageError(
                f"pytest-concur cannot save results in {self._state.settings.results_dir}: "
                f"{problem}. Choose a folder that can be written with --concur-results DIR "
                f"(or the ini key concur_results), or measure without saving with "
                f"--concur-no-save."
            )

    def pytest_sessionfinish(
        self, session: pytest.Session, exitstatus: int | pytest.ExitCode
    ) -> None:
        if self._outputs is not None:
            ended_early = (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
            self._state.save(complete=exitstatus not in ended_early)
            self._outputs.finish(session)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self._outputs is not None:
            self._outputs.write_summary(terminalreporter)
