"""Claim 11: how a process pool starts, as Python 3.14 changed it on Linux.

Since 3.14 the default start method on Linux is ``forkserver``, not ``fork``: each
worker is forked from a server process and then imports what its tasks need (here the
test module, and pytest with it), where ``fork`` copies the parent, imports included.
``spawn`` starts a fresh interpreter per worker. The same small CPU-bound job runs in a
fresh pool of two processes per round under each method (the test's ``start_method``
parameter sweeps it: docs/models.md), so the round holds start-up, work and shutdown.

Since 3.12, ``fork`` in a process that has threads warns (DeprecationWarning: "This
process is multi-threaded, use of fork() may lead to deadlocks in the child"), and a
pytest session that measures has them (pyarrow's jemalloc and pool threads). On 3.14 the
warning is only shown; on 3.15 a filter that turns warnings into errors (this project's
``filterwarnings = ["error"]``, or ``-W error``) makes ``os.fork`` raise it and the
round fail. Here it is kept a shown warning, in the session's warnings summary, so the
fork variant is measured as users who do not make warnings errors meet it
(docs/models.md, "Start methods").
"""

from __future__ import annotations

import multiprocessing

import pytest

import pytest_concur as pc
from pytest_concur import workloads

CLAIM_11 = (
    "11. Python 3.14 made forkserver the default start method on Linux: a pool's workers "
    "import what their tasks need when they start, so forkserver starts slower than fork "
    "and faster than spawn, and a short-lived pool pays for it in its round time."
)

FORK = pc.variant("processes-2", start_method="fork")
FORKSERVER = pc.variant("processes-2", start_method="forkserver")
SPAWN = pc.variant("processes-2", start_method="spawn")


@pytest.mark.concur(
    workload="cpu",
    models=["processes"],
    workers=[2],
    claim=CLAIM_11,
    expect=[
        pc.smaller(FORK, than=FORKSERVER, metric="startup_s"),
        pc.smaller(FORKSERVER, than=SPAWN, metric="startup_s"),
        # the job is short (about 40 ms of CPU a worker): start-up is a large share of it
        pc.faster(FORK, than=FORKSERVER),
    ],
)
@pytest.mark.parametrize(
    "start_method",
    [
        pytest.param(
            "fork",
            marks=pytest.mark.filterwarnings(
                "default:This process .* is multi-threaded:DeprecationWarning"
            ),
        ),
        "forkserver",
        "spawn",
    ],
)
def test_pool_start_up_by_start_method(concur: pc.Concur, start_method: str) -> None:
    """Pi to 500 places, four times, by a fresh pool of two processes per round."""
    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{start_method} is not available on this platform")
    assert concur.start_method == start_method
    assert all(workloads.is_pi(digits) for digits in concur.map(workloads.pi_digits, [500] * 4))
