"""Claim 12: one GIL per interpreter (Python 3.14 and newer).

Since 3.12 each subinterpreter can have a GIL of its own, and since 3.14
``concurrent.futures.InterpreterPoolExecutor`` makes a pool of them: CPU-bound Python
runs on several cores inside one process, where threads of one interpreter on a GIL
build take turns on one. Compared with threads of the same process on a GIL build; on a
free-threaded build threads run in parallel too, and the comparison says nothing.
"""

from __future__ import annotations

import importlib.util
import sysconfig

import pytest

import pytest_concur as pc
from pytest_concur import workloads

CLAIM_12 = (
    "12. One GIL per interpreter: CPU-bound work in subinterpreters uses several cores, "
    "where threads on a GIL build use one."
)

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("concurrent.interpreters") is None,
        reason="subinterpreters with a GIL each need Python 3.14 or newer "
        "(concurrent.interpreters, InterpreterPoolExecutor)",
    ),
    pytest.mark.skipif(
        bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        reason="the claim compares with threads on a GIL build; this build is free-threaded",
    ),
]


@pytest.mark.concur(
    workload="cpu",
    models=["threads", "subinterpreters"],
    workers=[2],
    claim=CLAIM_12,
    expect=[
        pc.cores_used("subinterpreters-2", at_least=1.4),
        pc.cores_used("threads-2", at_most=1.2),
        pc.faster("subinterpreters-2", than="threads-2", by=1.3),
    ],
)
def test_interpreters_compute_in_parallel(concur: pc.Concur) -> None:
    """Pi to 1000 places, twice, by two threads or two subinterpreters."""
    assert all(workloads.is_pi(digits) for digits in concur.map(workloads.pi_digits, [1000] * 2))
