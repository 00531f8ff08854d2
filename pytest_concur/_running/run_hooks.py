"""Hooks of the run's record: ``--concur-save NAME``, ``--concur-check-system``, and what the
runs table needs to know from collection and from xdist workers.

The module is registered as a plugin when pytest-concur's hooks are added; until an
experiment activates the session it only reads its two options (a good guest, see
``_gate.py``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Final

import pytest

if TYPE_CHECKING:  # imported when used: a run without experiments imports nothing heavy
    from .session import ConcurSession

#: the key of an xdist worker's output that carries its imported modules
_MODULES: Final = "concur_modules"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concur", "concurrency experiments (pytest-concur)")
    group.addoption(
        "--concur-save",
        metavar="NAME",
        default=None,
        help="save the results (as by default) and give the run this name, shown by "
        "`pytest-concur list` and usable in place of its run id in `report` and `compare`",
    )
    group.addoption(
        "--concur-check-system",
        action="store_true",
        default=False,
        help="print the system check (frequency governor, boost, virtualisation and steal, "
        "CPU quota) and exit, as `pyperf system show` does",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--concur-check-system``: print the check and exit, running no tests."""
    if not config.getoption("concur_check_system", False):
        return None
    from .._measuring.system_check import read_facts, report_lines

    for line in report_lines(read_facts()):
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0


def pytest_configure(config: pytest.Config) -> None:
    """A bad ``--concur-save`` is a usage error before anything runs."""
    name: str | None = config.getoption("concur_save", None)
    if name is None:
        return
    if config.getoption("concur_no_save", False):
        raise pytest.UsageError("--concur-save NAME and --concur-no-save contradict each other")
    from .run_record import origin_for

    origin = origin_for(config.rootpath, (), name)
    if origin.name is None:
        raise pytest.UsageError(f"--concur-save: {'; '.join(origin.notes)}")


class RunHooks:
    """On the controller (or a session without xdist), once the session is active."""

    def __init__(self, state: ConcurSession) -> None:
        self._state = state

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        origin = self._state.origin
        if origin is not None and session.items:
            origin.collected()  # the experiments' imports are loaded now

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """An xdist worker ended: the modules its experiments imported join the record."""
        origin = self._state.origin
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


def install(config: pytest.Config, state: ConcurSession, *, worker: bool) -> None:
    """When the session becomes active: record where the run comes from."""
    from .run_record import origin_for

    if worker:
        config.pluginmanager.register(WorkerModules(config), "concur-worker-modules")
        return
    state.origin = origin_for(
        config.rootpath, config.invocation_params.args, config.getoption("concur_save", None)
    )
    if not config.pluginmanager.has_plugin("concur-run"):
        config.pluginmanager.register(RunHooks(state), "concur-run")
