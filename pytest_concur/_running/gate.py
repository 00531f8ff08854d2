"""What plugin.py keeps per session before and after activation, and the hooks that use it.

Light on purpose (imported by every pytest run): heavy modules are imported inside the
functions that run only once an experiment made the session active.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from .._storing.journal import JournalFolder
from .experiment import experiment_of

if TYPE_CHECKING:
    from .activation import Active
    from .session import ConcurSession
    from .settings import Settings

GATE = pytest.StashKey["Gate"]()


@dataclass(slots=True)
class Gate:
    """The session's identity, fixed at configure time, and its state once active."""

    config: pytest.Config
    run_id: str
    started_at: datetime
    journals: JournalFolder | None = None
    active: Active | None = None
    workload_markers: set[str] | None = None
    settings: Settings | None = None
    #: the GIL state and the loaded modules at configure time (free-threaded builds)
    gil_at_start: tuple[bool, frozenset[str]] | None = None

    def activate(self) -> Active:
        """Set up for experiments (once); see :mod:`.activation`."""
        if self.active is None:
            from .activation import activate

            self.active = activate(
                self.config, run_id=self.run_id, started_at=self.started_at,
                journals=self.journals, settings=self.settings,
                gil_at_start=self.gil_at_start,
            )  # fmt: skip
        return self.active


def gate_of(config: pytest.Config) -> Gate:
    return config.stash[GATE]


def state_of(config: pytest.Config) -> ConcurSession | None:
    """The session state once an experiment made the plugin active; None before."""
    gate = config.stash.get(GATE, None)
    return gate.active.state if gate is not None and gate.active is not None else None


def check_gil(session: ConcurSession, where: str) -> None:
    change = session.gil.check(where)
    if change is not None:
        from .._warnings import GilStateWarning

        warnings.warn(GilStateWarning(change.message()), stacklevel=2)


class SessionHooks:
    """Hooks that need the session state but receive no config from pytest.

    Registered at configure time and idle until the session is active; on an xdist
    controller, which collects nothing, the first report carrying measurements (or a
    journal of rows at session end) makes it active.
    """

    def __init__(self, gate: Gate, *, worker: bool) -> None:
        self._gate = gate
        self._worker = worker

    @property
    def _state(self) -> ConcurSession | None:
        return self._gate.active.state if self._gate.active is not None else None

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        # any test, measured or not, may have turned the GIL on (recorded with the item)
        if self._state is not None:
            check_gil(self._state, nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._worker:
            return
        state = self._state
        if state is None:
            if report.when != "call" or not any(
                hasattr(report, name) for name in ("concur_rows", "concur_claim")
            ):
                return
            state = self._activate_controller()
            # registered during this very hook call: pytest calls them from the next one
            claims = self._gate.config.pluginmanager.get_plugin("concur-claims")
            if claims is not None:
                claims.pytest_runtest_logreport(report)
        if report.when == "call":
            from .._storing.schema import CORES_SCHEMA, TASKS_SCHEMA

            state.add_reported_rows(getattr(report, "concur_rows", None) or ())
            # an xdist worker's timelines, written once, here
            state.add_rows(getattr(report, "concur_tasks", ()), table="tasks",
                           schema=TASKS_SCHEMA)  # fmt: skip
            state.add_rows(getattr(report, "concur_cores", ()), table="cores",
                           schema=CORES_SCHEMA)  # fmt: skip
        if report.when == "teardown":
            state.item_done()

    def _activate_controller(self) -> ConcurSession:
        """Activate on the xdist controller; say at once where rows go if not the folder."""
        from .._storing.spill import fallback_folder

        state = self._gate.activate().state
        problem = state.check_results_folder(create=True)
        state.unwritable = problem
        reporter = self._gate.config.pluginmanager.get_plugin("terminalreporter")
        if problem is not None and reporter is not None:
            # said mid-run: under xdist the progress dots leave the line open (and
            # ensure_newline only knows of file paths, which xdist does not write)
            if reporter._tw.width_of_current_line:
                reporter._tw.line()
            reporter.write_line(
                f"pytest-concur: results folder {state.settings.results_dir} cannot "
                f"be written ({problem}); rows will be kept in {fallback_folder()} instead",
                yellow=True,
                bold=True,
            )
        return state

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        state = self._state
        if state is None or self._worker or session.config.option.collectonly:
            return
        if not any(experiment_of(item) is not None for item in session.items):
            return  # no experiment will run: the results folder does not matter
        problem = state.check_results_folder(create=True)
        if problem is not None:
            raise pytest.UsageError(
                f"pytest-concur cannot save results in {state.settings.results_dir}: "
                f"{problem}. Choose a folder that can be written with --concur-results DIR "
                f"(or the ini key concur_results), or measure without saving with "
                f"--concur-no-save."
            )

    def pytest_sessionfinish(
        self, session: pytest.Session, exitstatus: int | pytest.ExitCode
    ) -> None:
        if self._worker:
            return
        journals = self._gate.journals
        if self._state is None and journals is not None and journals.has_rows():
            self._activate_controller()  # a worker crashed before reporting its rows
        active = self._gate.active
        if active is not None and active.outputs is not None:
            ended_early = (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
            active.state.save(complete=exitstatus not in ended_early)
            active.outputs.finish(session)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        active = self._gate.active
        if not self._worker and active is not None and active.outputs is not None:
            active.outputs.write_summary(terminalreporter)
