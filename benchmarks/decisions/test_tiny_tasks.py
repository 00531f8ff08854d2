"""20,000 tasks of under a microsecond each through concur.map.

Each task is far cheaper than sending it to a worker and its result back: serial should
win, and the process pool's loss is moving the work (transfer_bound).
"""

from __future__ import annotations

import os

import pytest

import pytest_concur as pc

# size factor: HELDOUT_SCALE_TINY_TASKS, else HELDOUT_SCALE, else 1 (the full size)
SCALE = float(os.environ.get("HELDOUT_SCALE_TINY_TASKS", os.environ.get("HELDOUT_SCALE", "1")))
TASKS = max(200, round(20_000 * SCALE))

EXPECTED = {
    "best": ["serial"],
    "has": {"processes-2": ["transfer_bound"]},
    "lacks": {},
}


def tiny(n: int) -> int:
    return sum(range(n))  # 0.4 us for n = 40 (timeit, CPython 3.11, the 2-core machine)


@pytest.mark.concur(workload="cpu", models=["serial", "threads", "processes"], workers=[2])
def test_tiny_tasks(concur: pc.Concur) -> None:
    assert len(concur.map(tiny, [40] * TASKS)) == TASKS
