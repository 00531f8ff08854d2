"""The process-tree accounting: pure combination of snapshots, and live regions."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._measure import (
    ProcessSample,
    TreeSnapshot,
    measure,
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
    assert 0.5 < usage.cpu_s / usage.wall_s < 1.2


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
