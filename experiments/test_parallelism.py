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
        # several cores: the same two processes run at the same time (more than one
        # core's worth of CPU per second of wall time is only possible in parallel)
        pc.cores_used(pc.variant("processes-2", cpus="all"), at_least=1.2),
        pc.speeds_up(pc.variant("processes-2", cpus="all"), at_least=1.3),
    ],
)
@pytest.mark.parametrize("cpus", ["one", "all"])
def test_computing_needs_more_cores(concur: pc.Concur, cpus: str) -> None:
    """Pi to 1000 places, twice, by two processes (or serially), on one core or on all."""
    chosen = workloads.one_cpu() if cpus == "one" else workloads.usable_cpus()
    # the test's thread and the pool it starts share the chosen cores; `pinned` pins
    # inside each worker as well (a forkserver started earlier would keep its old mask)
    with workloads.on_cpus(chosen):
        results = concur.map(workloads.pinned(workloads.pi_digits, chosen), [1000] * 2)
    assert all(workloads.is_pi(digits) for digits in results)


@pytest.mark.concur(
    workload="cpu",
    models=["processes"],
    workers=[2],
    # spawn: the workers are the test's children and inherit its one-core mask from
    # their start. Under forkserver (the default from Python 3.14) they are forked from
    # a server started earlier on every core, and start up (import, unpickle) there,
    # beside each other, before `pinned` pins their task: 1.27 cores measured on 3.14
    start_method="spawn",
    claim=CLAIM_2,
    expect=[
        # both run, yet never at the same time: at most one core's worth of CPU
        pc.cores_used("processes-2", at_most=1.05),
        # they share the core by being switched, not one after the other
        pc.bounded("processes-2", metric="ctx_involuntary", at_least=4),
    ],
)
def test_processes_share_one_core_by_switching(concur: pc.Concur) -> None:
    """Two processes, each computing pi to 500 places, pinned to the same single core."""
    with workloads.on_cpus(workloads.one_cpu()):
        results = concur.map(workloads.pinned(workloads.pi_digits), [500] * 2)
    assert all(workloads.is_pi(digits) for digits in results)
