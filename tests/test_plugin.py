"""End to end: a tiny experiment file run by pytest with the plugin, then its Parquet read."""

from __future__ import annotations

from pathlib import Path
from typing import get_args, get_type_hints

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import BUSY_SOURCE, SharedSession, read_results, shared_session

from pytest_concur._running.row import RoundRow
from pytest_concur._storing.schema import ROUNDS_SCHEMA

CONTRACT_COLUMNS = [
    "run_id", "started_at", "host", "python", "implementation", "free_threaded", "gil_enabled",
    "tox_env", "cpu_model", "logical_cpus", "usable_cpus", "test_id", "experiment", "params",
    "workload", "model", "workers", "round", "warmup", "wall_s", "cpu_user_s", "cpu_sys_s",
    "cpu_s", "cores_used", "utilization", "ctx_voluntary", "ctx_involuntary", "max_rss_bytes",
    "outcome",
]  # fmt: skip

EXPERIMENT = """
import time
import pytest

""" + BUSY_SOURCE + """
def nap(seconds):
    time.sleep(seconds)
    return seconds

@pytest.mark.concur(workload="cpu", models=["serial", "threads", "processes", "asyncio"],
                    workers=[1, 2], rounds=2, warmup=1)
@pytest.mark.parametrize("size", [3])
def test_busy(concur, size):
    assert concur.map(busy, [0.05] * size) == [0.05] * size

@pytest.mark.concur(workload="io", models=["serial", "threads"], workers=[4], rounds=2, warmup=0)
def test_nap(concur):
    concur.map(nap, [0.05] * 4)
"""


def test_marker_expands_into_readable_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "test_exp.py::test_busy[serial-3]",
            "test_exp.py::test_busy[threads-1-3]",
            "test_exp.py::test_busy[threads-2-3]",
            "test_exp.py::test_busy[processes-1-3]",
            "test_exp.py::test_busy[processes-2-3]",
            "test_exp.py::test_busy[asyncio-1-3]",
            "test_exp.py::test_busy[asyncio-2-3]",
            "test_exp.py::test_nap[serial]",
            "test_exp.py::test_nap[threads-4]",
            "9 tests collected*",
        ]
    )


def _nullable(annotation: object) -> bool:
    return type(None) in get_args(annotation)


@pytest.fixture(scope="module")
def experiment_run(tmp_path_factory: pytest.TempPathFactory) -> SharedSession:
    """One session of EXPERIMENT that the tests of its rows share."""
    folder = tmp_path_factory.mktemp("experiment_run")
    return shared_session(folder, {"test_exp": EXPERIMENT}, "-p", "no:cacheprovider")


def test_rows_columns_and_types(experiment_run: SharedSession) -> None:
    experiment_run.result.assert_outcomes(passed=9)
    rows = read_results(experiment_run)
    # 7 busy variants x (1 warm-up + 2 rounds) + 2 nap variants x 2 rounds
    assert len(rows) == 7 * 3 + 2 * 2
    # the file as written, not load()'s frame (which fills any missing column with nulls)
    results = Path(experiment_run.path, "results")
    [path] = list(results.glob("rounds/*.parquet"))  # the rounds table has its folder
    stored = pq.read_table(path)
    assert stored.schema.equals(ROUNDS_SCHEMA, check_metadata=False)
    assert set(CONTRACT_COLUMNS) <= set(stored.column_names)
    hints = get_type_hints(RoundRow)
    always_filled = [name for name in stored.column_names if not _nullable(hints[name])]
    assert "wall_s" in always_filled
    assert {name: stored.column(name).null_count for name in always_filled} == dict.fromkeys(
        always_filled, 0
    )
    assert list(rows.columns) == ROUNDS_SCHEMA.names
    for column in ("wall_s", "cpu_s", "cores_used", "utilization", "startup_s"):
        assert pd.api.types.is_float_dtype(rows[column]), column
    for column in ("workers", "round", "ctx_voluntary", "max_rss_bytes"):
        assert pd.api.types.is_integer_dtype(rows[column]), column
    assert pd.api.types.is_datetime64_any_dtype(rows["started_at"])
    assert rows["run_id"].nunique() == 1
    assert set(rows["outcome"]) == {"passed"}
    busy = rows[rows["experiment"] == "test_exp.py::test_busy"]
    assert set(busy["params"]) == {"size=3"}
    assert set(busy["params_json"]) == {'{"size": 3}'}
    assert busy["warmup"].sum() == 7
    assert sorted(busy[busy["model"] == "serial"]["round"]) == [0, 1, 2]
    assert (rows["cpu_s"] - rows["cpu_user_s"] - rows["cpu_sys_s"]).abs().max() < 1e-9
    assert (rows["max_rss_bytes"] > 1_000_000).all()
    assert pd.api.types.is_bool_dtype(rows["gil_enabled"])
    # the process pool's start-up is measured and stored, never hidden
    processes = rows[rows["model"] == "processes"]
    assert (processes["startup_s"] > 0).all()
    assert (rows[rows["model"] == "serial"]["startup_s"] < 0.01).all()


def test_cpu_accounting_robust_bounds(experiment_run: SharedSession) -> None:
    experiment_run.result.assert_outcomes(passed=9)
    rows = read_results(experiment_run)
    rows = rows[~rows["warmup"]]
    busy = rows[rows["experiment"] == "test_exp.py::test_busy"]
    # three tasks of 0.05 s CPU each: about 0.15 s of CPU whatever the model
    for (model, workers), group in busy.groupby(["model", "workers"], observed=True):
        assert group["cpu_s"].min() > 0.12, (model, workers)
        assert group["cpu_s"].max() < 0.6, (model, workers)
    serial = busy[busy["model"] == "serial"]
    # a busy process keeps about one core busy, where other processes left it one (the
    # sampler marks the rounds where they did not: crowded)
    quiet = serial[~serial["crowded"].fillna(False).astype(bool)]
    assert quiet["cores_used"].between(0.6, 1.2).all(), serial[["cores_used", "crowded"]]
    # sleeping uses almost no CPU
    naps = rows[rows["experiment"] == "test_exp.py::test_nap"]
    assert (naps["cores_used"] < 0.25).all()
    threads = naps[naps["model"] == "threads"]
    assert (threads["wall_s"] < naps[naps["model"] == "serial"]["wall_s"].min()).all()


PROCESS_TREE = """
import os, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
import pytest

def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return os.getpid()

@pytest.fixture(scope="module")
def persistent_pool():
    # created before the rounds and alive across them: RUSAGE_CHILDREN sees nothing
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(abs, [1, 2]))
        yield pool

@pytest.mark.concur(workload="cpu", models=["serial"], rounds=2, warmup=0)
def test_persistent_pool(concur, persistent_pool):
    list(persistent_pool.map(burn, [0.25, 0.25]))

@pytest.mark.concur(workload="cpu", models=["serial"], rounds=2, warmup=0)
def test_forkserver_pool(concur):
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        list(pool.map(burn, [0.25, 0.25]))

ORPHANER = '''
import os, subprocess, sys
subprocess.Popen([sys.executable, "-c",
    "import time\\\\nend = time.thread_time() + 0.3\\\\nwhile time.thread_time() < end: pass"])
os._exit(0)
'''

@pytest.mark.concur(workload="cpu", models=["serial"], rounds=2, warmup=0)
def test_orphaned_grandchild(concur):
    # the child exits at once; its grandchild burns 0.3 s after being orphaned
    subprocess.run([sys.executable, "-c", ORPHANER], check=True)
    time.sleep(0.6)

@pytest.mark.concur(workload="cpu", models=["processes"], workers=[2], rounds=2, warmup=0,
                    start_method="spawn")
def test_spawn_pool(concur):
    concur.map(burn, [0.25, 0.25])
"""


def test_cpu_of_descendants_that_obvious_methods_miss(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_tree=PROCESS_TREE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    rows = read_results(pytester)
    by_test = rows.groupby("experiment", observed=True)["cpu_s"]
    low, high = by_test.min(), by_test.max()
    for name in ("test_persistent_pool", "test_forkserver_pool", "test_spawn_pool"):
        key = f"test_tree.py::{name}"
        # two workers burning 0.25 s each: 0.5 s, plus start-up for fresh pools
        assert low[key] > 0.4, (name, low[key])
        assert high[key] < 3.0, (name, high[key])
    orphan = "test_tree.py::test_orphaned_grandchild"
    assert low[orphan] > 0.25, low[orphan]
    spawn = rows[rows["experiment"] == "test_tree.py::test_spawn_pool"]
    assert set(spawn["start_method"]) == {"spawn"}


def test_selection_options_deselect(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest(
        "--collect-only", "-q", "--concur-models", "serial,threads", "--concur-workers", "2"
    )
    result.stdout.fnmatch_lines(
        [
            "test_exp.py::test_busy[serial-3]",
            "test_exp.py::test_busy[threads-2-3]",
            "test_exp.py::test_nap[serial]",
            "3/9 tests collected (6 deselected)*",
        ]
    )
    result = pytester.runpytest("--collect-only", "-q", "--concur-workload", "io")
    result.stdout.fnmatch_lines(["*2/9 tests collected (7 deselected)*"])
    result = pytester.runpytest("--collect-only", "-q", "-m", "cpu", "-k", "processes")
    result.stdout.fnmatch_lines(["*2/9 tests collected (7 deselected)*"])


def test_rounds_precedence_cli_marker_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nconcur_rounds = 4\nconcur_warmup = 0\n")
    pytester.makepyfile(
        test_rounds="""
        import pytest

        @pytest.mark.concur(workload="cpu", models=["serial"])
        def test_ini(concur):
            concur.map(abs, [1])

        @pytest.mark.concur(workload="cpu", models=["serial"], rounds=2, warmup=1)
        def test_marker(concur):
            concur.map(abs, [1])
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    rows = read_results(pytester)
    grouped = rows.groupby("experiment", observed=True)["warmup"]
    sizes, warmups = grouped.size(), grouped.sum()
    assert (sizes["test_rounds.py::test_ini"], warmups["test_rounds.py::test_ini"]) == (4, 0)
    assert (sizes["test_rounds.py::test_marker"], warmups["test_rounds.py::test_marker"]) == (3, 1)
    pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--concur-rounds",
        "1",
        "--concur-warmup",
        "0",
        "--concur-results",
        "other",
    ).assert_outcomes(passed=2)
    other = read_results(pytester, "other")
    assert len(other) == 2


def test_report_and_no_save(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-report", "--concur-no-save", "-k", "nap"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*pytest-concur report*",
            "test_exp.py::test_nap  (workload: io)",
            "*variant*rounds*wall median*median CI*spread*cpu s*cores*util*startup*speedup*effic.*",
            "*serial  *2*ms*1.00x*1.00",
            "*threads-4  *2*ms*x*",
            "*only 2 round(s): too few to judge the spread*",
        ]
    )
    assert not (pytester.path / "results").exists()


def test_failing_experiment_is_stored_as_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fail="""
        import pytest

        @pytest.mark.concur(workload="cpu", models=["serial", "threads"], workers=[2],
                            rounds=3, warmup=0)
        def test_breaks(concur):
            if concur.model == "threads":
                raise RuntimeError("boom <b>")
            concur.map(abs, [1])
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-report")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*threads*FAILED*", "*threads-2: RuntimeError: boom <b>*"])
    rows = read_results(pytester)
    failed = rows[rows["model"] == "threads"]
    assert len(failed) == 1  # the first failing round ends the item
    assert failed["outcome"].tolist() == ["failed"]
    assert failed["error"].tolist() == ["RuntimeError: boom <b>"]
    assert (rows[rows["model"] == "serial"]["outcome"] == "passed").all()


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('workload="gpu"', "*invalid concur marker: unknown workload 'gpu'; choose one of: *cpu*"),
        ('workload="cpu", models=["fibers"]', "*unknown model 'fibers'; choose from: *threads*"),
        ('workload="cpu", workers=[0]', "*workers must be a positive integer, got 0*"),
        ('workload="cpu", workers=[]', "*workers must not be empty*"),
        ('workload="cpu", rounds=2.5', "*rounds must be a positive integer or 'auto', got 2.5*"),
        ('workload="cpu", colour="red"', "*unknown keyword(s) colour; valid keywords: *"),
    ],
)
def test_bad_marker_is_a_clear_collection_error(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(
        test_bad=f"""
        import pytest

        @pytest.mark.concur({marker})
        def test_thing(concur):
            pass
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*ERROR collecting test_bad.py*", "test_bad.py::test_thing: " + message]
    )
    assert "spec.py" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()


def test_fixture_without_marker_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        def test_thing(concur):
            pass
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*the `concur` fixture needs the experiment marker*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_bad_options_are_usage_errors(pytester: pytest.Pytester) -> None:
    for args, message in [
        (["--concur-rounds", "0"], "*--concur-rounds: must be at least 1, got 0*"),
        (["--concur-workers", "2,x"], "*worker counts must be positive integers, got 'x'*"),
        (["--concur-models", "fibers"], "*--concur-models: unknown value 'fibers'*"),
    ]:
        result = pytester.runpytest(*args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, args
        result.stderr.fnmatch_lines([message])
