"""A regular-expression scan over text: C code that holds the GIL.

The re engine keeps the GIL for the whole match, so threads take turns: processes should
win, and threads-2 is gil_bound.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re

import pytest

import pytest_concur as pc

# size factor: HELDOUT_SCALE_REGEX, else HELDOUT_SCALE, else 1 (the full size)
SCALE = float(os.environ.get("HELDOUT_SCALE_REGEX", os.environ.get("HELDOUT_SCALE", "1")))
CHUNKS = max(2, round(8 * SCALE))
WORDS_PER_CHUNK = 200_000
PATTERN = re.compile(r"\b(\w+)(?:a|b)(\w*)e\b")

#: Where pools start with forkserver (the default from 3.14 on Linux) or spawn, their
#: start-up eats the gain at this size: on 3.14.10 (2026-12-08, 2 CPUs, quiet) processes-2
#: kept 1.87 cores busy yet took 251 ms against serial's 214 ms, 60 ms of it starting the
#: pool. Serial winning is then the right answer; threads-2 winning never is.
_FORK = multiprocessing.get_all_start_methods()[0] == "fork"  # the first is the default

EXPECTED = {
    "best": ["processes-2"] if _FORK else ["processes-2", "serial"],
    "has": {"threads-2": ["gil_bound"]},
    "lacks": {},
}


def matches(text: str) -> int:
    return len(PATTERN.findall(text))


@pytest.fixture(scope="module")
def chunks() -> list[str]:
    rng = random.Random(6)
    vocabulary = ["".join(rng.choices("abcdefghij", k=6)) for _ in range(5000)]
    return [" ".join(rng.choices(vocabulary, k=WORDS_PER_CHUNK)) for _ in range(CHUNKS)]


@pytest.mark.concur(workload="cpu", models=["serial", "threads", "processes"], workers=[2])
def test_regex(concur: pc.Concur, chunks: list[str]) -> None:
    assert all(count > 0 for count in concur.map(matches, chunks))
