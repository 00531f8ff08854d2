"""The process-tree accounting: pure combination of snapshots, and live regions."""

from __future__ import annotations

import mmap
import os
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._measuring.proc_files import has_children
from pytest_concur._measuring.proc_meter import Meter, measure
from pytest_concur._measuring.process_tree import (
    ProcessSample,
    TreeSnapshot,
    _sample,
    snapshot,
    usage_between,
)

TICK = 1.0 / os.sysconf("SC_CLK_TCK")


def _tree(
    own_user: float = 0.0,
    children_user: float = 0.0,
    descendants: dict[tuple[int, int], ProcessSample] | None = None,
) -> TreeSnapshot:
    return TreeSnapshot(
        self_user_s=own_user,
        self_sys_s=0.0,
        self_voluntary=0,
        self_involuntary=0,
        children_user_s=children_user,
        children_sys_s=0.0,
        children_voluntary=0,
        children_involuntary=0,
        descendants=descendants or {},
    )


def _proc(pid: int, user_ticks: int, ppid: int = 1) -> ProcessSample:
    return ProcessSample(pid, ppid, user_ticks, 0, 0, 0, 1024)


def test_new_descendant_counts_from_zero() -> None:
    before = _tree()
    after = _tree(descendants={(10, 5): _proc(10, 30)})
    usage = usage_between(before, after, wall_s=1.0, peak_self=0)
    assert abs(usage.cpu_user_s - 30 * TICK) < 1e-9


def test_persistent_worker_counts_its_delta_only() -> None:
    before = _tree(descendants={(10, 5): _proc(10, 100)})
    after = _tree(descendants={(10, 5): _proc(10, 130)})
    assert abs(usage_between(before, after, 1.0, 0).cpu_user_s - 30 * TICK) < 1e-9


def test_reused_pid_is_another_process() -> None:
    before = _tree(descendants={(10, 5): _proc(10, 100)})
    # pid 10 died (reaped by us: its 100+20 ticks went to RUSAGE_CHILDREN) and was reused
    after = _tree(children_user=120 * TICK, descendants={(10, 900): _proc(10, 7)})
    usage = usage_between(before, after, 1.0, 0)
    assert abs(usage.cpu_user_s - (20 + 7) * TICK) < 1e-9


@given(
    start=st.integers(0, 10_000),
    during=st.integers(0, 10_000),
    reaped_by_us=st.booleans(),
)
def test_worker_reaped_during_region_counts_its_region_share(
    start: int, during: int, reaped_by_us: bool
) -> None:
    """Whoever reaps a vanished descendant gets its whole life: only ``during`` may count."""
    before = _tree(descendants={(10, 5): _proc(10, start), (20, 6): _proc(20, 0)})
    whole_life = (start + during) * TICK
    if reaped_by_us:
        after = _tree(children_user=whole_life, descendants={(20, 6): _proc(20, 0)})
    else:  # reaped by the forkserver (pid 20): lands in its children fields
        after = _tree(descendants={(20, 6): _proc(20, start + during)})
    usage = usage_between(before, after, 1.0, 0)
    assert abs(usage.cpu_user_s - during * TICK) < 1e-6


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_busy_region_uses_about_one_core() -> None:
    measured = measure(lambda: _spin(0.2))
    assert measured.error is None
    usage = measured.usage
    assert 0.18 < usage.cpu_s < 0.5
    assert usage.wall_s >= 0.18
    # one thread cannot use more than a core; how much less depends on the machine's load
    assert usage.cpu_s / usage.wall_s < 1.05


def test_sleeping_region_uses_almost_no_cpu() -> None:
    usage = measure(lambda: time.sleep(0.2)).usage
    assert usage.cpu_s < 0.05
    assert usage.ctx_voluntary >= 1


def test_threads_are_counted() -> None:
    def body() -> None:
        workers = [threading.Thread(target=_spin, args=(0.1,)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    assert measure(body).usage.cpu_s > 0.18


def test_child_process_is_counted_and_exceptions_are_returned() -> None:
    code = "import time\nend = time.process_time() + 0.2\nwhile time.process_time() < end: pass"

    def body() -> None:
        subprocess.run([sys.executable, "-c", code], check=True)
        raise ValueError("after the child")

    measured = measure(body)
    assert isinstance(measured.error, ValueError)
    assert measured.usage.cpu_s > 0.18


def test_live_child_appears_in_snapshot() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        deadline = time.monotonic() + 5
        seen = False
        while time.monotonic() < deadline and not seen:
            seen = any(key[0] == child.pid for key in snapshot().descendants)
        assert seen
        assert not any(key[0] == child.pid for key in snapshot(exclude={child.pid}).descendants)
    finally:
        child.kill()
        child.wait()


# ---------------------------------------------------------------- precise descendant CPU

NS = 1_000_000_000


def _precise(
    pid: int, cpu_ns: int | None, user: int, system: int, *, reaped: tuple[int, int] = (0, 0)
) -> ProcessSample:
    return ProcessSample(
        pid, 1, user, system, 0, 0, 0,
        children_user_ticks=reaped[0], children_sys_ticks=reaped[1], cpu_ns=cpu_ns,
    )  # fmt: skip


def test_descendant_cpu_comes_from_its_clock_not_its_ticks() -> None:
    # 12.345 ms of CPU that the tick counters saw as one tick of user time
    after = _tree(descendants={(10, 5): _precise(10, 12_345_000, 1, 0)})
    usage = usage_between(_tree(), after, 1.0, 0)
    assert usage.cpu_s == pytest.approx(0.012345, abs=1e-12)
    assert usage.cpu_sys_s == 0.0


def test_precise_time_is_split_by_the_ticks_of_the_region() -> None:
    before = _tree(descendants={(10, 5): _precise(10, 1 * NS, 100, 0)})
    # during the region: 0.4 s, all of its ticks in system time
    after = _tree(descendants={(10, 5): _precise(10, 14 * NS // 10, 100, 40)})
    usage = usage_between(before, after, 1.0, 0)
    assert usage.cpu_user_s == pytest.approx(0.0, abs=1e-12)
    assert usage.cpu_sys_s == pytest.approx(0.4, abs=1e-12)


def test_reaped_grandchildren_count_in_ticks_beside_the_clock() -> None:
    before = _tree(descendants={(10, 5): _precise(10, NS, 100, 0, reaped=(7, 3))})
    after = _tree(descendants={(10, 5): _precise(10, NS, 100, 0, reaped=(57, 13))})
    usage = usage_between(before, after, 1.0, 0)
    assert usage.cpu_user_s == pytest.approx(50 * TICK)
    assert usage.cpu_sys_s == pytest.approx(10 * TICK)


def test_unreadable_clock_falls_back_to_ticks() -> None:
    before = _tree(descendants={(10, 5): _precise(10, None, 100, 0)})
    after = _tree(descendants={(10, 5): _precise(10, 5 * NS, 130, 0)})
    assert usage_between(before, after, 1.0, 0).cpu_s == pytest.approx(30 * TICK)


def test_vanished_descendant_subtracts_its_precise_start() -> None:
    before = _tree(descendants={(10, 5): _precise(10, 2 * NS, 150, 50)})
    # reaped by us during the region: its whole life, 2.5 s, is in RUSAGE_CHILDREN
    after = _tree(children_user=2.5)
    assert usage_between(before, after, 1.0, 0).cpu_s == pytest.approx(0.5)


@given(
    start_ns=st.integers(0, 10**12),
    during_ns=st.integers(0, 10**12),
    ticks=st.tuples(st.integers(0, 10**5), st.integers(0, 10**5)),
    during_ticks=st.tuples(st.integers(0, 10**5), st.integers(0, 10**5)),
)
def test_split_keeps_the_exact_total(
    start_ns: int, during_ns: int, ticks: tuple[int, int], during_ticks: tuple[int, int]
) -> None:
    """user + system of a descendant is its clock's delta, whatever the tick ratio says."""
    before = _tree(descendants={(10, 5): _precise(10, start_ns, *ticks)})
    end_ticks = (ticks[0] + during_ticks[0], ticks[1] + during_ticks[1])
    after = _tree(descendants={(10, 5): _precise(10, start_ns + during_ns, *end_ticks)})
    usage = usage_between(before, after, 1.0, 0)
    assert usage.cpu_user_s >= 0
    assert usage.cpu_sys_s >= 0
    assert usage.cpu_s == usage.cpu_user_s + usage.cpu_sys_s
    assert usage.cpu_s == pytest.approx(during_ns / NS, rel=1e-9, abs=1e-9)


_BURN = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass"


def _wait_until_zombie(pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            if handle.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return
        time.sleep(0.005)
    raise AssertionError(f"{pid} did not end")


def test_zombie_child_is_counted_once_with_its_final_cpu() -> None:
    child: subprocess.Popen[bytes] | None = None

    def body() -> None:
        nonlocal child
        child = subprocess.Popen([sys.executable, "-c", _BURN.format(s=0.15)])
        _wait_until_zombie(child.pid)  # ended, not waited for: still listed, as a zombie

    first = measure(body).usage
    assert child is not None
    assert first.cpu_s >= 0.14
    assert first.descendants_seen >= 1
    try:
        # reaping moves its whole life into RUSAGE_CHILDREN: not counted a second time
        second = measure(child.wait).usage
        assert second.cpu_s < 0.1
    finally:
        child.wait()


def test_grandchild_reaped_by_a_living_child_is_counted() -> None:
    """A child that waits for its own child keeps living: the CPU is in its cutime."""
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {_BURN.format(s=0.2)!r}], check=True)\n"
        "print('done', flush=True)\n"
        "time.sleep(30)\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as child:
        try:
            assert child.stdout is not None
            usage = measure(child.stdout.readline).usage
        finally:
            child.kill()
    assert usage.cpu_s >= 0.19


def test_a_process_gone_before_it_is_read_is_skipped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert _sample(child.pid) is None


def test_has_children_sees_a_live_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert has_children()
    finally:
        child.kill()
        child.wait()


# ------------------------------------------------------------------------ peak RSS

_MIB = 1 << 20


def _touch(megabytes: int) -> None:
    # fresh pages from the kernel: an allocator may keep freed memory resident (the
    # free-threaded build's mimalloc does), and reusing it would raise no peak
    with mmap.mmap(-1, megabytes * _MIB) as block:
        for offset in range(0, len(block), 4096):
            block[offset] = 1


def test_each_region_has_its_own_peak_rss() -> None:
    with Meter() as meter:
        big = meter.measure(lambda: _touch(96)).usage.max_rss_bytes
        small = meter.measure(lambda: None).usage.max_rss_bytes
    assert big - small >= 80 * _MIB


def test_peak_rss_of_a_region_whose_thread_touched_the_memory() -> None:
    def in_a_thread() -> None:
        worker = threading.Thread(target=_touch, args=(96,))
        worker.start()
        worker.join()

    with Meter() as meter:
        big = meter.measure(in_a_thread).usage.max_rss_bytes
        small = meter.measure(lambda: None).usage.max_rss_bytes
    assert big - small >= 80 * _MIB


def test_peak_rss_from_status_when_getrusage_cannot_be_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ru_maxrss may hold an older mark clear_refs cannot reset (left by exec, or by
    exited threads on some kernels); then VmHWM from /proc/self/status is read."""
    monkeypatch.setattr(Meter, "_rss_bytes", lambda self: 0)  # the older mark looks high
    with Meter() as meter:
        big = meter.measure(lambda: _touch(96)).usage.max_rss_bytes
        small = meter.measure(lambda: None).usage.max_rss_bytes
    assert big - small >= 80 * _MIB
