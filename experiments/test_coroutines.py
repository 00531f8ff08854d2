"""Claims 7 and 8: coroutines are cheap, but use one core, and a blocking call stops them all."""

from __future__ import annotations

from functools import partial

import pytest

import pytest_concur as pc
from pytest_concur import workloads

CLAIM_7 = (
    "7. Coroutines: user-space lightweight threads; no thread switching, no locks; tens of "
    "thousands on one CPU are no problem."
)
CLAIM_8 = (
    "8. Coroutines cannot use several cores by themselves: they need processes. A blocking "
    "call inside a coroutine blocks the whole program."
)

COUNT = 10_000
NAP_S = 1.0  # about as long as starting 10,000 threads takes: most are alive at once
COROUTINES = pc.variant(kind="coroutines")
THREADS = pc.variant(kind="threads")


@pytest.mark.concur(
    workload="memory",
    models=["serial"],
    warmup=0,  # ten thousand threads per round are warm-up enough
    claim=CLAIM_7,
    expect=[
        pc.faster(COROUTINES, than=THREADS),
        pc.smaller(COROUTINES, than=THREADS, metric="max_rss_bytes"),
        # "no problem": 10,000 coroutines add less than half a second to their 1 s wait
        pc.bounded(COROUTINES, metric="wall_s", at_most=NAP_S + 0.5),
    ],
)
# coroutines first: memory that 10,000 thread stacks leave with the allocator would
# otherwise raise the coroutines' peak (seen on 3.13t, whose allocator keeps it)
@pytest.mark.parametrize("kind", ["coroutines", "threads"])
def test_ten_thousand_coroutines(concur: pc.Concur, kind: str) -> None:
    """10,000 threads, or 10,000 coroutines on one event loop, each waiting 1 s."""
    assert concur.map(partial(workloads.swarm, count=COUNT, nap_s=NAP_S), [kind]) == [COUNT]


@pytest.mark.concur(
    workload="cpu",
    models=["asyncio", "asyncio-processes"],
    workers=[2],
    claim=CLAIM_8,
    expect=[
        # one event loop computes on one core, however many coroutines it holds
        pc.cores_used("asyncio-2", at_most=1.1),
        # one loop in each of two processes: both cores
        pc.cores_used("asyncio-processes-2", at_least=1.2),
        pc.faster("asyncio-processes-2", than="asyncio-2", by=1.3),
    ],
)
def test_coroutines_need_processes_for_cores(concur: pc.Concur) -> None:
    """Four pi computations (500 places) as coroutines: one event loop, or one per process."""
    assert all(workloads.is_pi(digits) for digits in concur.map(workloads.pi_digits, [500] * 4))


@pytest.mark.concur(
    workload="io",
    models=["asyncio"],
    workers=[16],
    claim=CLAIM_8,
    expect=[
        pc.faster(
            pc.variant("asyncio-16", call="non-blocking"),
            than=pc.variant("asyncio-16", call="blocking"),
            by=4,
        ),
        # blocked: the 16 waits of 20 ms ran one after another, at least 0.32 s in all
        pc.bounded(pc.variant(call="blocking"), metric="wall_s", at_least=16 * 0.02),
    ],
)
@pytest.mark.parametrize("call", ["blocking", "non-blocking"])
def test_blocking_call_blocks_the_loop(concur: pc.Concur, call: str) -> None:
    """16 coroutines that each wait 20 ms, with time.sleep (blocking) or asyncio.sleep."""
    wait = workloads.sleep if call == "blocking" else workloads.async_sleep
    concur.map(wait, [0.02] * 16)
