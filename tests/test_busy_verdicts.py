"""Verdicts never rest on crowded rounds: quiet ones are used, else "machine busy"."""

from __future__ import annotations

import pandas as pd
import pytest
from test_crowding import rounds

import pytest_concur as pc
from pytest_concur._claims.verdicts import ClaimSpec, evaluate_claims
from pytest_concur._stats.summary import summarize_rounds

SPEC = ClaimSpec("exp.py::test_x", "threads beat serial", (pc.faster("threads-2", than="serial"),))


def test_a_comparison_on_crowded_rounds_is_inconclusive_machine_busy() -> None:
    busy = pd.concat(
        [rounds([2.0] * 6, model="serial", workers=1, wall_s=2.0), rounds([2.0] * 6)],
        ignore_index=True,
    )
    (verdict,) = evaluate_claims(busy, [SPEC])
    assert verdict.status == "inconclusive"
    assert verdict.reason.startswith(
        "machine busy: 6 of 6 rounds of serial, 6 of 6 rounds of threads-2 crowded; "
        "rerun on a quiet machine (on those rounds: confirmed"
    )
    assert "on those rounds: confirmed" in verdict.reason
    assert verdict.crowded


def test_crowded_rounds_are_left_out_when_quiet_ones_suffice() -> None:
    # serial: 5 quiet rounds of 2 s and 2 crowded ones of 9 s (a busy neighbour)
    serial = pd.concat(
        [rounds([1.0] * 5, model="serial", workers=1, wall_s=2.0),
         rounds([2.0] * 2, model="serial", workers=1, wall_s=9.0)],
        ignore_index=True,
    )  # fmt: skip
    threads = rounds([1.0] * 5, wall_s=1.0)
    rows = pd.concat([serial, threads], ignore_index=True)
    (verdict,) = evaluate_claims(rows, [SPEC])
    assert verdict.status == "confirmed"
    assert verdict.n_baseline == 5
    assert verdict.median_baseline == pytest.approx(2.0)
    assert "2 crowded round(s) left out" in verdict.reason
    assert not verdict.crowded
    table = summarize_rounds(rows).set_index("model")
    assert table.loc["serial", "rounds"] == 5
    assert table.loc["serial", "wall_median_s"] == pytest.approx(2.0)
    assert table.loc["serial", "crowded_rounds"] == 0


def test_a_verdict_that_is_already_inconclusive_stays_so_with_its_reason() -> None:
    spec = ClaimSpec("exp.py::test_x", "?", (pc.faster("threads-2", than="serial"),))
    equal = pd.concat(
        [rounds([2.0] * 6, model="serial", workers=1), rounds([2.0] * 6)], ignore_index=True
    )
    (verdict,) = evaluate_claims(equal, [spec])
    assert verdict.status == "inconclusive"
    assert not verdict.reason.startswith("machine busy")
