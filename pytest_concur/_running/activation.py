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

import pytest

from .._measuring.accounting import choose_backend, proc_unavailable
from .._measuring.environment import current_environment, new_run_id
from .._measuring.gil import enabled_before_session
from .._measuring.sampler import CoreSampling
from .._measuring.subreaper import become_child_subreaper
from .._storing.journal import worker_journal
from .._warning_types import GilStateWarning
from ..models import ModelRegistryError, all_models, builtin_models
from .claims import ClaimHooks
from .configuration import check_names
from .interrupt import terminate_like_interrupt
from .outputs import SessionOutputs
from .run_hooks import install as install_run_record
from .session import ConcurSession
from .session_hooks import Active, SessionGate, register_session_hooks
from .xdist import is_worker, measure_guard


def activate(gate: SessionGate) -> Active:
    """Set the session up for experiments; every change it makes is undone at unconfigure.

    ``gate`` holds what configure time fixed: the settings (checked, model names aside),
    the start time and, under xdist, the run id and the controller's journal folder.
    """
    config, settings = gate.config, gate.settings
    run_id = gate.run_id or new_run_id(gate.started_at)
    worker = is_worker(config)
    try:
        models = all_models(builtin_models(), config.pluginmanager)
    except ModelRegistryError as exc:
        raise pytest.UsageError(f"pytest-concur: {exc}") from None
    check_names("--concur-models", settings.models, models)
    try:
        accounting = choose_backend(settings.accounting)
    except ValueError as exc:  # proc asked for where it cannot work
        raise pytest.UsageError(f"--concur-accounting: {exc}") from None
    # the per-core sampler is a process of its own, started at the first measured round
    sampling = CoreSampling(settings.sample_interval if accounting.samples_cores else None)
    config.add_cleanup(sampling.close)
    environment = current_environment(run_id, gate.started_at)
    session = ConcurSession(settings=settings, environment=environment, models=models)
    session.journals = gate.journals
    unavailable = proc_unavailable()
    if accounting.name == "psutil" and unavailable is not None and not worker:
        session.notices.append(
            f"rows measured with the portable psutil backend ({unavailable}): coarser, and "
            f"without the child subreaper or the per-core sampler (docs/measurement.md)"
        )
    config.add_cleanup(session.close)
    install_run_record(config, session, worker=worker)  # provenance: the runs table
    # claims: carried on reports, judged at session end over all rows (docs/claims.md)
    claims = ClaimHooks(session, worker=worker)
    config.pluginmanager.register(claims, "concur-claims")
    # the report, verdicts, advice, comparison and HTML page: built at session end, in one
    # order (none on an xdist worker, which leaves no outputs)
    outputs = None if worker else SessionOutputs(session, claims, config.invocation_params.dir)
    session.journal = worker_journal(config)  # rows of a crashed item survive (xdist worker)
    if not worker:
        restore_sigterm = terminate_like_interrupt()  # SIGTERM ends the session as Ctrl-C
        if restore_sigterm is not None:
            config.add_cleanup(restore_sigterm)
        session.recover()  # what killed sessions left in the results folder
    guard = measure_guard(config, allow_overlap=settings.allow_overlap)
    config.add_cleanup(guard.close)
    if accounting.uses_subreaper:
        # orphaned grandchildren come back to this process, so their CPU time is counted
        undo_subreaper = become_child_subreaper()
        if undo_subreaper is not None:
            config.add_cleanup(undo_subreaper)
    # activated during collection: what collection imported is judged at its end, against
    # the GIL state the session started with (configure time), not said to predate it
    session.gil.rewind(*gate.gil_at_start)
    gil_note = enabled_before_session() if session.gil.enabled else None
    if gil_note is not None:
        config.issue_config_time_warning(GilStateWarning(gil_note), stacklevel=2)
    register_session_hooks(gate, worker=worker)
    return Active(session=session, guard=guard, sampling=sampling, accounting=accounting,
                  outputs=outputs)  # fmt: skip
