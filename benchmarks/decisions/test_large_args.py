"""Six 24 MiB byte strings handed to a function that only measures them.

The work is nothing; sending 144 MiB to worker processes is everything: serial should
win, and processes-2 is transfer_bound (no batching can fix data that is too big).
"""

from __future__ import annotations

import os

import pytest

import pytest_concur as pc

# size factor: HELDOUT_SCALE_LARGE_ARGS, else HELDOUT_SCALE, else 1 (the full size)
SCALE = float(os.environ.get("HELDOUT_SCALE_LARGE_ARGS", os.environ.get("HELDOUT_SCALE", "1")))
ARGUMENTS = 6
ARGUMENT_BYTES = max(1 << 20, round((24 << 20) * SCALE))

EXPECTED = {
    "best": ["serial"],
    "has": {"processes-2": ["transfer_bound"]},
    "lacks": {},
}


def size_of(data: bytes) -> int:
    return len(data)


@pytest.fixture(scope="module")
def arguments() -> list[bytes]:
    return [bytes([i]) * ARGUMENT_BYTES for i in range(ARGUMENTS)]


@pytest.mark.concur(workload="cpu", models=["serial", "processes"], workers=[2])
def test_large_args(concur: pc.Concur, arguments: list[bytes]) -> None:
    assert concur.map(size_of, arguments) == [ARGUMENT_BYTES] * ARGUMENTS
