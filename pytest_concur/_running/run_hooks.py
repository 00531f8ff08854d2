"""The run's record: ``--concur-save NAME``, ``--concur-check-system``, and the hooks that
tell the runs table what collection and xdist workers imported.

``plugin.py`` calls the two checks only when their option is given; the hooks are
registered when an experiment activates the session (a good guest, docs/architecture.md).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Final

import pytest

if TYPE_CHECKING:  # imported when used: a run without experiments imports nothing heavy
    from .session import ConcurSession

#: the key of an xdist worker's output that carries its imported modules
_MODULES: Final = "concur_modules"


def print_system_check() -> int:
    """``--concur-check-system``: print the check; the exit status of a run that stops."""
    from .._measuring.system_check import read_facts, report_lines

    for line in report_lines(read_facts()):
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0


def check_run_name(config: pytest.Config, name: str) -> None:
    """A bad ``--concur-save NAME`` is a usage error before anything runs."""
    from .run_record import origin_for

    origin = origin_for(config.rootpath, (), name)
    if origin.name is None:
        raise pytest.UsageError(f"--concur-save: {'; '.join(origin.notes)}")


class RunHooks:
    """On the controller (or a session without xdist), once the session is active."""

    def __init__(self, session: ConcurSession) -> None:
        self._session = session

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        origin = self._session.origin
        if origin is not None and session.items:
            origin.collected()  # the experiments' imports are loaded now

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """An xdist worker ended: the modules its experiments imported join the record."""
        origin = self._session.origin
        modules = getattr(node, "workeroutput", {}).get(_MODULES)
        if origin is not None and isinstance(modules, list):
            known = origin.modules if origin.modules is not None else tuple(sys.modules)
            origin.modules = tuple(sorted({*known, *map(str, modules)}))


class WorkerModules:
    """On an xdist worker: hand the controller the top-level modules imported here."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def pytest_sessionfinish(self) -> None:
        output = getattr(self._config, "workeroutput", None)
        if isinstance(output, dict):
            output[_MODULES] = sorted({name.split(".")[0] for name in sys.modules})


def install(config: pytest.Config, session: ConcurSession, *, worker: bool) -> None:
    """When the session becomes active: record where the run comes from."""
    from .run_record import origin_for

    if worker:
        config.pluginmanager.register(WorkerModules(config), "concur-worker-modules")
        return
    session.origin = origin_for(
        config.rootpath, config.invocation_params.args, config.getoption("concur_save", None)
    )
    if not config.pluginmanager.has_plugin("concur-run"):
        config.pluginmanager.register(RunHooks(session), "concur-run")
