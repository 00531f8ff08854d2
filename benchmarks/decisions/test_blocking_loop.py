"""16 coroutines that call time.sleep: a blocking call on the event loop.

Each coroutine means to wait 20 ms, but time.sleep blocks the loop, so they wait one after
another (0.32 s instead of 20 ms): asyncio-16 is loop_blocked. One variant only, as a
user checking one asyncio program would write it.
"""

from __future__ import annotations

import os
import time

import pytest

import pytest_concur as pc

# size factor: HELDOUT_SCALE_BLOCKING_LOOP, else HELDOUT_SCALE, else 1 (the full size)
SCALE = float(os.environ.get("HELDOUT_SCALE_BLOCKING_LOOP", os.environ.get("HELDOUT_SCALE", "1")))
NAP_S = max(0.002, 0.02 * SCALE)

EXPECTED = {
    "best": [None],  # one variant: nothing to compare, the diagnosis is the answer
    "has": {"asyncio-16": ["loop_blocked"]},
    "lacks": {},
}


async def fetch(nap_s: float) -> float:
    time.sleep(nap_s)  # noqa: ASYNC251 - the mistake under test: it blocks the loop
    return nap_s


@pytest.mark.concur(workload="io", models=["asyncio"], workers=[16])
def test_blocking_loop(concur: pc.Concur) -> None:
    assert len(concur.map(fetch, [NAP_S] * 16)) == 16
