"""Claims 1 and 2: concurrency takes turns, parallelism runs at the same time.

Pinning (``workloads.pinned``) puts every worker on one core: concurrency without
parallelism. Without it the same workers spread over every core: parallelism.
"""

from __future__ import annotations

import pytest

import pytest_concur as pc
from pytest_concur import workloads

CLAIM_1 = (
    "1. Concurrency: on one CPU, tasks take turns; parallelism: on several CPUs they run "
    "at the same time. Concurrency fixes waiting, not computing."
)
CLAIM_2 = (
    "2. A process is the unit of resource allocation; several processes can run on one "
    "core, only by switching."
)

NAP_S = 0.02
PLACES = 500  # pi to 500 places: about 0.1 s of pure-Python computing per task


@pytest.mark.concur(
    workload="io",
    models=["serial", "threads"],
    workers=[8],
    claim=CLAIM_1,
    expect=[pc.speeds_up("threads-8", at_least=4)],
)
def test_waiting_overlaps_on_one_core(concur: pc.Concur) -> None:
    """Eight threads on ONE core: their waits overlap, so concurrency alone fixes waiting."""
    concur.map(workloads.pinned(workloads.sleep), [NAP_S] * 16)


@pytest.mark.concur(
    workload="cpu",
    models=["serial", "processes"],
    workers=[2],
    claim=CLAIM_1,
    expect=[
        # one core: two processes take turns, and computing gets no faster than serial
        pc.not_faster(pc.variant("processes-2", cpus="one"), than="serial", by=1.2),
        # several cores: the same two processes run at the same time
        pc.speeds_up(pc.variant("processes-2", cpus="all"), at_least=1.5),
    ],
)
@pytest.mark.parametrize("cpus", ["one", "all"])
def test_computing_needs_more_cores(concur: pc.Concur, cpus: str) -> None:
    """Two pi computations by two processes, on one core or on every core."""
    task = workloads.pinned(workloads.pi_digits) if cpus == "one" else workloads.pi_digits
    assert all(workloads.is_pi(digits) for digits in concur.map(task, [PLACES] * 2))


@pytest.mark.concur(
    workload="cpu",
    models=["processes"],
    workers=[2],
    claim=CLAIM_2,
    expect=[
        # both run, yet never at the same time: at most one core's worth of CPU
        pc.cores_used("processes-2", at_most=1.1),
        # they share the core by being switched, not one after the other
        pc.bounded("processes-2", metric="ctx_involuntary", at_least=4),
    ],
)
def test_processes_share_one_core_by_switching(concur: pc.Concur) -> None:
    """Two processes, each computing pi, pinned to the same single core."""
    results = concur.map(workloads.pinned(workloads.pi_digits), [PLACES] * 2)
    assert all(workloads.is_pi(digits) for digits in results)
