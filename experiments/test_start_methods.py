"""Claim 11: how a process pool starts, as Python 3.14 changed it on Linux.

Since 3.14 the default start method on Linux is ``forkserver``, not ``fork``: each
worker is forked from a server process and then imports what its tasks need (here the
test module, and pytest with it), where ``fork`` copies the parent, imports included.
``spawn`` starts a fresh interpreter per worker. The same small CPU-bound job runs in a
fresh pool of two processes per round under each method (the test's ``start_method``
parameter sweeps it: docs/models.md), so the round holds start-up, work and shutdown.

On 3.15, ``fork`` in a process that has threads raises a DeprecationWarning; the plugin
leaves it shown (docs/models.md, "Start methods").
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
@pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
def test_pool_start_up_by_start_method(concur: pc.Concur, start_method: str) -> None:
    """Pi to 500 places, four times, by a fresh pool of two processes per round."""
    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{start_method} is not available on this platform")
    assert concur.start_method == start_method
    assert all(workloads.is_pi(digits) for digits in concur.map(workloads.pi_digits, [500] * 4))
