"""Crowding: what the per-core sampler says about other processes during the rounds."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from round_rows import round_row

import pytest_concur as pc
from pytest_concur._claims.verdicts import ClaimSpec, evaluate_claims, verdict_rows
from pytest_concur._claims.vocabulary import Verdict
from pytest_concur._measuring.environment import current_environment
from pytest_concur._reporting.verdicts import verdict_lines
from pytest_concur._rounds.counting import (
    IDLE_MARGIN,
    OTHER_CORES,
    Crowding,
    crowded,
    crowding,
    other_cores_busy,
)
from pytest_concur._stats.summary import summarize_rounds, warnings_for
from pytest_concur._storing.frames import rows_frame


def shown(verdicts: list[Verdict]) -> list[str]:
    """The claims section as the terminal shows it: the verdicts table, laid out."""
    frame = rows_frame(verdict_rows(verdicts, current_environment("run-1")), "verdicts")
    return verdict_lines(frame)


def rounds(
    machine: list[float | None], own: float = 1.0, usable: int = 2, **extra: object
) -> pd.DataFrame:
    """Measured rounds of one variant; ``machine`` is system_cores_busy per round."""
    facts = {"experiment": "exp.py::test_x", "model": "threads", "workers": 2, "wall_s": 1.0,
             "cpu_s": own, "cores_used": own, "utilization": own / usable, "startup_s": 0.0,
             "max_rss_bytes": 10, "load_avg_1m": 0.1, "usable_cpus": usable}  # fmt: skip
    frame = pd.DataFrame(
        [round_row(**{**facts, **extra}, round=index) for index in range(len(machine))]
    )
    frame["system_cores_busy"] = pd.array(machine, dtype="Float64").astype("float64")
    return frame


def test_other_cores_are_the_machine_minus_the_rounds_own_never_negative() -> None:
    others = other_cores_busy(rounds([2.0, 1.0, 0.9, None], own=1.0))
    assert others.iloc[0] == pytest.approx(1.0)
    assert others.iloc[1] == 0.0
    assert others.iloc[2] == 0.0  # sampling ticks can read below the round's own use
    assert math.isnan(others.iloc[3])  # no sampler in that round


def test_without_sampler_columns_nothing_is_claimed() -> None:
    bare = rounds([1.0, 1.0]).drop(columns=["system_cores_busy"])
    assert other_cores_busy(bare).isna().all()
    assert not crowded(bare).any()
    assert math.isnan(crowding(bare).other_cores)
    assert not crowding(bare).crowded


def test_a_round_is_crowded_when_others_took_a_core_and_the_machine_was_full() -> None:
    # two cores: the experiment used one, another process the other
    assert crowded(rounds([2.0], own=1.0)).tolist() == [True]
    # the same other process on a 16-core machine left CPUs idle: nobody waited
    assert crowded(rounds([2.0], own=1.0, usable=16)).tolist() == [False]
    # a full machine but the others used a sliver (the test's own helpers)
    assert crowded(rounds([2.0], own=1.8)).tolist() == [False]


@given(
    own=st.floats(0.0, 4.0),
    machine=st.floats(0.0, 4.0),
    usable=st.integers(1, 4),
)
def test_crowded_follows_its_two_conditions(own: float, machine: float, usable: int) -> None:
    others = max(machine - own, 0.0)
    expected = others >= OTHER_CORES and own + others >= usable - IDLE_MARGIN
    assert crowded(rounds([machine], own=own, usable=usable)).tolist() == [expected]


def test_a_quarter_of_crowded_rounds_marks_the_set() -> None:
    assert Crowding(1.0, 1, 4).crowded
    assert not Crowding(1.0, 1, 5).crowded
    assert not Crowding(math.nan, 0, 0).crowded
    assert "kept 1.0 cores busy" in Crowding(1.0, 2, 4).describe()
    assert "full in 2 of 4 rounds" in Crowding(1.0, 2, 4).describe()


def test_the_report_trusts_the_sampler_over_the_load_average() -> None:
    crowded_line = summarize_rounds(rounds([2.0] * 4)).iloc[0]
    assert crowded_line["crowded_rounds"] == 4
    assert crowded_line["other_cores_busy"] == pytest.approx(1.0)
    assert any(n.startswith("machine was crowded: other processes kept 1.0") for n in
               warnings_for(crowded_line))  # fmt: skip
    # a high load average (other VMs, tasks waiting on disk) while the CPUs were free
    quiet = summarize_rounds(rounds([1.05] * 4, load_avg_1m=40.0)).iloc[0]
    assert quiet["crowded_rounds"] == 0
    assert not any("machine was" in note for note in warnings_for(quiet))
    # without the sampler the load average is all there is
    bare = rounds([None] * 4, load_avg_1m=40.0)
    assert any("machine was loaded" in n for n in warnings_for(summarize_rounds(bare).iloc[0]))


def test_verdicts_say_when_their_rounds_were_crowded() -> None:
    spec = ClaimSpec(
        "exp.py::test_x", "threads beat serial", (pc.faster("threads-2", than="serial"),)
    )
    quiet = pd.concat(
        [rounds([1.0] * 6, model="serial", workers=1, wall_s=2.0), rounds([1.0] * 6)],
        ignore_index=True,
    )
    (verdict,) = evaluate_claims(quiet, [spec])
    assert not verdict.crowded
    assert verdict.other_cores_busy == pytest.approx(0.0)
    assert "crowded" not in verdict.reason
    assert not any("other processes kept the CPUs busy" in line for line in
                   shown([verdict]))  # fmt: skip

    busy = pd.concat(
        [rounds([2.0] * 6, model="serial", workers=1, wall_s=2.0), rounds([2.0] * 6)],
        ignore_index=True,
    )
    (verdict,) = evaluate_claims(busy, [spec])
    assert verdict.crowded
    assert verdict.other_cores_busy == pytest.approx(1.0)
    assert "measured on a crowded machine: other processes kept 1.0 cores busy" in verdict.reason
    lines = shown([verdict])
    assert any(line.startswith("1 verdict(s) were measured while other processes") for line in
               lines)  # fmt: skip
    assert verdict.as_row()["crowded"] is True
