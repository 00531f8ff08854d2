"""The models in-process: each runs plain and coroutine functions, reports its faults, and
third-party models are registered and checked."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from pytest_concur.models import (
    AsyncioModel,
    AsyncioProcessesModel,
    DaskModel,
    GeventModel,
    Model,
    ModelOptions,
    ModelRegistryError,
    Pool,
    ProcessesModel,
    SerialModel,
    SubinterpretersModel,
    ThreadsModel,
    WorkerDiedError,
    builtin_models,
)
from pytest_concur.models._base import describe_exit
from pytest_concur.models._registry import as_models, collect_models

#: spawn keeps these tests free of fork-in-a-threaded-process warnings on 3.12+
SPAWN = ModelOptions(start_method="spawn")


def square(item: int) -> int:
    return item * item


async def square_later(item: int) -> int:
    await asyncio.sleep(0.001)
    return item * item


def pid_of(item: int) -> int:
    return os.getpid()


def exit_on_two(item: int) -> int:
    if item == 2:
        os._exit(3)
    time.sleep(0.2)
    return item


def kill_self(item: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return item


def run(model: Model, fn: Callable[[Any], Any], items: Iterable[Any], workers: int = 2,
        options: ModelOptions = SPAWN) -> list[Any]:  # fmt: skip
    pool = model.start(workers, options)
    try:
        return pool.map(fn, items)
    finally:
        pool.close()


LOCAL = [SerialModel(), ThreadsModel(), AsyncioModel()]


def test_builtin_models_have_unique_names_and_say_if_they_run_here() -> None:
    models = builtin_models()
    names = [model.name for model in models]
    assert names[:5] == ["serial", "threads", "processes", "asyncio", "asyncio-processes"]
    assert len(set(names)) == len(names)
    for model in models:
        assert model.summary
        reason = model.unavailable()
        assert reason is None or (isinstance(reason, str) and reason)


@pytest.mark.parametrize("model", LOCAL, ids=lambda m: m.name)
@pytest.mark.parametrize("fn", [square, square_later], ids=["plain", "coroutine"])
def test_in_process_models_map_in_order(model: Model, fn: Callable[[int], Any]) -> None:
    assert run(model, fn, range(7), workers=3) == [i * i for i in range(7)]


@pytest.mark.parametrize("fn", [square, square_later], ids=["plain", "coroutine"])
def test_asyncio_processes_maps_in_order(fn: Callable[[int], Any]) -> None:
    assert run(AsyncioProcessesModel(), fn, range(7)) == [i * i for i in range(7)]


def test_asyncio_processes_deals_tasks_round_robin_to_one_loop_per_process() -> None:
    pids = run(AsyncioProcessesModel(), pid_of, range(6), workers=3)
    assert len(set(pids)) == 3
    assert os.getpid() not in pids
    assert pids[0::3] == [pids[0]] * 2
    assert pids[1::3] == [pids[1]] * 2


def test_asyncio_processes_hands_task_errors_back_with_their_traceback() -> None:
    pool = AsyncioProcessesModel().start(2, SPAWN)
    try:
        with pytest.raises(ZeroDivisionError) as caught:
            pool.map(divmod_by_zero, [1, 2, 3])
        assert "divmod_by_zero" in str(caught.value.__cause__)
        assert pool.map(square, [3]) == [9]  # the pool is still usable, no stale replies
    finally:
        pool.close()


def divmod_by_zero(item: int) -> int:
    return item // 0


@pytest.mark.parametrize("model", [ProcessesModel(), AsyncioProcessesModel()], ids=lambda m: m.name)
def test_a_worker_that_exits_fails_the_map_clearly(model: Model) -> None:
    pool = model.start(2, SPAWN)
    try:
        with pytest.raises(WorkerDiedError, match=r"worker process died: .*exit code 3"):
            pool.map(exit_on_two, [1, 2, 3])
    finally:
        pool.close()


@pytest.mark.parametrize("model", [ProcessesModel(), AsyncioProcessesModel()], ids=lambda m: m.name)
def test_a_killed_worker_fails_the_map_clearly(model: Model) -> None:
    pool = model.start(1, SPAWN)
    try:
        with pytest.raises(WorkerDiedError, match=r"worker process died: .*SIGKILL"):
            pool.map(kill_self, [1])
    finally:
        pool.close()


@pytest.mark.parametrize("model", [ProcessesModel(), AsyncioProcessesModel()], ids=lambda m: m.name)
def test_process_pools_say_which_start_method_they_used(model: Model) -> None:
    pool = model.start(1, SPAWN)
    try:
        assert getattr(pool, "start_method", None) == "spawn"
    finally:
        pool.close()


@pytest.mark.parametrize("model", [ProcessesModel(), AsyncioProcessesModel()], ids=lambda m: m.name)
def test_abort_kills_process_workers_without_waiting(model: Model) -> None:
    pool = model.start(2, SPAWN)
    started = time.monotonic()
    getattr(pool, "abort")()  # noqa: B009 - an optional method of the protocol
    assert time.monotonic() - started < 5


def test_describe_exit() -> None:
    assert describe_exit(12, 3) == "pid 12: exit code 3"
    assert describe_exit(12, -9) == "pid 12: killed by SIGKILL"
    assert describe_exit(None, None) == "a worker: still running"


def test_subinterpreters_say_why_they_cannot_run_before_314() -> None:
    reason = SubinterpretersModel().unavailable()
    if sys.version_info >= (3, 14):
        assert reason is None
    else:
        assert reason is not None
        assert "3.14" in reason


def test_optional_models_name_their_extra_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    assert "pytest-concur[gevent]" in (GeventModel().unavailable() or "")
    assert "pytest-concur[dask]" in (DaskModel().unavailable() or "")


def test_gevent_runs_plain_and_coroutine_functions() -> None:
    pytest.importorskip("gevent")
    assert run(GeventModel(), square, range(5)) == [i * i for i in range(5)]
    assert run(GeventModel(), square_later, range(3)) == [0, 1, 4]


class _Fake:
    name = "fake"
    summary = "a model for tests"

    def unavailable(self) -> str | None:
        return None

    def start(self, workers: int, options: ModelOptions) -> Pool:
        return SerialModel().start(workers, options)


def test_registered_objects_become_models() -> None:
    assert [m.name for m in as_models(_Fake, "here")] == ["fake"]
    assert [m.name for m in as_models(_Fake(), "here")] == ["fake"]
    assert [m.name for m in as_models(lambda: [_Fake(), _Fake], "here")] == ["fake", "fake"]
    with pytest.raises(ModelRegistryError, match="here: 42 is not a concurrency model"):
        as_models(42, "here")


def test_a_model_name_is_taken_once() -> None:
    models = collect_models(builtin_models(), [("plugin x", _Fake())])
    assert "fake" in models
    clash = _Fake()
    clash.name = "threads"
    with pytest.raises(ModelRegistryError, match="'threads' is already taken by pytest-concur"):
        collect_models(builtin_models(), [("plugin x", clash)])
    bad = _Fake()
    bad.name = "a b"
    with pytest.raises(ModelRegistryError, match="must be letters"):
        collect_models([], [("plugin y", bad)])
