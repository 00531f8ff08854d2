"""Verdicts after adaptive rounds: each expectation judged at the alpha its looks left.

Adaptive rounds may stop a variant at an interim look once its claims are unanimous
(_claims/interim.py); each such look spends part of the expectation's alpha
(_stats/spending.py). At the end of the session the verdict is judged at what is left,
and, for a bound whose variant stopped because it was decided at a look, at that look's
level too: the same event the spending paid for.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .. import _format as fmt
from .._stats.sequential import SequentialDesign
from .._stats.spending import Spending, bound_spending, comparison_spending, unanimous_sign_p
from .expectations import Bounded, Compare, Similar, Speedup
from .interim import CLAIMS_DECIDED
from .selection import choose

if TYPE_CHECKING:
    import pandas as pd


def ran_adaptive(rows: pd.DataFrame) -> bool:
    """Whether any of these rows' items ran adaptive rounds (their rule left a mark)."""
    return "stop_reason" in rows and bool(rows["stop_reason"].notna().any())


def with_spent_alpha(
    expectation: Any, rows: pd.DataFrame, design: SequentialDesign
) -> tuple[Any, str]:
    """The expectation at the level left for its verdict, and a note for its reason
    ("" when nothing was spent or the type is not judged between rounds)."""
    looks = design.looks()
    if isinstance(expectation, Compare | Similar | Speedup):
        spending = comparison_spending(looks, design.min_rounds, expectation.alpha)
        alpha = spending.final_alpha
    elif isinstance(expectation, Bounded):
        spending = bound_spending(looks, expectation.alpha)
        alpha = spending.final_alpha
        chosen = choose(rows, expectation.subject, expectation.metric)
        if not isinstance(chosen, str):
            n = len(chosen.values)
            if chosen.stop_reason == CLAIMS_DECIDED and n in spending.looks:
                alpha = max(alpha, unanimous_sign_p(n))
    else:
        return expectation, ""
    if spending.spent <= 0:
        return expectation, ""
    return dataclasses.replace(expectation, alpha=alpha), _note(spending, alpha)


def _note(spending: Spending, alpha: float) -> str:
    looks = ", ".join(str(look) for look in spending.looks)
    return (
        f"adaptive rounds: judged at alpha {fmt.figure(alpha)} ({fmt.figure(spending.alpha)} "
        f"less {fmt.figure(spending.spent)} spent on the looks at {looks} rounds)"
    )
