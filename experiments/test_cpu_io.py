"""Claims 9 and 10: what CPU-bound and IO-bound work do to the CPU."""

from __future__ import annotations

import pytest

import pytest_concur as pc
from pytest_concur import workloads

CLAIM_9 = "9. CPU-bound: CPU near 100%, example: computing pi to 1000 decimal places."
CLAIM_10 = "10. IO-bound: at its limit the CPU is still mostly idle."


@pytest.mark.concur(
    workload="cpu",
    models=["serial"],
    claim=CLAIM_9,
    expect=[pc.cores_used("serial", at_least=0.9)],
)
def test_pi_keeps_a_core_busy(concur: pc.Concur) -> None:
    """Pi to 1000 decimal places, digits checked against Machin's formula."""
    (digits,) = concur.map(workloads.pi_digits, [1000])
    assert workloads.sha256(digits) == workloads.PI_1000_SHA256


@pytest.mark.concur(
    workload="io",
    models=["threads"],
    workers=[16],
    claim=CLAIM_10,
    expect=[pc.utilization("threads-16", at_most=0.5)],
)
def test_crawler_at_full_speed_leaves_cpu_idle(
    concur: pc.Concur, site: workloads.LatencyServer
) -> None:
    """16 threads crawling 32 pages as fast as the site answers: waiting is the limit."""
    assert concur.map(workloads.fetch, site.urls(32)) == [site.body_bytes] * 32
