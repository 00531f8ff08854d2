"""pytest hooks of pytest-concur: options, markers, parametrization, the round loop, reports.

Thin on purpose: every hook delegates to a module that owns the work.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import Any

import pytest

from ._environment import current_environment
from ._measure import become_child_subreaper
from ._rounds import ItemFacts, RoundPlan, Variant, describe_params, run_rounds
from ._runner import Concur
from ._session import ConcurSession
from ._settings import add_options, read_settings
from ._spec import WORKLOADS, ExperimentSpec, SpecError, parse_spec, variant_id
from ._warnings import GilStateWarning
from .models import ModelOptions, builtin_models

_SESSION = pytest.StashKey[ConcurSession]()
_ROWS = pytest.StashKey[list[dict[str, Any]]]()
_RUN_ID_KEY = "concur_run_id"


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
    models = {model.name: model for model in builtin_models()}
    settings = read_settings(config, models)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    run_id = workerinput.get(_RUN_ID_KEY) if workerinput else None
    state = ConcurSession(settings=settings, environment=current_environment(run_id), models=models)
    config.stash[_SESSION] = state
    config.pluginmanager.register(
        _SessionHooks(state, worker=_is_xdist_worker(config)), "concur-session"
    )
    # orphaned grandchildren come back to this process, so their CPU time is counted
    become_child_subreaper()
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(config), "concur-xdist")


class _XdistHooks:
    """Hooks that exist only when pytest-xdist is installed."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def pytest_configure_node(self, node: Any) -> None:
        session = self._config.stash[_SESSION]
        node.workerinput[_RUN_ID_KEY] = session.environment.run_id


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


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
    try:
        spec = parse_spec(marker.args, marker.kwargs, known_models=session.models)
    except SpecError as exc:
        problem = str(exc)
    else:
        problem = None
    if problem is not None:  # failed outside the except block: no chained traceback
        pytest.fail(f"{metafunc.definition.nodeid}: invalid concur marker: {problem}", pytrace=False)
    if not wants_fixture:
        pytest.fail(
            f"{metafunc.definition.nodeid}: a concur experiment must take the `concur` fixture "
            f"and run its work through it (concur.map(fn, items))",
            pytrace=False,
        )
    workload_mark = getattr(pytest.mark, spec.workload)
    metafunc.parametrize(
        "concur",
        [
            pytest.param(
                Variant(model, workers), id=variant_id(model, workers), marks=workload_mark
            )
            for model, workers in spec.variants()
        ],
        indirect=True,
    )


def _variant(item: pytest.Item) -> Variant | None:
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("concur") if callspec is not None else None
    return value if isinstance(value, Variant) else None


def _spec_of(item: pytest.Item) -> ExperimentSpec:
    marker = item.get_closest_marker("concur")
    assert marker is not None  # only items with a Variant get here
    session = item.config.stash[_SESSION]
    return parse_spec(marker.args, marker.kwargs, known_models=session.models)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = config.stash[_SESSION].settings
    if settings.models is None and settings.workers is None and settings.workloads is None:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        variant = _variant(item)
        if variant is None:
            keep.append(item)
            continue
        spec = _spec_of(item)
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
    variant = getattr(request, "param", None)
    if not isinstance(variant, Variant):
        pytest.fail("the `concur` fixture needs the @pytest.mark.concur marker", pytrace=False)
    session = request.config.stash[_SESSION]
    model = session.models[variant.model]
    reason = model.unavailable()
    if reason is not None:
        pytest.skip(f"model {variant.model!r} cannot run here: {reason}")
    spec = _spec_of(request.node)
    options = ModelOptions(start_method=spec.start_method or session.settings.start_method)
    return Concur(model, variant.workers, options)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    variant = _variant(pyfuncitem)
    if variant is None:
        return None
    session = pyfuncitem.config.stash[_SESSION]
    spec = _spec_of(pyfuncitem)
    runner = pyfuncitem.funcargs["concur"]
    assert isinstance(runner, Concur)
    warmup, rounds = session.settings.plan(spec)
    user_params = {
        name: value for name, value in pyfuncitem.callspec.params.items() if name != "concur"
    }
    params, params_json = describe_params(user_params)
    facts = ItemFacts(
        test_id=pyfuncitem.nodeid,
        experiment=pyfuncitem.nodeid.split("[", 1)[0],
        params=params,
        params_json=params_json,
        workload=spec.workload,
        model=variant.model,
        workers=variant.workers,
        start_method=runner.start_method if variant.model != "serial" else None,
    )
    testargs = {arg: pyfuncitem.funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames}
    rows = pyfuncitem.stash.setdefault(_ROWS, [])

    def on_round(row: dict[str, Any]) -> None:
        rows.append(row)
        if row["gil_enabled"] != session.gil_at_start and not session.gil_warned:
            session.gil_warned = True
            before = "enabled" if session.gil_at_start else "disabled"
            after = "enabled" if row["gil_enabled"] else "disabled"
            warnings.warn(
                GilStateWarning(
                    f"the GIL was {before} at the start of the session and is {after} "
                    f"after {pyfuncitem.nodeid}; every row records its own state"
                ),
                stacklevel=1,
            )

    error = run_rounds(
        lambda: pyfuncitem.obj(**testargs),
        runner,
        RoundPlan(warmup=warmup, rounds=rounds),
        facts,
        session.environment,
        exclusive=not _is_xdist_worker(pyfuncitem.config),
        skip_types=(pytest.skip.Exception,),
        on_round=on_round,
    )
    if error is not None:
        raise error
    return True


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
    return report


class _SessionHooks:
    """Hooks that need the session state but receive no config from pytest."""

    def __init__(self, state: ConcurSession, *, worker: bool) -> None:
        self._state = state
        self._worker = worker

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rows = getattr(report, "concur_rows", None)
        if rows and report.when == "call" and not self._worker:
            self._state.add_rows(rows)

    def pytest_sessionfinish(self) -> None:
        if not self._worker:
            self._state.save()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        state = self._state
        if self._worker:
            return
        if state.settings.report and state.rows:
            import pandas as pd

            from ._report import report_lines

            terminalreporter.section("pytest-concur report")
            for line in report_lines(pd.DataFrame(state.rows)):
                terminalreporter.write_line(line)
        if state.written is not None:
            terminalreporter.write_line(
                f"pytest-concur: {len(state.rows)} rows written to {state.written}"
            )
