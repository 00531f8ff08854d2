"""Claims 3 and 4: threads against processes, for switching, for CPU work and for IO."""

from __future__ import annotations

from functools import partial

import pytest

import pytest_concur as pc
from pytest_concur import workloads

CLAIM_3 = (
    "3. A thread is the unit of scheduling; threads share their process's memory; thread "
    "switches are much faster than process switches."
)
CLAIM_4 = (
    "4. CPU-bound work (loops, computation) -> use processes; IO-bound work (files, web "
    "crawling) -> use threads."
)

THREADS = pc.variant(pair="threads")
PROCESSES = pc.variant(pair="processes")


@pytest.mark.concur(
    workload="switch",
    models=["serial"],
    claim=CLAIM_3,
    # "much faster": at least twice as fast, both pairs pinned to one core
    expect=[pc.faster(THREADS, than=PROCESSES, by=2)],
)
@pytest.mark.parametrize("pair", workloads.PAIRS)
def test_ping_pong(concur: pc.Concur, pair: str) -> None:
    """A token passed 50,000 times between two threads, two processes or two coroutines."""
    concur.map(partial(workloads.ping_pong, exchanges=50_000), [pair])


@pytest.mark.concur(
    workload="cpu",
    models=["threads", "processes"],
    workers=[2],
    claim=CLAIM_4,
    expect=[pc.faster("processes-2", than="threads-2", by=1.3)],
)
def test_cpu_bound_work_wants_processes(concur: pc.Concur) -> None:
    """Pi to 1000 places, twice, by two threads or two processes."""
    assert all(workloads.is_pi(digits) for digits in concur.map(workloads.pi_digits, [1000] * 2))


@pytest.mark.concur(
    workload="io",
    models=["serial", "threads", "processes"],
    workers=[8],
    claim=CLAIM_4,
    expect=[
        pc.speeds_up("threads-8", at_least=3),
        # as fast, for less: no interpreters to start
        pc.smaller("threads-8", than="processes-8", metric="cpu_s"),
    ],
)
def test_crawling_wants_threads(concur: pc.Concur, site: workloads.LatencyServer) -> None:
    """A crawler fetching 16 pages of a site that takes 20 ms to answer each."""
    assert concur.map(workloads.fetch, site.urls(16)) == [site.body_bytes] * 16


@pytest.mark.concur(
    workload="io",
    models=["serial", "threads"],
    workers=[4],
    claim=CLAIM_4,
    expect=[pc.speeds_up("threads-4", at_least=1.2)],
)
def test_file_processing_wants_threads(concur: pc.Concur, data_files: workloads.FileSet) -> None:
    """Read 16 files of 4 MiB from storage (not the page cache) and checksum them."""
    assert tuple(concur.map(workloads.process_file, data_files.paths)) == data_files.checksums
