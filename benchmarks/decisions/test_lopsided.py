"""Lopsided task lengths: one task ten times longer than each of the other three.

Two workers: one runs the long task while the other finishes the three short ones and
then sits idle for most of the map, so the parallel variants are imbalanced.
"""

from __future__ import annotations

import os

import pytest

import pytest_concur as pc

# size factor: HELDOUT_SCALE_LOPSIDED, else HELDOUT_SCALE, else 1 (the full size)
SCALE = float(os.environ.get("HELDOUT_SCALE_LOPSIDED", os.environ.get("HELDOUT_SCALE", "1")))
UNIT = max(20_000, round(400_000 * SCALE))  # loop steps of one short task
LENGTHS = [10, 1, 1, 1]

EXPECTED = {
    "best": None,  # not judged: the case is about the diagnosis
    "has": {"processes-2": ["imbalanced"]},
    "lacks": {},
}


def spin(steps: int) -> int:
    total = 0
    for i in range(steps):
        total += i
    return total


@pytest.mark.concur(workload="cpu", models=["serial", "processes"], workers=[2])
def test_lopsided(concur: pc.Concur) -> None:
    assert len(concur.map(spin, [n * UNIT for n in LENGTHS])) == len(LENGTHS)
