"""Each diagnosis code shown by a tiny experiment built to show it, and absent from one built
not to; the recommendations stored beside the rounds and printed after the report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import pytest_concur as pc
from pytest_concur._advice.codes import FAKED_BY_CROWDING, MOVE_SHARE
from pytest_concur._advice.moving import moving_by_variant
from pytest_concur._rounds.counting import measured, quiet_rounds
from pytest_concur._rounds.variant import keyed

#: a task module that imports nothing heavy (see test_long_naps)
NAPS = """
import time

def nap(seconds):
    time.sleep(seconds)
    return seconds
"""

SHOWS = """
import asyncio, time
import pytest

def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def nap(seconds):
    time.sleep(seconds)
    return seconds

def small(x):
    return x

def big(n):
    return b"x" * n

async def blocking(seconds):
    time.sleep(seconds)  # a blocking call on the loop

async def awaiting(seconds):
    await asyncio.sleep(seconds)

@pytest.mark.concur(workload="cpu", models=["serial", "threads"], workers=[2], rounds=3,
                    warmup=0)
def test_spin(concur):
    concur.map(spin, [150_000] * 4)

@pytest.mark.concur(workload="io", models=["serial", "threads"], workers=[2], rounds=3, warmup=0)
def test_even_naps(concur):
    concur.map(nap, [0.06, 0.06])

@pytest.mark.concur(workload="io", models=["threads"], workers=[2], rounds=3, warmup=0)
def test_uneven_naps(concur):
    concur.map(nap, [0.01, 0.15])

@pytest.mark.concur(workload="cpu", models=["serial", "processes"], workers=[2], rounds=3,
                    warmup=0)
def test_tiny_tasks(concur):
    concur.map(small, [1, 2])

@pytest.mark.concur(workload="io", models=["serial", "processes"], workers=[2], rounds=3,
                    warmup=0)
def test_long_naps(concur):
    # from a module of its own that imports only time: under forkserver (the default
    # from 3.14) each worker imports the task's module, and this one would bring pytest
    import naps
    concur.map(naps.nap, [0.3, 0.3])

@pytest.mark.concur(workload="cpu", models=["serial", "processes"], workers=[2], rounds=3,
                    warmup=0)
def test_big_results(concur):
    concur.map(big, [10_000_000] * 4)

@pytest.mark.concur(workload="io", models=["serial", "asyncio"], workers=[4], rounds=3,
                    warmup=0)
def test_blocking_loop(concur):
    concur.map(blocking, [0.02] * 4)

@pytest.mark.concur(workload="io", models=["serial", "asyncio"], workers=[4], rounds=3,
                    warmup=0)
def test_awaiting_loop(concur):
    concur.map(awaiting, [0.02] * 4)
"""


def _read(pytester: pytest.Pytester, kind: str, folder: str = "results") -> pd.DataFrame:
    """A table the session wrote, as plain values (pytester drops modules between runs)."""
    (path,) = [
        path
        for path in Path(pytester.path, folder).glob("*/*.parquet")
        if (pq.read_schema(path).metadata or {}).get(b"pytest_concur.table") == kind.encode()
    ]
    return pd.DataFrame(pq.read_table(path).to_pydict())


def _codes(diagnosis: pd.DataFrame, experiment: str, variant: str) -> list[str]:
    (codes,) = diagnosis.loc[
        diagnosis["experiment"].str.endswith(experiment) & (diagnosis["variant"] == variant),
        "codes",
    ]
    return list(codes)


def _busy(rounds: pd.DataFrame) -> set[tuple[str, str]]:
    """(experiment's test name, variant) of every variant with too few quiet rounds."""
    selection = quiet_rounds(measured(rounds))
    return {(v.key[0].split("::")[-1], v.label) for v in selection.busy}


def _shows(
    found: pd.DataFrame, busy: set[tuple[str, str]], experiment: str, variant: str, code: str
) -> bool:
    """Whether ``variant`` shows ``code``; where crowding (of it, or of the serial rounds
    it is judged against) may fake the code, the diagnosis must say crowded instead."""
    codes = _codes(found, experiment, variant)
    crowded = {(experiment, variant), (experiment, "serial")} & busy
    if crowded and code in FAKED_BY_CROWDING:
        assert code not in codes, codes
        assert ((experiment, variant) not in busy) or "crowded" in codes, codes
        pytest.skip(f"the machine was busy: {sorted(crowded)} had too few quiet rounds")
    return code in codes


def test_codes_end_to_end(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=SHOWS, naps=NAPS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-report")
    result.assert_outcomes(passed=15)
    rounds, tasks = _read(pytester, "rounds"), _read(pytester, "tasks")
    found = pc.diagnose(rounds, tasks)
    busy = _busy(rounds)

    # gil_bound is a GIL build's finding: with the GIL off (free-threaded), two spinning
    # threads hold two cores, and the code must not be given
    spin = rounds[rounds["experiment"].astype(str).str.endswith("test_spin")]
    gil = bool(spin["gil_enabled"].astype(bool).all())
    assert "gil_bound" not in _codes(found, "test_even_naps", "threads-2")
    assert "imbalanced" not in _codes(found, "test_even_naps", "threads-2")
    # crowding fakes start-up too: a busy variant must not say it
    tiny_busy = {("test_tiny_tasks", "processes-2"), ("test_tiny_tasks", "serial")} & busy
    tiny = _codes(found, "test_tiny_tasks", "processes-2")
    assert ("startup_bound" in tiny) is not bool(tiny_busy), (tiny, tiny_busy)
    assert "startup_bound" not in _codes(found, "test_long_naps", "processes-2")
    # 40 MB of results moved per round: measured, and judged by the documented share of
    # the workers' time that went to moving them (_advice/moving.py); 10 MB per task is
    # more than batching can help
    big = rounds[rounds["experiment"].astype(str).str.endswith("test_big_results")
                 & (rounds["model"].astype(str) == "processes")]  # fmt: skip
    assert (big["transfer_bytes"] >= 40_000_000).all()
    moved = moving_by_variant(quiet_rounds(measured(keyed(rounds))).rows, tasks)  # as diagnose
    (share,) = [m.share for key, m in moved.items() if key[0].endswith("test_big_results")]
    assert share > 0.05
    transfer_bound = "transfer_bound" in _codes(found, "test_big_results", "processes-2")
    assert transfer_bound is (share >= MOVE_SHARE), share
    if transfer_bound:
        (text,) = found.loc[found["experiment"].str.endswith("test_big_results")
                            & (found["variant"] == "processes-2"), "text"]  # fmt: skip
        assert "the data itself is too big to move" in text, text
    assert "transfer_bound" not in _codes(found, "test_long_naps", "processes-2")
    assert "loop_blocked" in _codes(found, "test_blocking_loop", "asyncio-4")
    assert "loop_blocked" not in _codes(found, "test_awaiting_loop", "asyncio-4")

    # transfer is measured per task and per round for process models only
    processes = rounds[(rounds["model"] == "processes") & rounds["test_id"].str.contains("big")]
    assert (processes["transfer_bytes"] > 4 * 10_000_000).all()
    assert (processes["transfer_s"] > 0).all()
    assert rounds.loc[rounds["model"] == "threads", "transfer_bytes"].isna().all()
    shipped = tasks[tasks["model"] == "processes"]
    assert (shipped["transfer_bytes"] > 0).all()
    assert tasks.loc[tasks["model"] == "threads", "transfer_s"].isna().all()

    # stored beside the rounds, and printed after the report
    stored = _read(pytester, "recommendations")
    assert len(stored) == 8
    by_experiment = stored.set_index(stored["experiment"].str.split("::").str[-1])
    uneven = by_experiment.loc["test_uneven_naps"].to_dict()
    assert pd.isna(uneven["best"])  # one variant only
    assert list(uneven["problems"]) == ["one_variant"]
    if not {name for name, _ in busy} & {"test_even_naps", "test_spin"}:
        assert by_experiment.loc["test_even_naps", "best"] == "threads-2"
        result.stdout.fnmatch_lines(
            [
                "*pytest-concur decisions*",
                *(["*test_spin: *threads-2 is gil_bound: * of 2 cores*"] if gil else []),
                "*test_even_naps: use threads-2: *x faster than serial*",
            ]
        )

    # the public API gives the report's answers: pc.load notes where the frame came from,
    # so diagnose and recommend find the task spans themselves
    loaded = pc.load(pytester.path / "results")
    public = pc.diagnose(loaded)
    key = ["experiment", "variant"]
    pairs = public.merge(found, on=key, suffixes=("", "_given")).sort_values(key)
    assert len(pairs) == len(found) == 15
    assert (pairs["codes"].map(list) == pairs["codes_given"].map(list)).all()
    assert (pairs["text"] == pairs["text_given"]).all()
    assert not public["not_assessed"].map(len).any()
    shown = result.stdout.str()
    for rec in pc.recommend(loaded).to_dict("records"):
        mine = public[(public["experiment"] == rec["experiment"]) & public["codes"].map(len)]
        if list(rec["problems"]) == ["one_variant"] and mine.empty:
            assert f"{rec['experiment']}: no recommendation" not in shown  # counted, not listed
            continue
        assert f"{rec['experiment']}: {rec['reason']}" in shown, rec["reason"]
        if "one_variant" in rec["problems"]:  # nothing to compare: its findings are its reason
            for text in mine["text"]:
                assert text in rec["reason"], text
    tasks_frame = pc.load_tasks(pytester.path / "results")
    assert len(tasks_frame) == len(tasks)
    # without spans (a frame built by hand) it says what it could not assess
    bare = pc.diagnose(rounds)
    lopsided = bare[bare["experiment"].str.endswith("test_uneven_naps")].iloc[0]
    assert list(lopsided["not_assessed"]) == ["imbalanced"]
    assert "imbalanced" not in list(lopsided["codes"])
    assert "not assessed without task spans: imbalanced" in lopsided["text"]
    blocked = bare[bare["experiment"].str.endswith("test_blocking_loop")
                   & (bare["variant"] == "asyncio-4")].iloc[0]  # fmt: skip
    assert "imbalanced" in list(blocked["not_assessed"])

    # last: each skips the rest where the machine was too busy to show the code
    assert _shows(found, busy, "test_spin", "threads-2", "gil_bound") is gil
    if gil:
        assert not _shows(found, busy, "test_spin", "threads-2", "scales")
    assert _shows(found, busy, "test_uneven_naps", "threads-2", "imbalanced")
    assert _shows(found, busy, "test_even_naps", "threads-2", "scales")


ONE_CPU = """
import os
os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one usable CPU
"""

ONE_CPU_EXPERIMENTS = """
import time
import pytest

def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def nap(seconds):
    time.sleep(seconds)

@pytest.mark.concur(workload="cpu", models=["serial", "processes"], workers=[1, 2], rounds=3,
                    warmup=0)
def test_spin(concur):
    concur.map(spin, [300_000] * 2)

@pytest.mark.concur(workload="io", models=["threads"], workers="auto", rounds=3, warmup=0)
def test_naps(concur):
    concur.map(nap, [0.02] * 4)

@pytest.mark.concur(workload="cpu", models=["serial", "threads"], workers=[2], rounds=3, warmup=0)
def test_fails(concur):
    raise ValueError("broken experiment")
"""


def test_oversubscribed_auto_workers_and_failures_end_to_end(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(ONE_CPU)
    pytester.makepyfile(test_exp=ONE_CPU_EXPERIMENTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=6, failed=2)
    # workers="auto" on one usable CPU, io workload: 1, 2, 4 (4x the CPUs)
    result.stdout.fnmatch_lines(["*test_naps?threads-1?*", "*test_naps?threads-2?*",
                                 "*test_naps?threads-4?*"])  # fmt: skip
    assert "threads-8" not in result.stdout.str()
    rounds = _read(pytester, "rounds")
    assert set(rounds["usable_cpus"]) == {1}
    found = pc.diagnose(rounds)
    stored = _read(pytester, "recommendations")
    failed = stored[stored["experiment"].str.endswith("test_fails")].to_dict("records")
    assert pd.isna(failed[0]["best"])
    assert list(failed[0]["problems"]) == ["all_failed"]
    assert "broken experiment" in failed[0]["reason"]
    assert _shows(found, _busy(rounds), "test_spin", "processes-2", "oversubscribed")
    assert "oversubscribed" not in _codes(found, "test_spin", "processes-1")
    assert "oversubscribed" not in _codes(found, "test_naps", "threads-4")  # waits: not computing


CROWDED = """
import subprocess, sys, time
import pytest

@pytest.fixture(scope="module")
def spinners():
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    time.sleep(0.3)
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()

def nap(seconds):
    time.sleep(seconds)

@pytest.mark.concur(workload="io", models=["serial", "threads"], workers=[2], rounds=3, warmup=0)
def test_crowded(concur, spinners):
    for proc in spinners:
        concur.exclude_process(proc.pid)
    concur.map(nap, [0.1, 0.1])
"""


def test_crowded_end_to_end(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=CROWDED)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-sample-interval=0.01", "--concur-html=page.html"
    )
    result.assert_outcomes(passed=2)
    found = pc.diagnose(_read(pytester, "rounds"))
    assert "crowded" in _codes(found, "test_crowded", "threads-2")
    # never a winner from crowded rounds: undecided, and said so
    (recommendation,) = _read(pytester, "recommendations").to_dict("records")
    assert recommendation["best"] is None
    assert list(recommendation["problems"]) == ["machine_busy"]
    reason = recommendation["reason"]
    assert reason.startswith("no recommendation: machine busy: "), reason
    assert " of 3 rounds of threads-2" in reason
    assert reason.endswith(" crowded; rerun on a quiet machine")
    page = Path(pytester.path, "page.html").read_text(encoding="utf-8")
    assert "<h2>Decisions</h2>" in page
    assert "no recommendation: machine busy: " in page
    # the same experiment without the sampler's witness never says crowded
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0",
                                  "--concur-results=quiet")  # fmt: skip
    quiet = pc.diagnose(_read(pytester, "rounds", "quiet"))
    assert "crowded" not in _codes(quiet, "test_crowded", "threads-2")
