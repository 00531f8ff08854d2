"""The session's rows on their way to disk: spilling, merging, falling back, recovering,
journals of xdist workers, SIGTERM, and a 100,000-round session in bounded memory."""

from __future__ import annotations

import errno
import gc
import json
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import psutil
import pyarrow.parquet as pq
import pytest
from faults_helpers import fake_row

import pytest_concur._storing.files as storage
from pytest_concur._measuring.environment import current_environment
from pytest_concur._running.configuration import Settings
from pytest_concur._running.interrupt import Terminated, terminate_like_interrupt
from pytest_concur._running.session import ConcurSession
from pytest_concur._storing.files import write_rows
from pytest_concur._storing.journal import Journal, JournalFolder
from pytest_concur._storing.layout import OWNER_LOCK, final_path, parts_folder
from pytest_concur._storing.layout import part_files as stored_parts
from pytest_concur._storing.locking import owner_alive
from pytest_concur._storing.reading import read_file
from pytest_concur._storing.recovery import recover
from pytest_concur._storing.spill import Spill, check_writable, unwritable_reason

RUN = "20260101T000000-feedf00d"
SPILL = "pytest_concur._storing.spill."  # where the writers are looked up, for monkeypatching


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def rows(start: int, count: int) -> list[dict[str, Any]]:
    return [fake_row(RUN, index) for index in range(start, start + count)]


def stored_rounds(path: Path) -> list[int]:
    return [int(value) for value in pq.read_table(path).column("round").to_pylist()]


def part_files(folder: Path) -> list[Path]:
    parts = parts_folder(folder, RUN)
    return stored_parts(parts) if parts.exists() else []


# ---------------------------------------------------------------------------- spilling


def test_rows_spill_to_parts_and_merge_in_order(tmp_path: Path) -> None:
    spill = Spill(tmp_path, RUN, flush_rows=4)
    for start in range(0, 10, 2):
        spill.add(rows(start, 2))
    assert [len(read_file(p)) for p in part_files(tmp_path)] == [4, 4]
    assert owner_alive(parts_folder(tmp_path, RUN))  # held while the session lives
    assert spill.finish(complete=True) == {"rounds": final_path(tmp_path, RUN)}
    assert stored_rounds(final_path(tmp_path, RUN)) == list(range(10))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rounds"]
    assert spill.notices == []


def test_rows_that_waited_are_spilled_between_items(tmp_path: Path) -> None:
    clock = FakeClock()
    spill = Spill(tmp_path, RUN, flush_after_s=5.0, clock=clock)
    spill.add(rows(0, 3))
    spill.checkpoint()
    assert part_files(tmp_path) == []  # not yet: it has waited no time
    clock.now = 5.0
    spill.checkpoint()
    assert [len(read_file(p)) for p in part_files(tmp_path)] == [3]
    spill.add(rows(3, 1))
    clock.now = 9.0
    spill.checkpoint()
    assert len(part_files(tmp_path)) == 1  # 4 s since the last spill
    spill.finish(complete=True)
    assert stored_rounds(final_path(tmp_path, RUN)) == [0, 1, 2, 3]


def test_a_small_session_writes_one_file_and_no_parts(tmp_path: Path) -> None:
    spill = Spill(tmp_path, RUN)
    spill.add(rows(0, 5))
    assert not parts_folder(tmp_path, RUN).exists()
    spill.finish(complete=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rounds"]


def test_an_incomplete_session_marks_every_row(tmp_path: Path) -> None:
    spill = Spill(tmp_path, RUN, flush_rows=2)
    spill.add(rows(0, 3))
    spill.add(rows(3, 1))
    spill.finish(complete=False)
    flags = pq.read_table(final_path(tmp_path, RUN)).column("session_complete").to_pylist()
    assert flags == [False] * 4


def test_companion_tables_spill_and_merge_beside_the_rounds(tmp_path: Path) -> None:
    import pyarrow as pa

    tasks = pa.schema([("run_id", pa.string()), ("task", pa.int64())])
    spill = Spill(tmp_path, RUN, flush_rows=2)
    spill.add(rows(0, 3))
    spill.add([{"run_id": RUN, "task": i} for i in range(5)], table="tasks", schema=tasks)
    written = spill.finish(complete=True)
    assert written == {
        "rounds": final_path(tmp_path, RUN),
        "tasks": final_path(tmp_path, RUN, "tasks"),
    }
    assert pq.read_table(written["tasks"]).column("task").to_pylist() == list(range(5))
    assert pq.read_schema(written["tasks"]).metadata[b"pytest_concur.table"] == b"tasks"


def test_an_interrupt_while_a_part_lands_neither_loses_nor_doubles_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = storage.write_part

    def lands_then_interrupted(*args: Any, **kwargs: Any) -> Path:
        real(*args, **kwargs)
        raise KeyboardInterrupt

    spill = Spill(tmp_path, RUN, flush_rows=2)
    monkeypatch.setattr(SPILL + "write_part", lands_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        spill.add(rows(0, 2))
    monkeypatch.setattr(SPILL + "write_part", real)
    spill.add(rows(2, 1))
    spill.finish(complete=False)
    assert stored_rounds(final_path(tmp_path, RUN)) == [0, 1, 2]


# ---------------------------------------------------------------------------- failures


def refuse_under(folder: Path, write: Callable[..., Path], after: int = 0) -> Callable[..., Path]:
    """``write`` that fails with a full disk for targets under ``folder`` after ``after`` calls."""
    calls = {"n": 0}

    def guarded(*args: Any, **kwargs: Any) -> Path:
        target = Path(args[1])
        if target.is_relative_to(folder):
            calls["n"] += 1
            if calls["n"] > after:
                raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return write(*args, **kwargs)

    return guarded


def test_a_results_path_that_is_a_file_sends_rows_to_the_fallback(tmp_path: Path) -> None:
    home, fallback = tmp_path / "results", tmp_path / "fallback"
    home.write_text("a file")
    spill = Spill(home, RUN, fallback=fallback, flush_rows=2)
    spill.add(rows(0, 3))
    spill.add(rows(3, 2))
    assert spill.folder == fallback
    assert spill.finish(complete=True) == {"rounds": final_path(fallback, RUN)}
    assert stored_rounds(final_path(fallback, RUN)) == list(range(5))
    assert len(spill.notices) == 1  # said once, however many writes failed
    assert str(home) in spill.notices[0]
    assert f"the rows are kept in {fallback} instead" in spill.notices[0]


def test_a_disk_that_fills_mid_session_keeps_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, fallback = tmp_path / "results", tmp_path / "fallback"
    monkeypatch.setattr(
        "pytest_concur._storing.spill.write_part", refuse_under(home, storage.write_part, 1)
    )
    monkeypatch.setattr(
        "pytest_concur._storing.spill.write_tables", refuse_under(home, storage.write_tables)
    )
    spill = Spill(home, RUN, fallback=fallback, flush_rows=2)
    for start in range(0, 7):
        spill.add(rows(start, 1))
    assert spill.finish(complete=True) == {"rounds": final_path(fallback, RUN)}
    # the first part stayed in the results folder; the merge read it from there
    assert stored_rounds(final_path(fallback, RUN)) == list(range(7))
    assert not parts_folder(home, RUN).exists()
    assert not parts_folder(fallback, RUN).exists()
    assert any("No space left on device" in notice for notice in spill.notices)


def test_when_nothing_can_be_written_the_parts_wait_for_the_next_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "results"
    monkeypatch.setattr(
        "pytest_concur._storing.spill.write_tables", refuse_under(home, storage.write_tables)
    )
    spill = Spill(home, RUN, flush_rows=2)
    spill.add(rows(0, 3))
    spill.add(rows(3, 1))
    assert spill.finish(complete=True) == {}
    parts, unspilled = spill.leftovers()
    assert len(parts) == 1
    assert len(unspilled) == 1
    assert any("1 measured rounds not yet spilled" in notice for notice in spill.notices)
    assert any("the next session that saves there merges them" in n for n in spill.notices)
    monkeypatch.undo()
    notices = recover(home)
    assert notices == [
        f"recovered 3 measured rounds of interrupted session {RUN} into {final_path(home, RUN)}"
    ]
    assert stored_rounds(final_path(home, RUN)) == [0, 1, 2]


def test_rows_arrow_refuses_are_said_and_the_rest_kept(tmp_path: Path) -> None:
    spill = Spill(tmp_path, RUN, flush_rows=2)
    spill.add(rows(0, 2))
    spill.add([fake_row(RUN, 2, workers="many"), fake_row(RUN, 3)])
    spill.add(rows(4, 2))
    spill.finish(complete=True)
    assert stored_rounds(final_path(tmp_path, RUN)) == [0, 1, 4, 5]
    assert any("2 measured rounds could not be stored and are lost" in n for n in spill.notices)


def test_writability_checks(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert unwritable_reason(tmp_path / "new" / "deeper") is None
    assert not (tmp_path / "new").exists()  # the check creates nothing
    assert unwritable_reason(tmp_path / "file") == f"{tmp_path / 'file'} is a file, not a folder"
    assert "is a file" in (unwritable_reason(tmp_path / "file" / "sub") or "")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "at-all")
    assert "broken symbolic link" in (unwritable_reason(tmp_path / "dangling") or "")
    assert check_writable(tmp_path / "made") is None
    assert (tmp_path / "made").is_dir()
    assert list((tmp_path / "made").iterdir()) == []  # the probe is gone


# ---------------------------------------------------------------------------- recovery


def orphan(folder: Path, count: int, flush_rows: int = 2) -> None:
    """What a session killed mid-run leaves: spilled parts, no final file, a free lock."""
    spill = Spill(folder, RUN, flush_rows=flush_rows)
    for index in range(count):
        spill.add(rows(index, 1))
    spill.close()


def test_recovery_merges_orphans_once(tmp_path: Path) -> None:
    orphan(tmp_path, 5)
    [notice] = recover(tmp_path)
    assert "recovered 4 measured rounds" in notice  # the fifth was only in memory
    flags = pq.read_table(final_path(tmp_path, RUN)).column("session_complete").to_pylist()
    assert flags == [False] * 4
    assert recover(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rounds"]


def test_recovery_reads_parquet_parts_of_older_versions(tmp_path: Path) -> None:
    """Earlier versions spilled Parquet parts; an orphan of theirs is still merged."""
    orphan(tmp_path, 4)
    for part in part_files(tmp_path):
        pq.write_table(read_file(part), part.with_suffix(".parquet"))
        part.unlink()
    assert [p.suffix for p in part_files(tmp_path)] == [".parquet", ".parquet"]
    [notice] = recover(tmp_path)
    assert "recovered 4 measured rounds" in notice
    assert stored_rounds(final_path(tmp_path, RUN)) == [0, 1, 2, 3]


def test_recovery_does_not_double_a_run_that_was_merged(tmp_path: Path) -> None:
    orphan(tmp_path, 4)
    write_rows(rows(0, 4), final_path(tmp_path, RUN))  # merged, then killed while tidying
    assert recover(tmp_path) == []
    assert stored_rounds(final_path(tmp_path, RUN)) == [0, 1, 2, 3]
    assert not parts_folder(tmp_path, RUN).exists()


def test_recovery_skips_foreign_files_and_folders_without_a_lock(tmp_path: Path) -> None:
    orphan(tmp_path, 4)
    parts = parts_folder(tmp_path, RUN)
    (parts / OWNER_LOCK).unlink()
    (parts / "stray.parquet").write_bytes(b"junk")
    notices = recover(tmp_path)
    assert any("skipped" in n and "stray.parquet" in n for n in notices)
    assert stored_rounds(final_path(tmp_path, RUN)) == [0, 1, 2, 3]


# ---------------------------------------------------------------------------- the session


def settings_for(folder: Path, *, save: bool = True) -> Settings:
    return Settings(
        report=True, save=save, results_dir=folder, rounds=None, warmup=None, ini_rounds=None,
        ini_warmup=None, models=None, workers=None, workloads=None, start_method=None,
    )  # fmt: skip


@pytest.fixture
def make_session(tmp_path: Path) -> Iterator[Callable[..., ConcurSession]]:
    made: list[ConcurSession] = []

    def make(*, save: bool = True, folder: Path | None = None) -> ConcurSession:
        session = ConcurSession(
            settings=settings_for(folder or tmp_path / "results", save=save),
            environment=current_environment(RUN),
            models={},
        )
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


def test_the_report_reads_the_rows_that_were_written(
    make_session: Callable[..., ConcurSession],
) -> None:
    session = make_session()
    session.add_rows(rows(0, 3))
    path = session.save()
    assert path == session.results_path
    assert session.rows_measured == 3
    frame = session.report_frame()
    assert frame is not None
    assert list(frame["round"]) == [0, 1, 2]
    frame["extra"] = 1  # a caller's column stays its own
    again = session.report_frame()
    assert again is not None
    assert "extra" not in again


def test_a_session_that_saves_nothing_leaves_nothing(
    make_session: Callable[..., ConcurSession], tmp_path: Path
) -> None:
    session = make_session(save=False)
    session.add_rows(rows(0, 3))
    assert session.save() is None
    frame = session.report_frame()
    assert frame is not None
    assert len(frame) == 3
    scratch = session._scratch
    assert scratch is not None
    assert scratch.exists()
    session.close()
    assert not scratch.exists()
    assert not (tmp_path / "results").exists()


def test_a_session_without_rows_writes_nothing(
    make_session: Callable[..., ConcurSession], tmp_path: Path
) -> None:
    session = make_session()
    assert session.save() is None
    assert session.report_frame() is None
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------------------- journals


def test_a_workers_journal_keeps_undelivered_rows_only(tmp_path: Path) -> None:
    folder = JournalFolder()
    journal = Journal(folder.path, "gw0")
    try:
        journal.write(fake_row(RUN, 0))
        journal.write(fake_row(RUN, 1))
        journal.clear()  # the report carries them
        journal.write(fake_row(RUN, 2, cores_used=math.nan, test_id="t[\udcff]"))
        with open(next(folder.path.glob("*-0.jsonl")), "a") as handle:
            handle.write('{"cut short by a crash": ')
        # rows 0 and 1 stay journaled (their report may never be read) until the
        # controller says it read their item's report
        adopted = list(folder.undelivered({(None, "test_x.py::test_x[serial]")}))
        assert [row["round"] for row in adopted] == [2]
        assert math.isnan(adopted[0]["cores_used"])
        assert adopted[0]["test_id"] == "t[\udcff]"
        assert list(folder.undelivered()) == []  # adopted once
    finally:
        journal.close()
        folder.remove()
    assert not folder.notices


def test_a_full_journal_hands_over_to_its_twin_at_an_items_end(tmp_path: Path) -> None:
    folder = JournalFolder()
    journal = Journal(folder.path, "gw0", retain_bytes=1)
    try:
        journal.write(fake_row(RUN, 0, test_id="a"))
        journal.clear()  # full: the next item goes to the twin file
        journal.write(fake_row(RUN, 1, test_id="b"))
        journal.clear()  # full again: back to the first file, emptied first
        journal.write(fake_row(RUN, 2, test_id="c"))
        # the items reported last ("b") and in progress ("c") are kept; "a" is forgotten
        assert sorted(row["round"] for row in folder.undelivered()) == [1, 2]
    finally:
        journal.close()
        folder.remove()


def test_rows_of_a_report_the_controller_never_read_are_adopted(
    make_session: Callable[..., ConcurSession],
) -> None:
    session = make_session()
    session.journals = JournalFolder()
    journal = Journal(session.journals.path, "gw1")
    for index, test_id in enumerate(["t[read]", "t[read]", "t[sent]", "t[sent]"]):
        journal.write(fake_row(RUN, index, test_id=test_id, xdist_worker="gw1"))
    journal.clear()  # both reports were sent; the controller read only the first
    journal.close()
    session.add_reported_rows([fake_row(RUN, i, test_id="t[read]", xdist_worker="gw1")
                               for i in (0, 1)])  # fmt: skip
    path = session.save()
    assert path is not None
    assert stored_rounds(path) == [0, 1, 2, 3]  # each once


def test_the_session_adopts_journaled_rows_at_the_end(
    make_session: Callable[..., ConcurSession],
) -> None:
    session = make_session()
    session.journals = JournalFolder()
    journal = Journal(session.journals.path, "gw3")
    journal.write(fake_row(RUN, 7))
    journal.close()
    session.add_rows(rows(0, 2))
    path = session.save()
    assert path is not None
    assert stored_rounds(path) == [0, 1, 7]
    assert any("1 rows of test items whose xdist worker crashed" in n for n in session.notices)
    json.dumps(session.notices)


# ---------------------------------------------------------------------------- SIGTERM


@pytest.fixture
def default_sigterm() -> Iterator[None]:
    """SIGTERM as Python leaves it (this very session's plugin has its own handler in)."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGTERM, previous)


def terminate_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    signal.sigtimedwait([], 0.5)  # the handler runs by now; this only waits if it did not


@pytest.mark.usefixtures("default_sigterm")
def test_sigterm_becomes_an_interrupt_and_the_old_handler_returns() -> None:
    restore = terminate_like_interrupt()
    assert restore is not None
    try:
        assert terminate_like_interrupt() is None  # never replaces another handler
        with pytest.raises(Terminated):
            terminate_self()
        assert issubclass(Terminated, KeyboardInterrupt)
    finally:
        restore()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def _wait_or_kill(child: int, timeout: float) -> int:
    """The child's exit status; a child still alive after ``timeout`` is killed and its
    state is the failure's message (a hang would stop the whole test run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            return status
        time.sleep(0.01)
    state = Path(f"/proc/{child}/status").read_text()
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    pytest.fail(f"the child ignored SIGTERM for {timeout} s:\n{state}")


@pytest.mark.usefixtures("default_sigterm")
def test_a_forked_child_dies_of_sigterm_as_before() -> None:
    restore = terminate_like_interrupt()
    assert restore is not None
    try:
        ready, tell = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child
            os.write(tell, b"!")  # a signal before fork's own bookkeeping ends is dropped
            while True:
                # not signal.pause(): a signal landing just before it is handled only when
                # pause returns, which then waits for another signal (the test hung once)
                time.sleep(0.05)
        os.read(ready, 1)
        os.kill(child, signal.SIGTERM)
        status = _wait_or_kill(child, timeout=20)
        os.close(ready)
        os.close(tell)
    finally:
        restore()
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGTERM


# ---------------------------------------------------------------------------- a large session


LARGE = 100_000


def test_a_session_of_100000_rounds_stays_small(
    make_session: Callable[..., ConcurSession],
) -> None:
    import pandas  # noqa: F401  (imported before the baseline: its own size is not the rows')

    process = psutil.Process()
    session = make_session()
    environment = session.environment
    # the session's facts in every row, as the plugin stores them
    facts = {field.name: getattr(environment, field.name) for field in fields(environment)}
    template = {**facts, **fake_row(RUN, 0), "started_at": environment.started_at.isoformat()}
    gc.collect()
    baseline = process.memory_info().rss
    growth: dict[int, int] = {}
    for index in range(LARGE):
        row = dict(template)  # a new dict per round, as the plugin makes them
        row.update(round=index, wall_s=0.01 + index * 1e-9, test_id=f"t.py::test[{index % 50}]")
        session.add_rows([row])
        if index % 10 == 9:
            session.item_done()
        if index + 1 in (20_000, LARGE):
            growth[index + 1] = process.memory_info().rss - baseline
    # held in memory, 100,000 such rows take about 100 MB here; spilled, the growth
    # stops after the first parts: five times the rows, about the same memory
    assert growth[LARGE] < 60 * 2**20, growth
    assert growth[LARGE] - growth[20_000] < 25 * 2**20, growth
    path = session.save()
    assert path is not None
    assert pq.read_metadata(path).num_rows == LARGE
    assert not parts_folder(path.parent, RUN).exists()
    frame = session.report_frame()
    assert frame is not None
    assert len(frame) == LARGE
    assert frame["round"].is_monotonic_increasing
