"""pytest hooks of pytest-concur: options, markers, parametrization, the round loop, reports.

Thin on purpose: every hook delegates to a module of ``_running``. A good guest: a run
without experiments imports this module and the option declarations
(``_running/configuration.py``) and nothing else, and nothing in the process changes.
The first experiment collected (or models named on the command line) activates the
session (``_running/activation.py``); until then every hook returns at once.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from ._running.configuration import WORKLOADS, Settings, add_options, read_settings

if TYPE_CHECKING:
    from ._running.experiment import Experiment
    from ._running.fixture import Concur
    from ._running.session_hooks import Active
    from ._storing.journal import JournalFolder
    from .models import Model


class HookSpecs:
    """Hooks pytest-concur adds to pytest, for plugins and conftest.py files."""

    @pytest.hookspec
    def pytest_concur_register_models(self) -> list[Model]:  # type: ignore[empty-body]
        """Return concurrency models to add to the built-in ones.

        Called once per session at configure time, so implement it in a plugin or in the
        rootdir's ``conftest.py`` (conftest files further down load too late). Each model
        needs a name that no other model has. See docs/models.md for an example.
        """


@dataclass(slots=True)
class Gate:
    """What the hooks keep per session: its start and settings, then what activation made."""

    config: pytest.Config
    started_at: datetime
    settings: Settings
    #: the GIL state and the loaded modules at configure time (free-threaded builds)
    gil_at_start: tuple[bool, frozenset[str]]
    #: under xdist: the session's run id (the controller's), the controller's journals
    run_id: str | None = None
    journals: JournalFolder | None = None
    active: Active | None = None
    workload_markers: set[str] | None = None

    def activate(self) -> Active:
        """Set up for experiments, once (``_running/activation.py``)."""
        if self.active is None:
            from ._running.activation import activate

            self.active = activate(self)
        return self.active


_GATE = pytest.StashKey[Gate]()


def _active(config: pytest.Config) -> Active | None:
    gate = config.stash.get(_GATE, None)
    return gate.active if gate is not None else None


def _experiment_of(item: pytest.Item) -> Experiment | None:
    """The experiment an item runs; None (and nothing imported) for any other test."""
    if "concur" not in getattr(item, "fixturenames", ()):
        return None
    from ._running.experiment import experiment_of

    return experiment_of(item)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(HookSpecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--concur-check-system``: print the check and exit, running no tests."""
    if not config.getoption("concur_check_system", False):
        return None
    from ._running.run_hooks import print_system_check

    return print_system_check()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        'concur(workload, models=[...], workers=[...], rounds=N|"auto", warmup=, '
        "timeout=, start_method=, claim=, expect=[...]): a measured concurrency experiment; "
        "takes the `concur` fixture",
    )
    # options and ini keys are checked now, so a bad value is a usage error (the model
    # names wait for the registry, loaded now only when the command line names some)
    settings = read_settings(config, None)
    name = config.getoption("concur_save", None)
    if name is not None:
        from ._running.run_hooks import check_run_name

        check_run_name(config, name)
    # free-threaded builds: the GIL state the session starts with, and with the GIL off
    # the modules loaded so far, to name the import that turns it on
    probe = getattr(sys, "_is_gil_enabled", None)
    gil = probe is None or probe() is True
    gate = Gate(config, datetime.now(UTC), settings, (gil, frozenset(() if gil else sys.modules)))
    config.stash[_GATE] = gate
    if getattr(config.option, "dist", "no") != "no" or hasattr(config, "workerinput"):
        from ._running.session_hooks import watch_distributed

        watch_distributed(gate)  # xdist: the run id, and the controller's own hooks
    # model names asked for on the command line, models registered by a conftest or
    # plugin, or a stored run to compare with: this run means experiments, and a bad name
    # or a missing baseline is a usage error now
    registers_models = config.pluginmanager.hook.pytest_concur_register_models.get_hookimpls()
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
    from ._running.experiment import experiments_of
    from ._running.spec import SpecError, parse_spec

    session = metafunc.config.stash[_GATE].activate().session
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
    gate = config.stash[_GATE]
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
    active = _active(config)
    if active is not None:
        from ._running.experiment import deselect

        deselect(config, items, active.session.settings)


@pytest.fixture
def concur(request: pytest.FixtureRequest) -> Concur:
    """The runner for this experiment's model and worker count: ``concur.map(fn, items)``."""
    from ._running.driver import make_runner
    from ._running.experiment import Experiment

    experiment = getattr(request, "param", None)
    active = _active(request.config)
    if not isinstance(experiment, Experiment) or active is None:
        pytest.fail("the `concur` fixture needs the @pytest.mark.concur marker", pytrace=False)
    callspec = getattr(request.node, "callspec", None)  # start_method may be a parameter
    return make_runner(experiment, active, callspec.params if callspec else {})


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    experiment = _experiment_of(pyfuncitem)
    if experiment is None:
        return None
    from ._running.driver import run_item
    from ._running.xdist import is_worker

    active = pyfuncitem.config.stash[_GATE].activate()
    run_item(pyfuncitem, experiment, active, worker=is_worker(pyfuncitem.config))
    return True


def pytest_collection_finish(session: pytest.Session) -> None:
    # test modules imported during collection may have turned the GIL on
    active = _active(session.config)
    if active is not None:
        from ._running.session_hooks import check_gil

        check_gil(active.session, "collection")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    active = _active(item.config)
    if call.when == "call" and active is not None:
        from ._running.driver import carry_on_report

        carry_on_report(item, report, active)
    return report
