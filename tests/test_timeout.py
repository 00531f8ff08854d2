"""Faults: rounds bounded in time, workers that die, and nothing left running after."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import BUSY_SOURCE, NOTHING_LEFT_BEHIND_SOURCE

from pytest_concur._measuring.timeout import (
    Deadline,
    RoundTimeout,
    descendants,
    kill_new_descendants,
    live_descendants,
)


def test_no_limit_runs_the_block_as_it_is() -> None:
    deadline = Deadline(None)
    with deadline.armed():
        time.sleep(0.01)
    assert not deadline.expired


def test_a_limit_interrupts_a_blocking_call_and_restores_the_old_handler() -> None:
    def mine(signum: int, frame: FrameType | None) -> None:
        raise AssertionError("not expected to fire")

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        deadline = Deadline(0.2)
        started = time.monotonic()
        with pytest.raises(RoundTimeout, match=r"round exceeded timeout of 0\.2s"), \
                deadline.armed():  # fmt: skip
            time.sleep(10)
        assert time.monotonic() - started < 3
        assert deadline.expired
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_a_round_within_its_limit_leaves_no_alarm() -> None:
    deadline = Deadline(5.0)
    with deadline.armed():
        pass
    assert not deadline.expired
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_round_timeout_is_not_swallowed_by_except_exception() -> None:
    assert not issubclass(RoundTimeout, Exception)
    assert issubclass(RoundTimeout, SystemExit)  # asyncio lets it out of the loop


def test_only_processes_started_after_the_snapshot_are_killed() -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    old = subprocess.Popen(sleeper)
    try:
        time.sleep(0.05)
        before = frozenset(descendants())
        new = subprocess.Popen(sleeper)
        result = kill_new_descendants(before)
        assert result.killed == (new.pid,)
        assert result.survivors == ()
        assert new.wait(5) == -signal.SIGKILL  # its owner still gets its exit status
        assert old.poll() is None
        assert old.pid in live_descendants()
    finally:
        old.kill()
        old.wait()


EXPERIMENT = """
import os, signal, subprocess, sys, time
import pytest

def hang(item):
    time.sleep(30)

def exit_3(item):
    if item == 1:
        os._exit(3)
    time.sleep(0.1)
    return item

def kill_self(item):
    os.kill(os.getpid(), signal.SIGKILL)
""" + BUSY_SOURCE + """
@pytest.mark.concur(workload="io", models=["serial", "processes", "asyncio-processes"],
                    workers=[2], rounds=3, warmup=0, timeout=0.5)
def test_hangs(concur):
    concur.map(hang, [1, 2])

@pytest.mark.concur(workload="io", models=["serial"], rounds=1, warmup=0, timeout=0.5)
def test_leaves_a_process_tree(concur):
    code = "import subprocess, sys, time; " \\
           "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code])
    with open("child.pid", "w") as handle:
        handle.write(str(child.pid))
    time.sleep(30)

@pytest.mark.concur(workload="cpu", models=["processes", "asyncio-processes"], workers=[2],
                    rounds=2, warmup=0)
def test_worker_exits(concur):
    concur.map(exit_3, [0, 1, 2])

@pytest.mark.concur(workload="cpu", models=["processes", "asyncio-processes"], workers=[2],
                    rounds=1, warmup=0)
def test_worker_killed(concur):
    concur.map(kill_self, [0, 1])

@pytest.mark.concur(workload="cpu", models=["serial", "processes"], workers=[2], rounds=2,
                    warmup=0)
def test_still_measured(concur):
    assert concur.map(busy, [0.02, 0.02]) == [0.02, 0.02]
""" + NOTHING_LEFT_BEHIND_SOURCE


def rounds_of(pytester: pytest.Pytester) -> pd.DataFrame:
    (path,) = Path(pytester.path, "results", "rounds").glob("*.parquet")
    return pd.DataFrame(pq.read_table(path).to_pydict())  # see test_timeline.tables


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_faults_end_to_end(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0")
    # nothing waited for the 30 s sleeps: every hang was cut at its 0.5 s limit
    assert time.monotonic() - started < 25
    result.assert_outcomes(failed=8, passed=3)
    result.stdout.fnmatch_lines(["*RoundTimeout: round exceeded timeout of 0.5s*"])
    rows = rounds_of(pytester)
    by_test = rows.groupby("test_id")

    hangs = rows[rows["test_id"].str.contains("test_hangs|test_leaves")]
    assert len(hangs) == 4  # the first round of each fails, and ends the item
    assert set(hangs["outcome"]) == {"failed"}
    assert hangs["error"].str.contains("round exceeded timeout of 0.5s").all()
    assert hangs["wall_s"].between(0.45, 5).all()
    assert (hangs["timeout_s"] == 0.5).all()

    child = int(Path(pytester.path, "child.pid").read_text())
    assert not _alive(child)

    exits = rows[rows["test_id"].str.contains("test_worker_exits")]
    assert len(exits) == 2
    assert set(exits["outcome"]) == {"failed"}
    assert exits["error"].str.contains(r"worker process died: .*exit code 3").all()
    killed = rows[rows["test_id"].str.contains("test_worker_killed")]
    assert killed["error"].str.contains("worker process died: .*SIGKILL").all()

    kept = by_test.get_group("test_exp.py::test_still_measured[processes-2]")
    assert list(kept["outcome"]) == ["passed", "passed"]
    assert (kept["cpu_s"] >= 0.03).all()
    assert rows["timeout_s"].isna().sum() == len(rows) - 4


def test_command_line_and_ini_timeouts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_limits="""
        import time
        import pytest

        @pytest.mark.concur(workload="io", rounds=1, warmup=0)
        def test_default(concur):
            time.sleep(2)

        @pytest.mark.concur(workload="io", rounds=1, warmup=0, timeout=5)
        def test_marker_wins(concur):
            time.sleep(0.6)
        """
    )
    pytester.makeini("[pytest]\nconcur_timeout = 10\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-timeout=0.3", "--concur-sample-interval=0"
    )
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*round exceeded timeout of 0.3s*"])
    rows = rounds_of(pytester).set_index("test_id")
    assert rows.loc["test_limits.py::test_default[serial]", "timeout_s"] == 0.3
    assert rows.loc["test_limits.py::test_marker_wins[serial]", "timeout_s"] == 5.0


def test_bad_timeout_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--concur-timeout=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--concur-timeout*seconds must be more than zero*"])
    pytester.makeini("[pytest]\nconcur_timeout = soon\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option concur_timeout*expected seconds*"])


IN_PROCESS_HANGS = """
import asyncio, time
import pytest

def blocking(item):
    time.sleep(3)  # threads cannot be killed: short, so the session's exit waits little

async def waiting(item):
    await asyncio.sleep(30)

def cooperative(item):
    import gevent
    gevent.sleep(30)

@pytest.mark.concur(workload="io", models=["asyncio", "threads"], workers=[2], rounds=2,
                    warmup=0, timeout=0.3)
def test_blocking(concur):
    concur.map(blocking, [1, 2])

@pytest.mark.concur(workload="io", models=["asyncio", "serial"], workers=[2], rounds=2,
                    warmup=0, timeout=0.3)
def test_waiting(concur):
    concur.map(waiting, [1, 2])

@pytest.mark.concur(workload="io", models=["gevent"], workers=[2], rounds=1, warmup=0,
                    timeout=0.3)
def test_gevent_blocking(concur):
    concur.map(blocking, [1, 2])

@pytest.mark.concur(workload="io", models=["gevent"], workers=[2], rounds=1, warmup=0,
                    timeout=0.3)
def test_gevent_cooperative(concur):
    concur.map(cooperative, [1, 2])

@pytest.mark.concur(workload="io", models=["gevent", "asyncio"], workers=[2], rounds=1,
                    warmup=0)
def test_zz_models_still_work(concur):
    assert concur.map(abs, [-1, -2]) == [1, 2]
"""


def test_in_process_models_are_stopped_on_time(pytester: pytest.Pytester) -> None:
    """The limit reaches pytest's own flow wherever the signal lands: a thread pool's
    wait, the event loop's select, a blocked greenlet, or gevent's hub."""
    pytest.importorskip("gevent")
    pytester.makepyfile(test_hangs=IN_PROCESS_HANGS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0")
    result.assert_outcomes(failed=6, passed=2)
    rows = rounds_of(pytester)
    failed = rows[rows["outcome"] == "failed"]
    assert len(failed) == 6
    assert failed["error"].str.contains("round exceeded timeout of 0.3s").all()
    assert failed["wall_s"].between(0.25, 2.5).all()
