"""The heavy half of ``plugin.py``: everything a session with experiments needs, set up once.

A plugin is loaded by every pytest run in its environment, so ``plugin.py`` does nothing
until an experiment shows up (docs/architecture.md, "a good guest"): it registers the
``concur`` marker and waits. :func:`activate` runs at the first sign of an experiment
(its marker met at collection; on an xdist controller, a worker's report carrying rows,
or a journal of rows at session end). Only then are pyarrow and pandas imported, the
models registered, SIGTERM turned into an interrupt and the process made a child
subreaper; each change is undone when pytest unconfigures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from .._claims.hooks import ClaimHooks
from .._measuring.accounting import AccountingBackend, choose_backend, proc_unavailable
from .._measuring.environment import current_environment
from .._measuring.gil import enabled_before_session
from .._measuring.sampler import CoreSampling
from .._measuring.subreaper import become_child_subreaper
from .._reporting.outputs import SessionOutputs
from .._storing.journal import JournalFolder, worker_journal
from .._warnings import GilStateWarning
from ..models import ModelRegistryError, all_models, builtin_models
from .interrupt import terminate_like_interrupt
from .run_hooks import install as install_run_record
from .session import ConcurSession
from .settings import Settings, check_models, read_settings
from .xdist import MeasureGuard, is_worker, measure_guard


@dataclass(frozen=True, slots=True)
class Active:
    """What an active session holds besides its :class:`ConcurSession`."""

    state: ConcurSession
    guard: MeasureGuard
    sampling: CoreSampling
    accounting: AccountingBackend
    #: the session-end outputs; None on an xdist worker
    outputs: SessionOutputs | None = None


def activate(
    config: pytest.Config,
    *,
    run_id: str | None,
    started_at: Any,
    journals: JournalFolder | None,
    settings: Settings | None = None,
    gil_at_start: tuple[bool, frozenset[str]] | None = None,
) -> Active:
    """Set the session up for experiments; every change it makes is undone at unconfigure.

    ``run_id``/``started_at`` are the session identity fixed at configure time (the
    controller's on an xdist worker); ``journals`` the controller's journal folder;
    ``settings`` those read (and checked, model names aside) at configure time.
    """
    worker = is_worker(config)
    try:
        models = all_models(builtin_models(), config.pluginmanager)
    except ModelRegistryError as exc:
        raise pytest.UsageError(f"pytest-concur: {exc}") from None
    settings = read_settings(config, None) if settings is None else settings
    check_models(settings.models, models)
    try:
        accounting = choose_backend(settings.accounting)
    except ValueError as exc:  # proc asked for where it cannot work
        raise pytest.UsageError(f"--concur-accounting: {exc}") from None
    # the per-core sampler is a process of its own, started at the first measured round
    sampling = CoreSampling(settings.sample_interval if accounting.samples_cores else None)
    config.add_cleanup(sampling.close)
    environment = current_environment(run_id, started_at)
    state = ConcurSession(settings=settings, environment=environment, models=models)
    state.journals = journals
    unavailable = proc_unavailable()
    if accounting.name == "psutil" and unavailable is not None and not worker:
        state.notices.append(
            f"rows measured with the portable psutil backend ({unavailable}): coarser, and "
            f"without the child subreaper or the per-core sampler (docs/measurement.md)"
        )
    config.add_cleanup(state.close)
    install_run_record(config, state, worker=worker)  # provenance: the runs table
    # claims: carried on reports, judged at session end over all rows (docs/claims.md)
    claims = ClaimHooks(state, worker=worker)
    config.pluginmanager.register(claims, "concur-claims")
    # the report, verdicts, advice, comparison and HTML page: built at session end, in one
    # order (none on an xdist worker, which leaves no outputs)
    outputs = None if worker else SessionOutputs(state, claims, config.invocation_params.dir)
    state.journal = worker_journal(config)  # rows of a crashed item survive (xdist worker)
    if not worker:
        restore_sigterm = terminate_like_interrupt()  # SIGTERM ends the session as Ctrl-C
        if restore_sigterm is not None:
            config.add_cleanup(restore_sigterm)
        state.recover()  # what killed sessions left in the results folder
    guard = measure_guard(config, allow_overlap=settings.allow_overlap)
    config.add_cleanup(guard.close)
    if accounting.uses_subreaper:
        # orphaned grandchildren come back to this process, so their CPU time is counted
        undo_subreaper = become_child_subreaper()
        if undo_subreaper is not None:
            config.add_cleanup(undo_subreaper)
    # activated during collection: what collection imported is judged at its end, against
    # the state the session started with (configure time), not said to predate the session
    if gil_at_start is not None:
        state.gil.rewind(*gil_at_start)
    gil_note = enabled_before_session() if state.gil.enabled else None
    if gil_note is not None:
        config.issue_config_time_warning(GilStateWarning(gil_note), stacklevel=2)
    return Active(state=state, guard=guard, sampling=sampling, accounting=accounting,
                  outputs=outputs)  # fmt: skip
