"""The one small interface every concurrency model implements."""

from __future__ import annotations

import asyncio
import inspect
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ModelOptions:
    """Settings a model may honour; each model documents which it uses."""

    start_method: str | None = None
    #: address of an existing dask scheduler; None starts a local cluster per round
    dask_scheduler: str | None = None


@runtime_checkable
class Pool(Protocol):
    """A started model: runs tasks until closed.

    Optional extras, looked up with ``getattr`` so older pools keep working:
    ``abort()`` stops every worker without waiting for running tasks (used after a
    timeout; without it ``close()`` is called), and ``executor_address`` (a string)
    says where the work runs, e.g. a dask scheduler's address.
    """

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Run ``fn`` on every item, return the results in order."""
        ...

    def close(self) -> None:
        """Stop every worker and wait for them."""
        ...


@runtime_checkable
class Model(Protocol):
    """A concurrency model: its name, whether it runs here, and how to start it."""

    name: str
    summary: str

    def unavailable(self) -> str | None:
        """None when the model can run here, otherwise the reason it cannot."""
        ...

    def start(self, workers: int, options: ModelOptions) -> Pool:
        """Start ``workers`` workers, ready to take tasks when this returns."""
        ...


class WorkerDiedError(RuntimeError):
    """A worker process ended while it had work (killed, ``os._exit``, a crash)."""


class InterpreterLoadError(ImportError):
    """A task imported a module that cannot be loaded in a subinterpreter (an extension
    module with single-phase initialisation, such as numpy's core today); ``module``
    names it. An ImportError, so code that catches those still does."""

    def __init__(self, message: str, module: str) -> None:
        super().__init__(message, name=module)
        self.module = module


class RemoteTraceback(Exception):
    """The traceback of an exception raised in another process, kept as text."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def describe_exit(pid: int | None, exitcode: int | None) -> str:
    """``pid 12: killed by SIGKILL`` or ``pid 12: exit code 3``, from a Process exit code."""
    who = f"pid {pid}" if pid is not None else "a worker"
    if exitcode is None:
        return f"{who}: still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"{who}: killed by {name}"
    return f"{who}: exit code {exitcode}"


def abort_pool(pool: Pool) -> None:
    """Stop ``pool`` without waiting on its running tasks, where it knows how."""
    abort = getattr(pool, "abort", None)
    if callable(abort):
        abort()
    else:
        pool.close()


def executor_address(pool: Pool) -> str | None:
    """Where ``pool`` runs its tasks, if it says (dask: the scheduler's address)."""
    address = getattr(pool, "executor_address", None)
    return address if isinstance(address, str) else None


def is_coroutine_function(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


def call_blocking(fn: Callable[[Any], Any], item: Any) -> Any:
    """Call ``fn`` on a thread that has no running loop; coroutines get a loop of their own."""
    if is_coroutine_function(fn):
        return asyncio.run(fn(item))
    return fn(item)


class ExecutorPool:
    """A Pool over a ``concurrent.futures`` executor whose workers run in this process.

    Subclasses create ``self._executor`` and start its workers; a task stuck in a worker
    thread cannot be stopped, so ``abort`` only stops taking tasks and leaves it.
    """

    _executor: Executor

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        futures = [self._executor.submit(call_blocking, fn, item) for item in items]
        return [future.result() for future in futures]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Stop taking tasks; a worker stuck in a task cannot be stopped, only left behind."""
        self._executor.shutdown(wait=False, cancel_futures=True)
