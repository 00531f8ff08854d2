"""dask: the tasks run on a dask.distributed cluster (optional extra).

By default every round starts a local cluster of ``workers`` worker processes with one
thread each (start-up and shutdown measured like any pool's; the start method is the
experiment's, else dask's own default, spawn). With ``--concur-dask-scheduler ADDRESS``
the tasks go to an existing cluster instead: its size is its own (``workers`` is only
recorded), and CPU time spent on other hosts is not in the round's CPU columns. Rows
record the scheduler's address in ``executor_address``; the task timeline records each
task's host and pid. A coroutine function gets an asyncio loop of its own on the dask
worker's thread. A worker that dies fails the round at once: a local cluster does not
retry tasks on other workers (``allowed-failures`` is 0 there).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from ._base import ModelOptions, WorkerDiedError, call_blocking

_CLOSE_TIMEOUT_S = 10
_ABORT_TIMEOUT_S = 2


class _DaskPool:
    def __init__(self, workers: int, options: ModelOptions) -> None:
        import dask
        import distributed

        # typed loosely on purpose: dask is an optional extra, absent where mypy runs in CI
        dist: Any = distributed
        self._cluster: Any = None
        self.start_method: str | None = None
        if options.dask_scheduler is not None:
            self._client: Any = dist.Client(options.dask_scheduler, set_as_default=False)
        else:
            method = options.start_method or dask.config.get(
                "distributed.worker.multiprocessing-method"
            )
            settings = {
                "distributed.scheduler.allowed-failures": 0,
                "distributed.worker.multiprocessing-method": method,
            }
            with dask.config.set(settings):
                self._cluster = dist.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            self.start_method = str(method)
            self._client = dist.Client(self._cluster, set_as_default=False)
            self._client.wait_for_workers(workers)
        self.executor_address: str = str(self._client.scheduler.address)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        import distributed

        killed: Any = distributed.KilledWorker
        futures = self._client.map(partial(call_blocking, fn), list(items), pure=False)
        try:
            return list(self._client.gather(futures))
        except killed as exc:
            raise WorkerDiedError(f"worker process died: {exc}") from exc

    def close(self) -> None:
        try:
            self._client.close(timeout=_CLOSE_TIMEOUT_S)
        finally:
            if self._cluster is not None:
                self._cluster.close(timeout=_CLOSE_TIMEOUT_S)

    def abort(self) -> None:
        """Close with short timeouts: after a timeout the workers have been killed."""
        try:
            self._client.close(timeout=_ABORT_TIMEOUT_S)
        finally:
            if self._cluster is not None:
                self._cluster.close(timeout=_ABORT_TIMEOUT_S)


class DaskModel:
    name = "dask"
    summary = "tasks on a dask.distributed cluster, local or remote (optional extra)"

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("distributed") is None:
            return "dask.distributed is not installed (pip install 'pytest-concur[dask]')"
        return None

    def start(self, workers: int, options: ModelOptions) -> _DaskPool:
        return _DaskPool(workers, options)
