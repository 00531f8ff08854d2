"""Hashing 8 MiB blocks with hashlib.sha256: C code that releases the GIL.

hashlib drops the GIL while it hashes more than 2 KiB, so two threads hash two blocks at
once: threads should win (processes pay for moving every block), and threads-2 must not
be called gil_bound.
"""

from __future__ import annotations

import hashlib
import os

import pytest

import pytest_concur as pc

# size factor: HELDOUT_SCALE_HASH, else HELDOUT_SCALE, else 1 (the full size)
SCALE = float(os.environ.get("HELDOUT_SCALE_HASH", os.environ.get("HELDOUT_SCALE", "1")))
BLOCKS = max(2, round(24 * SCALE))
BLOCK_BYTES = 8 << 20

EXPECTED = {
    "best": ["threads-2"],
    "has": {},
    "lacks": {"threads-2": ["gil_bound"]},
}


def digest(block: bytes) -> str:
    return hashlib.sha256(block).hexdigest()


@pytest.fixture(scope="module")
def blocks() -> list[bytes]:
    return [os.urandom(BLOCK_BYTES) for _ in range(BLOCKS)]


@pytest.mark.concur(workload="cpu", models=["serial", "threads", "processes"], workers=[2])
def test_hash(concur: pc.Concur, blocks: list[bytes]) -> None:
    assert len(concur.map(digest, blocks)) == BLOCKS
