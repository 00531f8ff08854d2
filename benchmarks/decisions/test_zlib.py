"""zlib.compress of big text buffers: C code that releases the GIL.

zlib drops the GIL while it deflates a buffer, so two threads compress two buffers at
once. Threads should at least beat serial (processes may tie them: compressing dwarfs
moving the text), and threads-2 must not be called gil_bound.
"""

from __future__ import annotations

import os
import random
import zlib

import pytest

import pytest_concur as pc

# size factor: HELDOUT_SCALE_ZLIB, else HELDOUT_SCALE, else 1 (the full size)
SCALE = float(os.environ.get("HELDOUT_SCALE_ZLIB", os.environ.get("HELDOUT_SCALE", "1")))
BUFFERS = max(2, round(4 * SCALE))
WORDS_PER_BUFFER = 300_000

EXPECTED = {
    "best": ["threads-2", "processes-2"],
    "has": {},
    "lacks": {"threads-2": ["gil_bound"]},
}


def squeeze(buffer: bytes) -> int:
    return len(zlib.compress(buffer, 6))


@pytest.fixture(scope="module")
def buffers() -> list[bytes]:
    rng = random.Random(20)
    vocabulary = ["".join(rng.choices("abcdefghij", k=6)) for _ in range(5000)]
    return [" ".join(rng.choices(vocabulary, k=WORDS_PER_BUFFER)).encode() for _ in range(BUFFERS)]


@pytest.mark.concur(workload="cpu", models=["serial", "threads", "processes"], workers=[2])
def test_zlib(concur: pc.Concur, buffers: list[bytes]) -> None:
    assert all(size > 0 for size in concur.map(squeeze, buffers))
