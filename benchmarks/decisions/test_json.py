"""json.loads then json.dumps of big documents: C code (the _json accelerator) that holds
the GIL.

Each task parses a document of about 1.5 MB and writes it back. Threads take turns on
the GIL: processes should win, and threads-2 is gil_bound.
"""

from __future__ import annotations

import json
import os
import random

import pytest

import pytest_concur as pc

# size factor: HELDOUT_SCALE_JSON, else HELDOUT_SCALE, else 1 (the full size)
SCALE = float(os.environ.get("HELDOUT_SCALE_JSON", os.environ.get("HELDOUT_SCALE", "1")))
DOCUMENTS = max(2, round(6 * SCALE))
RECORDS = 12_000

EXPECTED = {
    "best": ["processes-2"],
    "has": {"threads-2": ["gil_bound"]},
    "lacks": {},
}


def round_trip(document: str) -> int:
    return len(json.dumps(json.loads(document)))


@pytest.fixture(scope="module")
def documents() -> list[str]:
    rng = random.Random(7)
    words = ["".join(rng.choices("abcdefghij", k=6)) for _ in range(2000)]
    return [
        json.dumps([
            {"id": i, "name": rng.choice(words), "tags": rng.choices(words, k=5),
             "score": rng.random(), "active": i % 3 == 0}
            for i in range(RECORDS)
        ])
        for _ in range(DOCUMENTS)
    ]  # fmt: skip


@pytest.mark.concur(workload="cpu", models=["serial", "threads", "processes"], workers=[2])
def test_json(concur: pc.Concur, documents: list[str]) -> None:
    assert all(size > 0 for size in concur.map(round_trip, documents))
