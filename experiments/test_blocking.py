"""Claims 5 and 6: blocking against non-blocking calls, synchronous against asynchronous."""

from __future__ import annotations

import pytest

import pytest_concur as pc
from pytest_concur import workloads

CLAIM_5 = "5. Blocking: the caller is suspended by the OS; non-blocking: it is not."
CLAIM_6 = "6. Synchronous: wait for the answer; asynchronous: go on and be notified."

CALLS = {"blocking": workloads.fetch, "non-blocking": workloads.fetch_polling}
BLOCKING = pc.variant(call="blocking")
NON_BLOCKING = pc.variant(call="non-blocking")


@pytest.mark.concur(
    workload="io",
    models=["serial"],
    claim=CLAIM_5,
    expect=[
        # suspended while the answer travels: it gives up the CPU (a voluntary switch) ...
        pc.smaller(NON_BLOCKING, than=BLOCKING, metric="ctx_voluntary"),
        # ... and uses almost none of it, where the non-blocking caller keeps asking
        pc.cores_used(BLOCKING, at_most=0.2),
        pc.smaller(BLOCKING, than=NON_BLOCKING, metric="cpu_s", by=5),
    ],
)
@pytest.mark.parametrize("call", list(CALLS))
def test_blocked_caller_uses_no_cpu(
    concur: pc.Concur, site: workloads.LatencyServer, call: str
) -> None:
    """Four requests of 20 ms each, one after another, with a blocking or non-blocking socket."""
    assert concur.map(CALLS[call], site.urls(4)) == [site.body_bytes] * 4


@pytest.mark.concur(
    workload="io",
    models=["serial", "asyncio"],
    workers=[16],
    claim=CLAIM_6,
    expect=[
        # asynchronous: all 16 requests out at once, each answer notified when it comes
        pc.speeds_up("asyncio-16", at_least=4),
        # notified, not polling: the waiting costs no CPU
        pc.cores_used("asyncio-16", at_most=0.5),
    ],
)
def test_asynchronous_calls_go_on(concur: pc.Concur, site: workloads.LatencyServer) -> None:
    """16 pages fetched synchronously (one answer after another) or asynchronously."""
    fetch = workloads.fetch_async if concur.model == "asyncio" else workloads.fetch
    assert concur.map(fetch, site.urls(16)) == [site.body_bytes] * 16
