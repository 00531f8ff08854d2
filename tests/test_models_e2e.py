"""Every model end to end: a pytester session per model, then its rows, its task and core
timelines, and what it left behind (nothing)."""

from __future__ import annotations

import importlib.util
import multiprocessing
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import BUSY_SOURCE, NOTHING_LEFT_BEHIND_SOURCE

from pytest_concur.models import builtin_models

EXPERIMENT = """
import asyncio, os, time
import pytest
""" + BUSY_SOURCE + """
async def nap(seconds):
    await asyncio.sleep(seconds)
    return seconds

@pytest.mark.concur(workload="cpu", models=["{model}"], workers=[2], rounds=2, warmup=0)
def test_plain(concur):
    assert concur.map(busy, [0.03] * 4) == [0.03] * 4

@pytest.mark.concur(workload="io", models=["{model}"], workers=[2], rounds=1, warmup=0)
def test_coroutine(concur):
    assert concur.map(nap, [0.03] * 4) == [0.03] * 4
"""



def experiment(model: str) -> str:
    """The experiment file for ``model``, ending with the check that nothing was left."""
    return EXPERIMENT.format(model=model) + NOTHING_LEFT_BEHIND_SOURCE


MODELS = {model.name: model for model in builtin_models()}


def tables(pytester: pytest.Pytester) -> dict[str, pd.DataFrame]:
    found: dict[str, pd.DataFrame] = {}
    for path in Path(pytester.path, "results").glob("*/*.parquet"):
        kind = path.parent.name
        found[kind] = pd.DataFrame(pq.read_table(path).to_pydict())  # see test_timeline.tables
    return found


def run_model(pytester: pytest.Pytester, name: str) -> tuple[dict[str, pd.DataFrame], int]:
    reason = MODELS[name].unavailable()
    if reason is not None:
        pytest.skip(reason)
    pytester.makepyfile(test_exp=experiment(name))
    # here, not in the test module: spawned workers import that module too
    pytester.makeconftest(
        """
        import os
        def pytest_configure(config):
            with open("session.pid", "w") as handle:
                handle.write(str(os.getpid()))
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           "--concur-sample-interval=0.02")  # fmt: skip
    result.assert_outcomes(passed=3)
    session_pid = int(Path(pytester.path, "session.pid").read_text())
    return tables(pytester), session_pid


def check_common(found: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """What holds for every model: rows, both timelines, and how they join."""
    rounds, tasks, cores = found["rounds"], found["tasks"], found["cores"]
    assert list(rounds["model"]) == [name] * 3
    assert set(rounds["outcome"]) == {"passed"}
    assert (rounds["tasks"] == 4).all()
    assert (rounds["sample_interval_s"] == 0.02).all()
    assert (rounds["sampler_cpu_s"] >= 0).all()
    assert len(tasks) == 12
    assert not tasks.duplicated(["test_id", "round", "task"]).any()
    merged = tasks.merge(rounds, on=["run_id", "test_id", "round"], suffixes=("", "_round"))
    assert len(merged) == 12
    assert (merged["start_s"] > -1e-3).all()
    assert (merged["end_s"] < merged["wall_s_round"] + 1e-3).all()
    plain = tasks[tasks["test_id"].str.contains("test_plain")]
    assert (plain["cpu_s"] >= 0.025).all()  # each busy task's own 0.03 s of CPU
    assert plain["suspensions"].isna().all()
    naps = tasks[tasks["test_id"].str.contains("test_coroutine")]
    assert (naps["suspensions"] >= 1).all()
    assert (naps["wall_s"] >= 0.025).all()
    assert (naps["cpu_s"] < naps["wall_s"]).all()
    assert set(cores["test_id"]) == set(rounds["test_id"])
    assert cores["busy"].dropna().between(0, 1).all()
    assert cores["cpu"].nunique() == rounds["logical_cpus"].iloc[0]
    return tasks


def test_serial(pytester: pytest.Pytester) -> None:
    found, session = run_model(pytester, "serial")
    tasks = check_common(found, "serial")
    assert set(tasks["pid"]) == {session}
    assert set(tasks["thread_id"]) == {session}
    assert found["rounds"]["start_method"].isna().all()


def test_threads(pytester: pytest.Pytester) -> None:
    found, session = run_model(pytester, "threads")
    tasks = check_common(found, "threads")
    assert set(tasks["pid"]) == {session}
    assert session not in set(tasks["thread_id"])  # pool threads, not the main one


def test_processes(pytester: pytest.Pytester) -> None:
    found, session = run_model(pytester, "processes")
    tasks = check_common(found, "processes")
    assert session not in set(tasks["pid"])
    assert tasks.groupby(["test_id", "round"])["pid"].nunique().max() <= 2
    default = multiprocessing.get_start_method()
    assert set(found["rounds"]["start_method"]) == {default}


def test_asyncio(pytester: pytest.Pytester) -> None:
    found, session = run_model(pytester, "asyncio")
    tasks = check_common(found, "asyncio")
    assert set(tasks["pid"]) == {session}
    assert set(tasks["thread_id"]) == {session}
    naps = tasks[tasks["test_id"].str.contains("test_coroutine")]
    # workers=2 bounds the tasks in flight on the one loop: two waves of two
    assert naps["start_s"].max() >= naps["end_s"].min()


def test_asyncio_processes(pytester: pytest.Pytester) -> None:
    found, session = run_model(pytester, "asyncio-processes")
    tasks = check_common(found, "asyncio-processes")
    assert session not in set(tasks["pid"])
    for _, one_round in tasks.groupby(["test_id", "round"]):
        by_task = one_round.set_index("task")["pid"]
        assert by_task.nunique() == 2  # one loop per process, tasks dealt round-robin
        assert by_task[0] == by_task[2]
        assert by_task[1] == by_task[3]
    naps = tasks[tasks["test_id"].str.contains("test_coroutine")]
    for _, loop in naps.groupby("pid"):  # each loop holds its two tasks at once
        assert loop["start_s"].max() < loop["end_s"].min()
    assert set(found["rounds"]["start_method"]) == {multiprocessing.get_start_method()}


def test_subinterpreters(pytester: pytest.Pytester) -> None:
    found, session = run_model(pytester, "subinterpreters")
    tasks = check_common(found, "subinterpreters")
    assert set(tasks["pid"]) == {session}
    assert (tasks["interpreter_id"] > 0).all()


def test_subinterpreters_skip_with_a_reason_before_314(pytester: pytest.Pytester) -> None:
    reason = MODELS["subinterpreters"].unavailable()
    if reason is None:
        pytest.skip("this Python has subinterpreters")
    pytester.makepyfile(test_exp=experiment("subinterpreters"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=2, passed=1)
    result.stdout.fnmatch_lines(["*model 'subinterpreters' cannot run here: needs Python 3.14*"])


def test_gevent(pytester: pytest.Pytester) -> None:
    found, session = run_model(pytester, "gevent")
    tasks = check_common(found, "gevent")
    assert set(tasks["pid"]) == {session}
    assert set(tasks["thread_id"]) == {session}


@pytest.mark.slow
def test_dask(pytester: pytest.Pytester) -> None:
    found, session = run_model(pytester, "dask")
    tasks = check_common(found, "dask")
    assert session not in set(tasks["pid"])
    rounds = found["rounds"]
    assert rounds["executor_address"].str.startswith("tcp://127.0.0.1:").all()
    assert set(rounds["start_method"]) == {"spawn"}  # dask's own default
    assert (rounds["startup_s"] > 0).all()


def test_optional_models_skip_cleanly_when_their_extra_is_missing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import importlib.util
        real = importlib.util.find_spec
        def hidden(name, *args, **kwargs):
            return None if name in ("gevent", "distributed") else real(name, *args, **kwargs)
        importlib.util.find_spec = hidden
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.concur(workload="io", models=["gevent", "dask"], workers=[2])
        def test_x(concur):
            concur.map(abs, [1])
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*model 'gevent' cannot run here: gevent is not installed*",
            "*model 'dask' cannot run here: dask.distributed is not installed*",
        ]
    )


START_METHODS = """
import time
import pytest
""" + BUSY_SOURCE + """
@pytest.mark.concur(workload="cpu", models=["processes", "asyncio-processes"], workers=[2],
                    rounds=1, warmup=0, start_method="fork")
def test_fork(concur):
    concur.map(busy, [0.2, 0.2])

@pytest.mark.concur(workload="cpu", models=["processes", "asyncio-processes"], workers=[2],
                    rounds=1, warmup=0, start_method="forkserver")
def test_forkserver(concur):
    concur.map(busy, [0.2, 0.2])

@pytest.mark.concur(workload="cpu", models=["processes", "asyncio-processes"], workers=[2],
                    rounds=1, warmup=0)
def test_from_the_command_line(concur):
    concur.map(busy, [0.2, 0.2])
"""


def test_start_methods_are_used_stored_and_their_cpu_counted(pytester: pytest.Pytester) -> None:
    """forkserver workers are the forkserver's children, reaped by it: their CPU time
    reaches no RUSAGE_CHILDREN of ours, and must still be counted (MEASUREMENT.md)."""
    pytester.makepyfile(test_methods=START_METHODS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-start-method=spawn", "--concur-sample-interval=0"
    )
    result.assert_outcomes(passed=6)
    found = tables(pytester)
    rounds, tasks = found["rounds"], found["tasks"]
    expected = {"test_fork": "fork", "test_forkserver": "forkserver",
                "test_from_the_command_line": "spawn"}  # fmt: skip
    for _, row in rounds.iterrows():
        name = row["test_id"].split("::")[1].split("[")[0]
        assert row["start_method"] == expected[name], row["test_id"]
        # two workers burning 0.2 s each, whoever reaps them
        assert 0.3 <= row["cpu_s"] <= 0.3 + row["wall_s"] * 2, row["test_id"]
    assert (tasks["cpu_s"] >= 0.19).all()


@pytest.mark.slow
def test_dask_worker_death_fails_the_round_and_the_session_goes_on(
    pytester: pytest.Pytester,
) -> None:
    if importlib.util.find_spec("distributed") is None:
        pytest.skip("dask.distributed is not installed")
    pytester.makepyfile(
        test_dies="""
        import os, time
        import pytest

        def exit_3(item):
            if item == 1:
                os._exit(3)
            time.sleep(0.2)
            return item

        @pytest.mark.concur(workload="cpu", models=["dask"], workers=[2], rounds=1, warmup=0)
        def test_dies(concur):
            concur.map(exit_3, [0, 1, 2])

        @pytest.mark.concur(workload="cpu", models=["dask"], workers=[2], rounds=1, warmup=0)
        def test_after(concur):
            assert concur.map(abs, [-1]) == [1]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0")
    result.assert_outcomes(failed=1, passed=1)
    rows = tables(pytester)["rounds"].set_index("test_id")
    assert "worker process died" in str(rows.loc["test_dies.py::test_dies[dask-2]", "error"])
    assert rows.loc["test_dies.py::test_after[dask-2]", "outcome"] == "passed"


@pytest.mark.slow
def test_dask_on_an_existing_scheduler(pytester: pytest.Pytester, tmp_path: Path) -> None:
    # find_spec, not importorskip: importing distributed here would change this process
    # (it breaks later in-process pytester runs)
    if importlib.util.find_spec("distributed") is None:
        pytest.skip("dask.distributed is not installed")
    import json
    import subprocess
    import sys
    import time

    scheduler_file = tmp_path / "scheduler.json"
    common = ["--scheduler-file", str(scheduler_file)]
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--no-dashboard",
         "--host", "127.0.0.1", "--port", "0", *common],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--no-dashboard",
             "--nthreads", "1", "--nworkers", "1", *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        pytester.makepyfile(test_exp=experiment("dask"))
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--concur-dask-scheduler={address}",
            "--concur-sample-interval=0",
        )  # fmt: skip
        result.assert_outcomes(passed=3)
        found = tables(pytester)
        rounds, tasks = found["rounds"], found["tasks"]
        assert set(rounds["executor_address"]) == {address}
        assert rounds["start_method"].isna().all()  # the cluster's own business
        assert tasks["pid"].nunique() == 1  # the one worker of that cluster ran them all
        assert (rounds["descendants"] == 0).all()  # and none of it is in our process tree
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(30)
