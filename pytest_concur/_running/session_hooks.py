"""The session's hooks that receive no config from pytest, and the set-up for xdist.

Registered when the session activates, or at configure time on an xdist controller, which
collects nothing: there the first report carrying measurements (or a journal of rows at
session end) activates the session. Light at import: heavy modules load where used.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import pytest

from .experiment import experiment_of

if TYPE_CHECKING:
    from .._measuring.accounting import AccountingBackend
    from .._measuring.sampler import CoreSampling
    from .._storing.journal import JournalFolder
    from .configuration import Settings
    from .outputs import SessionOutputs
    from .session import ConcurSession
    from .xdist import MeasureGuard


@dataclass(frozen=True, slots=True)
class Active:
    """What an active session holds besides its :class:`ConcurSession`."""

    session: ConcurSession
    guard: MeasureGuard
    sampling: CoreSampling
    accounting: AccountingBackend
    #: the session-end outputs; None on an xdist worker
    outputs: SessionOutputs | None = None


class SessionGate(Protocol):
    """What ``plugin.py`` keeps per session: fixed at configure time, then activated."""

    config: pytest.Config
    started_at: datetime
    settings: Settings
    gil_at_start: tuple[bool, frozenset[str]]
    #: the controller's run id on an xdist worker; the controller's own, once it has one
    run_id: str | None
    #: the controller's journal folder under xdist
    journals: JournalFolder | None
    active: Active | None

    def activate(self) -> Active: ...


def watch_distributed(gate: SessionGate) -> None:
    """Under xdist: a worker takes the controller's run id and start time; the controller
    tells every worker the session's identity, lock and journal folder up front (each
    made only when a worker starts), and listens for the rows its workers report."""
    from .._measuring.environment import new_run_id
    from .._storing.journal import JournalFolder, JournalHooks
    from .xdist import ControllerHooks, is_worker, session_identity

    config = gate.config
    given_id, given_start = session_identity(config)
    gate.started_at = given_start or gate.started_at
    gate.run_id = given_id or new_run_id(gate.started_at)
    if is_worker(config):
        return
    controller = ControllerHooks(
        gate.run_id, gate.started_at, allow_overlap=gate.settings.allow_overlap
    )
    config.pluginmanager.register(controller, "concur-xdist")
    config.add_cleanup(controller.close)
    gate.journals = JournalFolder()
    config.add_cleanup(gate.journals.remove)
    config.pluginmanager.register(JournalHooks(gate.journals), "concur-journal")
    register_session_hooks(gate, worker=False)


def register_session_hooks(gate: SessionGate, *, worker: bool) -> None:
    if not gate.config.pluginmanager.has_plugin("concur-session"):
        gate.config.pluginmanager.register(SessionHooks(gate, worker=worker), "concur-session")


def check_gil(session: ConcurSession, where: str) -> None:
    change = session.gil.check(where)
    if change is not None:
        from .._warning_types import GilStateWarning

        warnings.warn(GilStateWarning(change.message()), stacklevel=2)


class SessionHooks:
    """Hooks that need the ConcurSession but receive no config from pytest.

    Registered when the session activates; on an xdist controller, which collects
    nothing, at configure time, idle until the first report carrying measurements (or a
    journal of rows at session end) makes the session active.
    """

    def __init__(self, gate: SessionGate, *, worker: bool) -> None:
        self._gate = gate
        self._worker = worker

    @property
    def _session(self) -> ConcurSession | None:
        return self._gate.active.session if self._gate.active is not None else None

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        # any test, measured or not, may have turned the GIL on (recorded with the item)
        if self._session is not None:
            check_gil(self._session, nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._worker:
            return
        session = self._session
        if session is None:
            if report.when != "call" or not any(
                hasattr(report, name) for name in ("concur_rows", "concur_claim")
            ):
                return
            session = self._activate_controller()
            # registered during this very hook call: pytest calls them from the next one
            claims = self._gate.config.pluginmanager.get_plugin("concur-claims")
            if claims is not None:
                claims.pytest_runtest_logreport(report)
        if report.when == "call":
            from .._storing.schema import CORES_SCHEMA, TASKS_SCHEMA

            session.add_reported_rows(getattr(report, "concur_rows", None) or ())
            # an xdist worker's timelines, written once, here
            session.add_rows(getattr(report, "concur_tasks", ()), table="tasks",
                           schema=TASKS_SCHEMA)  # fmt: skip
            session.add_rows(getattr(report, "concur_cores", ()), table="cores",
                           schema=CORES_SCHEMA)  # fmt: skip
        if report.when == "teardown":
            session.item_done()

    def _activate_controller(self) -> ConcurSession:
        """Activate on the xdist controller; say at once where rows go if not the folder."""
        from .._storing.spill import fallback_folder

        session = self._gate.activate().session
        problem = session.check_results_folder(create=True)
        session.unwritable = problem
        reporter = self._gate.config.pluginmanager.get_plugin("terminalreporter")
        if problem is not None and reporter is not None:
            # said mid-run: under xdist the progress dots leave the line open (and
            # ensure_newline only knows of file paths, which xdist does not write)
            if reporter._tw.width_of_current_line:
                reporter._tw.line()
            reporter.write_line(
                f"pytest-concur: results folder {session.settings.results_dir} cannot "
                f"be written ({problem}); rows will be kept in {fallback_folder()} instead",
                yellow=True,
                bold=True,
            )
        return session

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        concur_session = self._session
        if concur_session is None or self._worker or session.config.option.collectonly:
            return
        if not any(experiment_of(item) is not None for item in session.items):
            return  # no experiment will run: the results folder does not matter
        problem = concur_session.check_results_folder(create=True)
        if problem is not None:
            raise pytest.UsageError(
                f"pytest-concur cannot save results in {concur_session.settings.results_dir}: "
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
        if self._session is None and journals is not None and journals.has_rows():
            self._activate_controller()  # a worker crashed before reporting its rows
        active = self._gate.active
        if active is not None and active.outputs is not None:
            ended_early = (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
            active.session.save(complete=exitstatus not in ended_early)
            active.outputs.finish(session)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        active = self._gate.active
        if not self._worker and active is not None and active.outputs is not None:
            active.outputs.write_summary(terminalreporter)
