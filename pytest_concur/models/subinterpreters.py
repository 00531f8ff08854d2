"""subinterpreters: ``concurrent.futures.InterpreterPoolExecutor`` (Python 3.14 and newer).

Each worker is a thread with an interpreter of its own, and so a GIL of its own: CPU
work runs in parallel inside one process. Functions, arguments and results are pickled
between interpreters, so ``fn`` must be a module-level function of an importable module
(not ``__main__``, not a lambda or a closure) and its arguments and results picklable;
each worker interpreter gets the test process's ``sys.path`` so test modules import.

A worker imports only what a user's own pool would: the executor's own code, the tiny
``pytest_concur._subinterpreter_worker`` to start, and the task function's module at its
first task (pickled tasks are measured like those of processes: ``pickles_tasks``). CPU
time stays in the test process (threads of one process). A coroutine function gets an
asyncio loop of its own in the worker's interpreter. A module that cannot load in a
subinterpreter fails the round with :class:`InterpreterLoadError` naming it.
``os._exit`` or a crash in a task ends the whole test process: interpreters share it.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import select
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import _subinterpreter_worker as worker
from ._base import ExecutorPool, InterpreterLoadError, ModelOptions, is_coroutine_function

_START_TIMEOUT_S = 120.0
#: CPython's ImportError for an extension module without multi-phase initialisation
_NOT_LOADABLE = re.compile(r"module (\S+) does not support loading in subinterpreters")


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and its causes and contexts, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend((current.__cause__, current.__context__))


def not_loadable_module(error: BaseException) -> str | None:
    """The module a task's ImportError says cannot load in a subinterpreter, if it says so.

    The text may sit in a wrapper's message (numpy's advice quotes it) or in the
    ``ExecutionFailed`` the executor chains, whose ``excinfo`` holds the worker's text.
    """
    for current in _causes(error):
        texts = [str(current)]
        excinfo = getattr(current, "excinfo", None)
        if excinfo is not None:
            texts.extend(str(getattr(excinfo, key, "") or "") for key in ("msg", "formatted"))
        for text in texts:
            found = _NOT_LOADABLE.search(text)
            if found:
                return found.group(1)
    return None


def load_error(module: str) -> InterpreterLoadError:
    return InterpreterLoadError(
        f"module {module} cannot be imported in a subinterpreter (it does not support "
        "loading in subinterpreters: an extension module without multi-phase "
        "initialisation); run this work with processes, or threads on a free-threaded build",
        module,
    )


class _StartGate:
    """The pipes the start-up tasks meet at: each worker writes to ``ready`` and waits on
    ``go``. The workers hold the pipes' numbers, so they are closed only once every
    start-up task has ended or was cancelled: closed earlier (a round's time limit firing
    during start-up), a task that starts late would read and write the numbers the next
    pool's pipes reuse, and count as one of its workers."""

    def __init__(self) -> None:
        self.ready_r, self.ready_w = os.pipe()
        self.go_r, self.go_w = os.pipe()
        self._lock = threading.Lock()
        #: the start-up tasks not yet ended, and the starting thread itself until it is done
        self._pending = 1
        self._released = False
        self._closed = False

    def track(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._pending += 1
        future.add_done_callback(self._ended)

    def release(self, workers: int) -> None:
        """Let every start-up task go (once; a no-op after the pipes are closed)."""
        with self._lock:
            if not self._released and not self._closed:
                os.write(self.go_w, b"." * workers)
                self._released = True

    def close_when_done(self) -> None:
        """The starting thread is done with the pipes: close them once no task is pending."""
        self._ended(None)

    def _ended(self, _future: object) -> None:
        with self._lock:
            self._pending -= 1
            if self._pending > 0 or self._closed:
                return
            self._closed = True
        for fd in (self.ready_r, self.ready_w, self.go_r, self.go_w):
            os.close(fd)


class _InterpreterPool(ExecutorPool):
    def __init__(self, workers: int) -> None:
        executor_type: Any = getattr(concurrent.futures, "InterpreterPoolExecutor")  # noqa: B009 - 3.14+
        # no initializer: the start-up task sets sys.path, one call less per worker
        self._executor = executor_type(max_workers=workers, thread_name_prefix="concur-interp")
        try:
            self._start_all(workers)
        except BaseException:
            # a failed start-up (or the round's time limit during it) leaves no pool behind
            self._executor.shutdown(wait=False, cancel_futures=True)
            raise

    def _start_all(self, workers: int) -> None:
        # each start-up task blocks until all have arrived, so each holds its own worker:
        # every interpreter exists before the first task, and start-up is measured
        gate = _StartGate()
        paths = tuple(sys.path)
        arrivals: list[concurrent.futures.Future[Any]] = []
        try:
            for _ in range(workers):
                future = self._executor.submit(worker.arrive, paths, gate.ready_w, gate.go_r)
                gate.track(future)
                arrivals.append(future)
            arrived = 0
            deadline = time.monotonic() + _START_TIMEOUT_S
            while arrived < workers:
                failed = [f for f in arrivals if f.done() and f.exception() is not None]
                if failed:
                    failed[0].result()  # raises the start-up error
                if time.monotonic() > deadline:
                    raise TimeoutError(f"interpreters did not start in {_START_TIMEOUT_S}s")
                readable, _, _ = select.select([gate.ready_r], [], [], 0.05)
                if readable:
                    arrived += len(os.read(gate.ready_r, workers))
            gate.release(workers)
            for future in arrivals:
                future.result()
        except BaseException:
            for future in arrivals:
                future.cancel()
            gate.release(workers)  # the tasks already running end at once
            raise
        finally:
            gate.close_when_done()

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        # the function itself is the task (no wrapper module to import in the worker);
        # a coroutine function runs on a loop of its own there
        if is_coroutine_function(fn):
            futures = [self._executor.submit(worker.run_coroutine, fn, item) for item in items]
        else:
            futures = [self._executor.submit(fn, item) for item in items]
        try:
            return [future.result() for future in futures]
        except ImportError as exc:
            module = not_loadable_module(exc)
            if module is None:
                raise
            for future in futures:
                future.cancel()
            raise load_error(module) from exc


class SubinterpretersModel:
    name = "subinterpreters"
    #: tasks cross interpreters as pickles: the runner measures that (transfer_bytes)
    pickles_tasks = True
    summary = "one interpreter (and GIL) per worker thread: parallel CPU work in one process"

    def unavailable(self) -> str | None:
        if not hasattr(concurrent.futures, "InterpreterPoolExecutor"):
            version = ".".join(str(part) for part in sys.version_info[:3])
            return (
                "needs Python 3.14 or newer (concurrent.futures.InterpreterPoolExecutor); "
                f"this is Python {version}"
            )
        return None

    def start(self, workers: int, options: ModelOptions) -> _InterpreterPool:
        return _InterpreterPool(workers)
