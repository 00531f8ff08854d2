"""The subinterpreters model measured for real where ``concurrent.interpreters`` exists
(Python 3.14+): one pytester session covers rounds, CPU accounting, task spans, per-core
samples, start-up, transfer, a failing task, a timeout and a module that cannot load in a
subinterpreter, and then checks that nothing was left running. The pure parts run on
every version."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import BUSY_SOURCE, NOTHING_LEFT_BEHIND_SOURCE

from pytest_concur.models import InterpreterLoadError
from pytest_concur.models.subinterpreters import load_error, not_loadable_module

HAS_INTERPRETERS = importlib.util.find_spec("concurrent.interpreters") is not None

EXPERIMENT = (
    """
import sys, threading, time
import pytest
"""
    + BUSY_SOURCE
    + """
def fails(item):
    raise ValueError(f"task {item} failed on purpose")

def sleeps(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # short sleeps: the worker is free soon after the limit
        time.sleep(0.02)

def imports_numpy(item):
    import numpy
    return item

@pytest.mark.concur(workload="cpu", models=["serial", "subinterpreters"], workers=[2],
                    rounds=2, warmup=0)
def test_cpu(concur):
    assert concur.map(busy, [0.15] * 4) == [0.15] * 4

@pytest.mark.concur(workload="cpu", models=["subinterpreters"], workers=[2], rounds=1,
                    warmup=0)
def test_a_task_fails(concur):
    concur.map(fails, [1, 2])

@pytest.mark.concur(workload="io", models=["subinterpreters"], workers=[2], rounds=1,
                    warmup=0, timeout=0.3)
def test_times_out(concur):
    concur.map(sleeps, [1.0, 1.0])

@pytest.mark.concur(workload="io", models=["subinterpreters"], workers=[2], rounds=1,
                    warmup=0, timeout=0.005)
def test_times_out_while_starting(concur):
    # the limit fires while the interpreters start: a late start-up task must not take
    # the next pool's pipes for its own (they reuse the numbers)
    concur.map(sleeps, [0.5, 0.5])

@pytest.mark.concur(workload="cpu", models=["subinterpreters"], workers=[2], rounds=1,
                    warmup=0)
def test_imports_a_module_without_subinterpreter_support(concur):
    concur.map(imports_numpy, [1, 2])

def test_zz_no_interpreter_left():
    from concurrent import interpreters
    # the timed-out task returns within about a second of its limit, then its worker ends
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
        len(interpreters.list_all()) > 1
        or any(t.name.startswith("concur-interp") for t in threading.enumerate())
    ):
        time.sleep(0.05)
    assert [i.id for i in interpreters.list_all()] == [interpreters.get_main().id]
    assert [t.name for t in threading.enumerate() if t.name.startswith("concur-interp")] == []
"""
    + NOTHING_LEFT_BEHIND_SOURCE
)


@pytest.fixture(scope="module")
def session(pytester_module: Path) -> dict[str, pd.DataFrame]:
    return {
        path.parent.name: pd.DataFrame(pq.read_table(path).to_pydict())
        for path in Path(pytester_module, "results").glob("*/*.parquet")
    }


@pytest.fixture(scope="module")
def pytester_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pytester-like session for the whole module: run once, read by every test."""
    import subprocess
    import sys

    if not HAS_INTERPRETERS:
        pytest.skip("needs concurrent.interpreters (Python 3.14 or newer)")
    folder = tmp_path_factory.mktemp("subinterpreters")
    (folder / "test_exp.py").write_text(EXPERIMENT)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "--concur-sample-interval=0.02", "test_exp.py"],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    (folder / "output.txt").write_text(done.stdout + done.stderr)
    # 4 items fail on purpose; everything else must pass
    assert "4 failed, 4 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    return folder


def _rounds(found: dict[str, pd.DataFrame], test: str) -> pd.DataFrame:
    rounds = found["rounds"]
    return rounds[rounds["test_id"].str.contains(test)]


def _only_round(found: dict[str, pd.DataFrame], test: str) -> dict[str, object]:
    rows = _rounds(found, test).to_dict("records")
    assert len(rows) == 1
    return {str(key): value for key, value in rows[0].items()}


def test_rounds_measure_cpu_work_on_threads_of_one_process(
    session: dict[str, pd.DataFrame],
) -> None:
    rounds = _rounds(session, "test_cpu")
    sub = rounds[rounds["model"] == "subinterpreters"]
    assert len(sub) >= 2  # a crowded round is measured again (repeat_of)
    assert set(sub["outcome"]) == {"passed"}
    # four tasks of 0.15 s of CPU each, all in threads of the test process
    assert (sub["cpu_s"] >= 0.55).all()
    assert (sub["descendants"] == 0).all()
    # one GIL per interpreter: more than one core busy in some round, unless others
    # held the CPUs (crowded rounds say so)
    quiet = sub[sub["crowded"] != True]  # noqa: E712 - None means not known
    if not quiet.empty:
        assert quiet["cores_used"].max() > 1.2, quiet[["cores_used", "other_cores_busy"]]
    assert sub["start_method"].isna().all()  # no processes: no start method


def test_startup_and_transfer_are_measured(session: dict[str, pd.DataFrame]) -> None:
    sub = _rounds(session, "test_cpu").query("model == 'subinterpreters'")
    assert (sub["startup_s"] > 0).all()
    assert (sub["startup_s"] < sub["wall_s"]).all()
    assert (sub["shutdown_s"] >= 0).all()
    # tasks are pickled between interpreters, measured like those of processes
    assert (sub["transfer_bytes"] > 0).all()
    assert (sub["transfer_s"] > 0).all()


def test_task_spans_show_one_process_several_interpreters(
    session: dict[str, pd.DataFrame],
) -> None:
    tasks = session["tasks"]
    sub = tasks[tasks["test_id"].str.contains("test_cpu") & tasks["test_id"].str.contains("sub")]
    rounds = _rounds(session, "test_cpu").query("model == 'subinterpreters'")
    assert len(sub) == 4 * len(rounds)
    assert sub["pid"].nunique() == 1
    assert (sub["interpreter_id"] > 0).all()
    for _, one_round in sub.groupby("round"):
        assert one_round["interpreter_id"].nunique() == 2
        assert one_round["thread_id"].nunique() == 2
    assert (sub["cpu_s"] >= 0.14).all()


def test_per_core_samples_cover_the_rounds(session: dict[str, pd.DataFrame]) -> None:
    cores = session["cores"]
    assert set(_rounds(session, "test_cpu")["test_id"]) <= set(cores["test_id"])
    assert cores["busy"].dropna().between(0, 1).all()


def test_a_failing_task_fails_its_round_with_its_error(session: dict[str, pd.DataFrame]) -> None:
    row = _only_round(session, "test_a_task_fails")
    assert row["outcome"] == "failed"
    assert "ValueError: task" in str(row["error"])
    assert "failed on purpose" in str(row["error"])


def test_a_timeout_stops_the_round(session: dict[str, pd.DataFrame]) -> None:
    starting = _only_round(session, "test_times_out_while_starting")
    assert starting["outcome"] == "failed"
    assert "round exceeded timeout of 0.005s" in str(starting["error"])
    row = _only_round(session, r"test_times_out\[")
    assert row["outcome"] == "failed"
    assert "round exceeded timeout of 0.3s" in str(row["error"])
    assert 0.25 <= float(str(row["wall_s"])) < 1.0


def test_a_module_without_subinterpreter_support_is_named(
    session: dict[str, pd.DataFrame],
) -> None:
    row = _only_round(session, "test_imports_a_module")
    assert row["outcome"] == "failed"
    error = str(row["error"])
    assert error.startswith("pytest_concur.models._base.InterpreterLoadError: module numpy")
    assert "cannot be imported in a subinterpreter" in error


def test_the_module_that_cannot_load_is_found_in_the_error_chain() -> None:
    inner = ImportError("module numpy._core._multiarray_umath does not support loading in "
                        "subinterpreters")  # fmt: skip
    outer = ImportError("Importing the numpy C-extensions failed.")
    outer.__cause__ = inner
    assert not_loadable_module(outer) == "numpy._core._multiarray_umath"
    assert not_loadable_module(ImportError("No module named 'nope'")) is None
    error = load_error("numpy._core._multiarray_umath")
    assert isinstance(error, ImportError)
    assert isinstance(error, InterpreterLoadError)
    assert error.module == error.name == "numpy._core._multiarray_umath"
