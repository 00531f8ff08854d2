"""Claims judged between rounds (adaptive rounds): alpha spending, the interim rule, and
the verdict's level at the end, with the error rates checked by simulation."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from round_rows import round_row

import pytest_concur as pc
from pytest_concur._claims.interim import (
    CLAIMS_DECIDED,
    LEFT_TO_LATER,
    InterimClaims,
)
from pytest_concur._claims.selection import Candidate
from pytest_concur._claims.spent import with_spent_alpha
from pytest_concur._claims.verdicts import ClaimSpec, evaluate_claims
from pytest_concur._running.configuration import AutoRounds
from pytest_concur._stats.spending import (
    INTERIM_SHARE,
    bound_spending,
    comparison_spending,
    unanimous_rank_p,
    unanimous_sign_p,
)

PLAN = AutoRounds().design()  # 5..10 rounds: looks at 5, 8, 10
LOOKS = PLAN.looks()
SERIAL = Candidate("serial", 1)
THREADS = Candidate("threads", 4)
ORDER = [SERIAL, THREADS]


def row(variant: Candidate, wall_s: float, **extra: Any) -> dict[str, Any]:
    facts = {"experiment": "test_exp", "params_json": variant.params_json, "crowded": False,
             "python": "3.x"}  # fmt: skip
    return round_row(model=variant.model, workers=variant.workers, wall_s=wall_s,
                     **{**facts, **extra})  # fmt: skip


def rows_of(variant: Candidate, values: Sequence[float], **extra: Any) -> list[dict[str, Any]]:
    return [row(variant, value, **extra) for value in values]


def judge(
    expect: Sequence[object],
    earlier: Sequence[float] | None,
    current: Sequence[float],
    *,
    current_variant: Candidate = THREADS,
    order_known: bool = True,
) -> str | None:
    interim = InterimClaims(LOOKS, PLAN.min_rounds)
    if earlier is not None:
        interim.remember("test_exp", SERIAL, rows_of(SERIAL, earlier))
    return interim.stop_reason(
        "test_exp",
        expect,
        ORDER,
        current_variant,
        rows_of(current_variant, current),
        len(current),
        order_known=order_known,
    )


# ----------------------------------------------------------------------------- spending


def test_default_looks_spend_what_unanimity_costs() -> None:
    comparison = comparison_spending(LOOKS, 5, 0.05)
    assert comparison.looks == (5, 8)
    assert comparison.spent == pytest.approx(1 / math.comb(10, 5) + 1 / math.comb(13, 8))
    assert comparison.final_alpha == pytest.approx(0.05 - comparison.spent)
    bound = bound_spending(LOOKS, 0.05)
    assert bound.looks == (5, 8)
    assert bound.final_alpha == pytest.approx(0.05 - 0.5**5 - 0.5**8)


def test_a_look_that_would_spend_too_much_is_not_used() -> None:
    # two rounds against two reach p = 1/6 at best: more than alpha, so no early decision
    assert comparison_spending((2, 3, 4), 2, 0.05).looks == ()
    # a strict alpha cannot afford the sign test at 5 rounds (1/32), only later looks
    assert 5 not in bound_spending(LOOKS, 0.01).looks


@given(
    low=st.integers(2, 12),
    extra=st.integers(0, 20),
    alpha=st.floats(0.001, 0.2),
)
def test_interim_looks_never_spend_more_than_their_share(
    low: int, extra: int, alpha: float
) -> None:
    looks = AutoRounds(min_rounds=low, max_rounds=low + extra).design().looks()
    for spending in (comparison_spending(looks, low, alpha), bound_spending(looks, alpha)):
        assert 0 <= spending.spent <= INTERIM_SHARE * alpha + 1e-12
        assert spending.final_alpha >= (1 - INTERIM_SHARE) * alpha - 1e-12
        assert looks[-1] not in spending.looks  # the last look spends nothing in advance
        assert set(spending.looks) <= set(looks)
    assert unanimous_rank_p(5, 5) == pytest.approx(1 / 252)
    assert unanimous_sign_p(5) == 1 / 32


# ----------------------------------------------------------------------- the interim rule

SPEEDUP = pc.speeds_up("threads-4", at_least=2)


def test_a_later_variant_stops_once_the_comparison_is_unanimous() -> None:
    serial = [0.040, 0.041, 0.042, 0.040, 0.043]
    assert judge([SPEEDUP], serial, [0.010, 0.011, 0.010, 0.012, 0.011]) == CLAIMS_DECIDED
    # refuted unanimously (2x slower than needed) decides too
    assert judge([SPEEDUP], serial, [0.030, 0.031, 0.030, 0.032, 0.031]) == CLAIMS_DECIDED


def test_overlapping_rounds_keep_the_variant_measuring() -> None:
    serial = [0.040, 0.041, 0.042, 0.040, 0.043]
    assert judge([SPEEDUP], serial, [0.010, 0.011, 0.010, 0.012, 0.021]) is None


def test_only_planned_looks_decide() -> None:
    serial = [0.040] * 5
    assert judge([SPEEDUP], serial, [0.010] * 6) is None  # 6 is not a look


def test_the_first_variant_leaves_the_comparison_to_the_later_one() -> None:
    assert judge([SPEEDUP], None, [0.04] * 5, current_variant=SERIAL) == LEFT_TO_LATER
    # where the order is not known (xdist spreading items) it must measure for itself
    assert judge([SPEEDUP], None, [0.04] * 5, current_variant=SERIAL, order_known=False) is None


def test_bounds_decide_on_the_variant_itself() -> None:
    busy = pc.cores_used("serial", at_least=0.9)
    interim = InterimClaims(LOOKS, PLAN.min_rounds)
    decided = interim.stop_reason(
        "test_exp", [busy], ORDER, SERIAL, rows_of(SERIAL, [1.0] * 5, cores_used=0.99), 5,
        order_known=True,
    )  # fmt: skip
    assert decided == CLAIMS_DECIDED
    mixed = [*rows_of(SERIAL, [1.0] * 4, cores_used=0.99), row(SERIAL, 1.0, cores_used=0.5)]
    assert (
        interim.stop_reason("test_exp", [busy], ORDER, SERIAL, mixed, 5, order_known=True) is None
    )


def test_a_busy_machine_decides_nothing() -> None:
    serial = [0.040] * 5
    crowded = rows_of(THREADS, [0.010] * 5, crowded=True)
    interim = InterimClaims(LOOKS, PLAN.min_rounds)
    interim.remember("test_exp", SERIAL, rows_of(SERIAL, serial))
    reason = interim.stop_reason(
        "test_exp", [SPEEDUP], ORDER, THREADS, crowded, 5, order_known=True
    )
    assert reason is None


class OwnExpectation:
    def evaluate(self, rows: pd.DataFrame) -> pc.Verdict:  # pragma: no cover - never judged
        raise AssertionError


def test_a_users_own_expectation_is_never_judged_early() -> None:
    assert judge([SPEEDUP, OwnExpectation()], [0.04] * 5, [0.01] * 5) is None


def test_a_variant_no_expectation_names_runs_by_its_width() -> None:
    other = pc.cores_used("processes-2", at_most=1.0)
    assert judge([other], [0.04] * 5, [0.01] * 5) is None


# ------------------------------------------------------------------ the verdict at the end


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def test_verdicts_after_adaptive_rounds_are_judged_at_what_is_left() -> None:
    rows = rows_of(SERIAL, [0.040] * 5, stop_reason=None) + rows_of(
        THREADS, [0.010, 0.011, 0.012, 0.010, 0.011], stop_reason=None
    )
    rows[-1]["stop_reason"] = CLAIMS_DECIDED
    judged, note = with_spent_alpha(SPEEDUP, frame(rows), PLAN)
    assert judged.alpha == pytest.approx(comparison_spending(LOOKS, 5, 0.05).final_alpha)
    assert note == (
        "adaptive rounds: judged at alpha 0.0453 (0.05 less 0.00475 spent on the looks at 5, 8 "
        "rounds)"
    )
    (verdict,) = evaluate_claims(frame(rows), [ClaimSpec("test_exp", "c", (SPEEDUP,))], PLAN)
    assert verdict.status == "confirmed"
    assert verdict.alpha == pytest.approx(judged.alpha)
    assert "adaptive rounds" in verdict.reason


def test_a_bound_decided_at_a_look_keeps_that_looks_level() -> None:
    busy = pc.cores_used("serial", at_least=0.9)
    rows = rows_of(SERIAL, [1.0] * 5, cores_used=0.99, stop_reason=None)
    rows[-1]["stop_reason"] = CLAIMS_DECIDED
    (verdict,) = evaluate_claims(frame(rows), [ClaimSpec("test_exp", "c", (busy,))], PLAN)
    assert verdict.status == "confirmed"
    assert verdict.alpha == pytest.approx(1 / 32)
    rows[-1]["stop_reason"] = "target width"  # stopped for another reason: what is left
    (verdict,) = evaluate_claims(frame(rows), [ClaimSpec("test_exp", "c", (busy,))], PLAN)
    assert verdict.status == "inconclusive"
    assert verdict.alpha == pytest.approx(bound_spending(LOOKS, 0.05).final_alpha)


def test_fixed_rounds_keep_the_full_alpha() -> None:
    rows = rows_of(SERIAL, [0.040] * 5) + rows_of(THREADS, [0.010] * 5)
    (verdict,) = evaluate_claims(frame(rows), [ClaimSpec("test_exp", "c", (SPEEDUP,))], PLAN)
    assert verdict.alpha == 0.05
    assert "adaptive" not in verdict.reason


# -------------------------------------------------------------- error rates, by simulation


def run_procedure(expectation: object, rng: random.Random, bound: bool) -> str:
    """One session of adaptive rounds under the null: the interim rule at every look, the
    end-of-session verdict where it stops. Returns the verdict's status."""
    interim = InterimClaims(LOOKS, PLAN.min_rounds)

    def draw() -> float:
        return rng.uniform(0, 2) if bound else rng.lognormvariate(0, 0.05)

    earlier: list[dict[str, Any]] = []
    if not bound:
        earlier = rows_of(SERIAL, [draw() for _ in range(PLAN.min_rounds)], stop_reason=None)
        interim.remember("test_exp", SERIAL, earlier)
    variant = SERIAL if bound else THREADS
    current: list[dict[str, Any]] = []
    for n in range(1, PLAN.max_rounds + 1):
        value = draw()
        current.append(row(variant, value, cores_used=value, stop_reason=None))
        if n in LOOKS:
            reason = interim.stop_reason(
                "test_exp", [expectation], ORDER, variant, current, n, order_known=True
            )
            if reason is not None or n == PLAN.max_rounds:
                current[-1]["stop_reason"] = reason or "max rounds"
                break
    rows = frame(earlier + current)
    (verdict,) = evaluate_claims(rows, [ClaimSpec("test_exp", "c", (expectation,))], PLAN)
    return verdict.status


@pytest.mark.parametrize(
    ("expectation", "bound"),
    [
        (pc.speeds_up("threads-4", at_least=1.0), False),
        (pc.cores_used("serial", at_least=1.0), True),
    ],
    ids=["comparison", "bound"],
)
def test_looking_between_rounds_keeps_the_error_rate_at_alpha(
    expectation: object, bound: bool
) -> None:
    """Under the null (no difference; the median exactly at the bound) a verdict either way
    is an error; each direction's rate must stay within alpha. A naive rule (deciding at
    every look at the full alpha) would exceed it."""
    rng = random.Random(20261130)
    trials = 1000
    statuses = [run_procedure(expectation, rng, bound) for _ in range(trials)]
    for wrong in ("confirmed", "refuted"):
        rate = statuses.count(wrong) / trials
        # alpha plus three standard errors of a rate estimated from 1000 trials
        assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / trials), (wrong, rate)
