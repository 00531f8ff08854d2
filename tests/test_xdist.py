"""pytest-xdist: rows reach the controller once, rounds are measured one at a time, workers
on other interpreters keep their own environment."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from helpers import (
    NAP_SOURCE,
    SharedSession,
    concur_test,
    experiment_source,
    overlaps,
    read_results,
    shared_session,
    windows,
)

from pytest_concur._running.xdist import (
    LOCK_KEY,
    RUN_ID_KEY,
    STARTED_AT_KEY,
    ControllerHooks,
    MeasureLock,
    distribution,
    keep_own_sys_path,
    measure_guard,
    session_identity,
)

EXPERIMENT = experiment_source(
    concur_test(
        models=["serial", "threads"], workers=[2], rounds=2, warmup=1, fixtures="concur, size",
        decorators=['@pytest.mark.parametrize("size", [2, 3])'],
        body="concur.map(nap, [0.01] * size)",
    ),
    concur_test(
        "test_sum", workload="cpu", models=["serial", "processes"], workers=[2], rounds=2,
        warmup=1, body="concur.map(sum, [range(1000)] * 4)",
    ),
    before=NAP_SOURCE,
)  # fmt: skip
ITEMS = 6  # test_nap: 2 models x 2 sizes; test_sum: 2 models
ROUNDS_PER_ITEM = 3  # 1 warm-up + 2 measured


def rounds_files(pytester: pytest.Pytester | SharedSession) -> list[Path]:
    """Files of the rounds table (each table has its folder)."""
    return list(Path(pytester.path, "results", "rounds").glob("*.parquet"))


LOCK_FOLDER_SEEN = """
import os

def test_the_session_has_a_lock_folder():
    names = os.listdir(os.environ["TMPDIR"])
    assert [name for name in names if name.startswith("pytest-concur-")], names
"""


@pytest.fixture(scope="module")
def spread_run(tmp_path_factory: pytest.TempPathFactory) -> SharedSession:
    """EXPERIMENT over two xdist workers, once for the tests of this module."""
    folder = tmp_path_factory.mktemp("spread")
    temp = folder / "tmp"
    temp.mkdir()
    return shared_session(
        folder, {"test_exp": EXPERIMENT, "test_plain": LOCK_FOLDER_SEEN},
        "-p", "no:cacheprovider", "-n", "2", "--concur-report",
        env={"TMPDIR": str(temp)},  # where the controller makes its lock folder
    )  # fmt: skip


def test_every_row_reaches_the_controller_once(spread_run: SharedSession) -> None:
    temp = spread_run.path / "tmp"
    result = spread_run.result
    result.assert_outcomes(passed=ITEMS + 1)
    result.stdout.fnmatch_lines(["*pytest-concur report*", "test_exp.py::test_nap*"])
    assert len(rounds_files(spread_run)) == 1
    rows = read_results(spread_run)
    assert len(rows) == ITEMS * ROUNDS_PER_ITEM
    keys = rows[["test_id", "round"]].astype(str)
    assert not keys.duplicated().any()
    for test_id, group in rows.groupby("test_id", observed=True):
        assert sorted(group["round"]) == list(range(ROUNDS_PER_ITEM)), test_id
    # one session: the controller's run id and start time on every row
    assert rows["run_id"].nunique() == 1
    assert rows["started_at"].nunique() == 1
    assert set(rows["xdist_worker"].astype(str)) == {"gw0", "gw1"}
    assert rows["host"].notna().all()
    assert rows["exclusive"].all()
    assert (rows["lock_wait_s"] >= 0).all()
    # the session's lock folder is gone with the session
    assert not [path for path in temp.iterdir() if path.name.startswith("pytest-concur-")]


def test_same_rows_as_without_xdist(
    pytester: pytest.Pytester, spread_run: SharedSession
) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=ITEMS)
    plain = read_results(pytester)
    spread_run.result.assert_outcomes(passed=ITEMS + 1)  # and the plain test_plain
    spread = read_results(spread_run)
    key = ["test_id", "round", "warmup", "model", "workers", "params"]

    def keys(frame: pd.DataFrame) -> list[tuple[str, ...]]:
        return sorted(tuple(str(v) for v in row) for row in frame[key].itertuples(index=False))

    assert keys(plain) == keys(spread)
    assert list(plain.columns) == list(spread.columns)
    # without xdist one process measures everything: exclusive, and no lock to wait for
    assert plain["exclusive"].all()
    assert plain["lock_wait_s"].isna().all()
    assert plain["xdist_worker"].isna().all()


def file_a(name: str) -> str:
    return experiment_source(
        concur_test(f"test_{name}", models=["serial", "threads"], workers=[2], rounds=3,
                    body="concur.map(nap, [0.03, 0.03])"),
        before=NAP_SOURCE,
    )  # fmt: skip


def test_exclusive_rounds_never_overlap(pytester: pytest.Pytester) -> None:
    # one file per worker (--dist loadfile), so both workers measure all along
    pytester.makepyfile(test_a=file_a("a"), test_b=file_a("b"))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile"
    )
    result.assert_outcomes(passed=4)
    rows = read_results(pytester)
    assert len(rows) == 12
    assert set(rows["xdist_worker"].astype(str)) == {"gw0", "gw1"}
    assert rows["exclusive"].all()
    frame = windows(rows)
    assert overlaps(frame) == 0, frame.to_string()


RENDEZVOUS = """
import os, time
from pathlib import Path
import pytest

HERE = Path({folder!r})

@pytest.mark.concur(workload="io", models=["serial"], rounds=1, warmup=0)
def test_{name}(concur):
    # inside the measured round: wait until the other worker's round has started too
    (HERE / "{name}").touch()
    deadline = time.monotonic() + 60
    while len(list(HERE.iterdir())) < 2:
        assert time.monotonic() < deadline, "the other worker never started its round"
        time.sleep(0.01)
"""


def test_allow_overlap_lets_workers_measure_together(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("arrived")
    pytester.makepyfile(
        test_a=RENDEZVOUS.format(folder=str(folder), name="a"),
        test_b=RENDEZVOUS.format(folder=str(folder), name="b"),
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile", "--concur-allow-overlap"
    )
    result.assert_outcomes(passed=2)
    rows = read_results(pytester)
    assert not rows["exclusive"].any()
    assert rows["lock_wait_s"].isna().all()
    # each round waited inside its window for the other to start: the windows overlap,
    # which is what the exclusive test above would have caught
    assert overlaps(windows(rows)) == 1


HOLDER = """
import sys, time
from pathlib import Path
from pytest_concur._running.xdist import MeasureLock

with MeasureLock(Path(sys.argv[1])).hold():
    print("held", flush=True)
    time.sleep(1.0)
"""


def test_measure_lock_makes_the_next_worker_wait(tmp_path: Path) -> None:
    path = tmp_path / "session" / "measure.lock"
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        lock = MeasureLock(path)
        try:
            with lock.hold() as waited:
                pass
            # the holder kept it for 1 s after saying so: a robust lower bound
            assert waited > 0.3
            with lock.hold() as again:
                pass
            assert again < 0.5  # nobody holds it now
        finally:
            lock.close()


def test_lock_path_this_host_cannot_make_falls_back_to_its_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a remote host where the controller's lock folder cannot be made: here its parent
    # is a regular file, as a path from another machine's temp layout may be anything
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    given = blocker / "pytest-concur-run-1-abc" / "measure.lock"
    host_tmp = tmp_path / "host-tmp"
    host_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(host_tmp))
    fallback = host_tmp / "pytest-concur-run-1-abc" / "measure.lock"
    # another worker of the session on this host, with the same temp folder
    env = {**os.environ, "TMPDIR": str(host_tmp)}
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(given)], stdout=subprocess.PIPE, text=True, env=env
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert fallback.exists()  # the holder fell back as well
        lock = MeasureLock(given)
        try:
            with lock.hold() as waited:
                assert lock.path == fallback
            # both workers met at the fallback: this one waited for the holder's second
            assert waited > 0.3
        finally:
            lock.close()


def test_guard_outside_a_worker_is_exclusive_without_a_lock() -> None:
    guard = measure_guard(SimpleNamespace(), allow_overlap=False)
    assert guard.exclusive
    assert guard.lock is None
    with guard.hold() as waited:
        assert waited is None


def test_guard_on_a_worker(tmp_path: Path) -> None:
    config = SimpleNamespace(workerinput={LOCK_KEY: str(tmp_path / "measure.lock")})
    guard = measure_guard(config, allow_overlap=False)
    try:
        assert guard.exclusive
        with guard.hold() as waited:
            assert waited is not None
            assert waited >= 0
    finally:
        guard.close()
    assert not measure_guard(config, allow_overlap=True).exclusive
    # a controller that sent no lock: nothing keeps rounds apart, and rows say so
    assert not measure_guard(SimpleNamespace(workerinput={}), allow_overlap=False).exclusive


def test_controller_hands_each_worker_identity_and_lock() -> None:
    started = pd.Timestamp("2026-01-02T03:04:05+00:00").to_pydatetime()
    hooks = ControllerHooks("run-1", started, allow_overlap=False)
    nodes = [
        SimpleNamespace(
            workerinput={},
            gateway=SimpleNamespace(spec=SimpleNamespace(popen=True)),
            config=SimpleNamespace(option=SimpleNamespace(dist="loadscope")),
        )
        for _ in range(2)
    ]
    for node in nodes:
        hooks.pytest_configure_node(node)
    first, second = (node.workerinput for node in nodes)
    assert first[RUN_ID_KEY] == "run-1"
    # xdist sets a worker's own --dist to "no": adaptive rounds learn the controller's
    assert distribution(SimpleNamespace(workerinput=first)) == "loadscope"
    assert distribution(SimpleNamespace()) is None
    assert session_identity(SimpleNamespace(workerinput=first)) == ("run-1", started)
    assert first[LOCK_KEY] == second[LOCK_KEY]  # one lock for the whole session
    folder = Path(first[LOCK_KEY]).parent
    assert folder.is_dir()
    hooks.close()
    assert not folder.exists()
    assert session_identity(SimpleNamespace()) == (None, None)


def test_controller_with_overlap_sends_no_lock() -> None:
    started = pd.Timestamp("2026-01-02T03:04:05+00:00").to_pydatetime()
    hooks = ControllerHooks("run-2", started, allow_overlap=True)
    node = SimpleNamespace(workerinput={}, gateway=SimpleNamespace(spec=SimpleNamespace()))
    hooks.pytest_configure_node(node)
    hooks.close()
    assert LOCK_KEY not in node.workerinput
    assert node.workerinput[STARTED_AT_KEY] == started.isoformat()


def test_only_named_local_interpreters_keep_their_own_sys_path() -> None:
    named = SimpleNamespace(popen=True, python="/opt/python3.12")
    assert keep_own_sys_path(named)
    assert not named.popen
    plain = SimpleNamespace(popen=True, python=None)
    assert not keep_own_sys_path(plain)
    assert plain.popen
    remote = SimpleNamespace(popen=None, python="python3", ssh="host")
    assert not keep_own_sys_path(remote)


def _version_of(python: str) -> str:
    probe = (
        "from pytest_concur._measuring.environment import current_environment as e; "
        "print(e().python)"
    )
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("CONCUR_OTHER_PYTHON"),
    reason="set CONCUR_OTHER_PYTHON to a Python with pytest-concur installed "
    "(.ci/tox-matrix.sh points it at a tox environment)",
)
def test_worker_on_another_interpreter_keeps_its_own_environment(
    pytester: pytest.Pytester,
) -> None:
    other = os.environ["CONCUR_OTHER_PYTHON"]
    versions = {"gw0": _version_of(other), "gw1": _version_of(sys.executable)}
    pytester.makepyfile(test_a=file_a("a"), test_b=file_a("b"))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--dist", "loadfile",
        "--tx", f"popen//python={other}", "--tx", f"popen//python={sys.executable}",
    )  # fmt: skip
    result.assert_outcomes(passed=4)
    rows = read_results(pytester)
    assert len(rows) == 12
    # each row carries the interpreter of the worker that measured it
    by_worker = rows.groupby(rows["xdist_worker"].astype(str))["python"].unique()
    assert {worker: list(values) for worker, values in by_worker.items()} == {
        worker: [version] for worker, version in versions.items()
    }
    assert rows["run_id"].nunique() == 1


def test_docs_name_the_option() -> None:
    docs = Path(__file__).parents[1] / "docs" / "xdist-and-tox.md"
    text = docs.read_text(encoding="utf-8")
    for needle in ("--concur-allow-overlap", "popen//python=", "ssh=", "lock_wait_s"):
        assert needle in text, needle
