"""Nothing lost when the process is stopped: Ctrl-C, SIGTERM, SIGKILL, a crashed xdist
worker, and several sessions writing into one results folder at once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from faults_helpers import (
    SPILL_EVERY_ITEM,
    fake_row,
    finish,
    load_quietly,
    rounds_files,
    start_pytest,
    wait_for,
)
from helpers import concur_test, experiment_source

import pytest_concur
from pytest_concur._storing.layout import PARTS_SUFFIX, parts_folder
from pytest_concur._storing.reading import ResultsFileWarning
from pytest_concur._storing.spill import Spill

ROUNDS = 3
#: an experiment of many short items; each round leaves a file, so a test knows the progress
SLOW = experiment_source(
    concur_test(
        rounds=ROUNDS, fixtures="concur, item",
        decorators=['@pytest.mark.parametrize("item", range(40))'],
        body="""
        concur.map(time.sleep, [0.03])
        open(f"round-{item}-{os.getpid()}-{time.monotonic_ns()}", "w").close()
        """,
    ),
    imports=["os", "time", "pytest"],
)  # fmt: skip


def leftovers(folder: Path) -> list[str]:
    """Temp files and parts folders that a clean end removes."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------- 4. interrupts


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_session_writes_every_measured_round(
    pytester: pytest.Pytester, signum: signal.Signals
) -> None:
    pytester.makepyfile(test_slow=SLOW)
    process = start_pytest(pytester.path, ["--concur-report"])
    wait_for(pytester.path, "round-*", 3 * ROUNDS + 1, process)
    process.send_signal(signum)
    result = finish(process)
    assert result.returncode == pytest.ExitCode.INTERRUPTED, result.output
    assert "INTERNALERROR" not in result.output
    assert "pytest-concur report" in result.output
    measured = len(list(pytester.path.glob("round-*")))
    results = Path(pytester.path, "results")
    rows = load_quietly(results)
    # every round measured to its end has its row; the signal may land after the body of
    # the last round but before its measurement ended: that round is lost, or "interrupted"
    passed = rows[rows["outcome"] == "passed"]
    assert measured - 1 <= len(passed) <= measured
    assert len(rows) <= measured + 1
    assert set(rows["outcome"]) <= {"passed", "interrupted"}
    assert not rows["session_complete"].any()
    assert leftovers(results) == []
    assert f"{len(rows)} rows written to" in result.output


def test_ctrl_c_under_xdist_keeps_the_rounds_of_every_worker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_slow=SLOW)
    process = start_pytest(pytester.path, ["-n", "2"])
    wait_for(pytester.path, "round-*", 4 * ROUNDS + 1, process)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: the whole process group
    result = finish(process)
    assert result.returncode == pytest.ExitCode.INTERRUPTED, result.output
    assert "INTERNALERROR" not in result.output
    rows = load_quietly(Path(pytester.path, "results"))
    passed = rows[rows["outcome"] == "passed"]
    measured = len(list(pytester.path.glob("round-*")))
    # rows of items in progress come from the workers' journals; each worker may lose
    # the one round it was measuring when the signal came
    assert measured - 2 <= len(passed) <= measured
    assert set(rows["xdist_worker"]) == {"gw0", "gw1"}
    assert not rows["session_complete"].any()


def test_a_killed_session_leaves_parts_that_load_reads_and_the_next_session_merges(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(SPILL_EVERY_ITEM)
    pytester.makepyfile(test_slow=SLOW)
    process = start_pytest(pytester.path, [])
    wait_for(pytester.path, "round-*", 4 * ROUNDS, process)
    os.killpg(process.pid, signal.SIGKILL)  # no handler, no cleanup
    finish(process)
    results = Path(pytester.path, "results")
    [parts] = results.glob(f".*{PARTS_SUFFIX}")
    with pytest.warns(ResultsFileWarning, match="ended before it could merge them"):
        early = pytest_concur.load(results)
    assert len(early) >= 3 * ROUNDS  # at least the items spilled before the kill
    assert not early["session_complete"].any()

    result = finish(start_pytest(pytester.path, ["test_slow.py::test_nap[serial-0]"]))
    assert result.returncode == pytest.ExitCode.OK, result.output
    killed_run = parts.name[1 : -len(PARTS_SUFFIX)]
    assert f"recovered {len(early)} measured rounds of interrupted session {killed_run}" in (
        result.output
    )
    assert not parts.exists()
    recovered = pytest_concur.load(results / "rounds" / f"{killed_run}.parquet")
    assert len(recovered) == len(early)
    assert not recovered["session_complete"].any()
    assert len(rounds_files(results)) == 2  # the recovered run and this one


# ---------------------------------------------------------------------------- 5. crashed worker

CRASH = f"""
import os
import pytest

@pytest.mark.concur(workload="cpu", models=["serial"], rounds={ROUNDS}, warmup=0)
@pytest.mark.parametrize("item", range(3))
def test_fine(concur, item):
    concur.map(abs, [item])

ROUNDS_SEEN = []

@pytest.mark.concur(workload="cpu", models=["serial"], rounds={ROUNDS}, warmup=0)
def test_zz_crash(concur):
    ROUNDS_SEEN.append(1)
    if len(ROUNDS_SEEN) == 2:
        os._exit(3)  # the worker dies in its second round
"""


def test_rows_of_a_crashed_worker_are_not_lost(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_crash=CRASH)
    # one worker runs every item in order: it measures test_fine, then dies in test_zz_crash
    result = finish(start_pytest(pytester.path, ["-n", "1"]))
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.output
    assert "worker 'gw0' crashed while running" in result.output
    assert "INTERNALERROR" not in result.output
    assert "1 rows of test items whose xdist worker crashed" in result.output
    rows = load_quietly(Path(pytester.path, "results"))
    counts = rows.groupby("test_id", observed=True).size().to_dict()
    assert counts == {
        "test_crash.py::test_fine[serial-0]": ROUNDS,
        "test_crash.py::test_fine[serial-1]": ROUNDS,
        "test_crash.py::test_fine[serial-2]": ROUNDS,
        "test_crash.py::test_zz_crash[serial]": 1,  # the round before the crash
    }
    assert set(rows["xdist_worker"]) == {"gw0"}


# ---------------------------------------------------------------------------- 6. concurrency

QUICK = experiment_source(
    concur_test(
        "test_quick", workload="cpu", models=["serial", "threads"], workers=[2], rounds=ROUNDS,
        fixtures="concur, item", decorators=['@pytest.mark.parametrize("item", range(4))'],
        body="concur.map(abs, [item])",
    ),
    imports=["pytest"],
)  # fmt: skip


def test_sessions_writing_into_one_folder_at_once_lose_nothing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(SPILL_EVERY_ITEM)  # parts folders of live sessions side by side
    pytester.makepyfile(test_quick=QUICK)
    results = Path(pytester.path, "results")
    # what a killed session left: every starting session tries to recover it
    orphan = Spill(results, "20250101T000000-0badcafe", flush_rows=2)
    for index in range(5):
        orphan.add([fake_row("20250101T000000-0badcafe", index)])
    orphan.close()  # two parts of two rows spilled; the fifth row was in memory
    sessions = 4
    processes = [start_pytest(pytester.path, []) for _ in range(sessions)]
    outputs = [finish(process) for process in processes]
    assert all(out.returncode == 0 for out in outputs), [out.output for out in outputs]
    assert sum("recovered 4 measured rounds" in out.output for out in outputs) == 1
    files = rounds_files(results)
    assert len(files) == sessions + 1
    rows = load_quietly(results)
    per_run = rows.groupby("run_id", observed=True).size()
    assert len(per_run) == sessions + 1
    assert per_run["20250101T000000-0badcafe"] == 4
    assert (per_run.drop("20250101T000000-0badcafe") == 4 * 2 * ROUNDS).all()
    assert leftovers(results) == []


def test_a_running_sessions_parts_are_never_taken(tmp_path: Path) -> None:
    live = Spill(tmp_path, "20250101T000000-00aa11bb", flush_rows=1)
    live.add([fake_row("20250101T000000-00aa11bb", 0)])
    assert parts_folder(tmp_path, "20250101T000000-00aa11bb").is_dir()
    from pytest_concur._storing.recovery import recover

    assert recover(tmp_path) == []
    assert pytest_concur.load(tmp_path).empty  # nor read: its rows arrive when it ends
    assert live.finish(complete=True) == {
        "rounds": tmp_path / "rounds" / "20250101T000000-00aa11bb.parquet"
    }
    assert len(pytest_concur.load(tmp_path)) == 1


# ---------------------------------------------------------------------------- 9. hangs

HANG = """
import os
import subprocess
import sys
import time

import pytest

def nap(seconds):
    with open("pids", "a") as pids:
        pids.write(f"{os.getpid()}\\n")
    time.sleep(seconds)

GRANDCHILD = (
    "import subprocess, sys, time; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "open('pids', 'a').write(f'{p.pid}\\\\n'); time.sleep(60)"
)

@pytest.mark.concur(workload="io", models=["serial", "processes"], workers=[2], rounds=2,
                    warmup=0, timeout=1)
def test_hang(concur):
    child = subprocess.Popen([sys.executable, "-c", GRANDCHILD])
    with open("pids", "a") as pids:
        pids.write(f"{child.pid}\\n")
    concur.map(nap, [60, 60])

@pytest.mark.concur(workload="io", models=["serial"], rounds=2, warmup=0)
def test_fine(concur):
    concur.map(abs, [1])
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_hanging_round_is_ended_and_leaves_no_process_behind(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_hang=HANG)
    result = finish(start_pytest(pytester.path, []), timeout=60)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.output
    assert "INTERNALERROR" not in result.output
    pids = [int(line) for line in Path(pytester.path, "pids").read_text().split()]
    # the test's child and grandchild of each variant, and the pool's two workers
    assert len(pids) >= 2 + 2 + 2
    assert [pid for pid in pids if alive(pid)] == []
    rows = load_quietly(Path(pytester.path, "results"))
    hung = rows[rows["test_id"].str.startswith("test_hang.py::test_hang")]
    assert list(hung["outcome"]) == ["failed", "failed"]  # one round each, then the item stops
    assert hung["error"].str.contains("timeout of 1s").all()
    assert (hung["wall_s"] < 10).all()
    fine = rows[rows["test_id"] == "test_hang.py::test_fine[serial]"]
    assert list(fine["outcome"]) == ["passed", "passed"]
