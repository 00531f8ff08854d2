"""Alpha spent over the looks of adaptive rounds: which looks may decide a claim early.

With ``--concur-rounds auto`` a variant may stop at a planned look once the expectations
it is part of are decided (_claims/interim.py). Deciding at several looks is testing
several times, so each expectation's alpha is split in advance (Bonferroni over the
looks): an *interim* look may decide only when the rounds are unanimous (every round of
one variant beyond every round of the other, or every round on one side of a bound), and
spends the probability of that by chance under the null, the smallest p-value its test
can reach there. The verdict at the end is judged at what is left. The chance that any
look decides wrongly is then at most the sum, alpha.

At most ``INTERIM_SHARE`` of alpha goes to interim looks; a look that would spend more
is not used, so the last look always keeps at least a quarter.

Standard library only: adaptive rounds consult it between measured rounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

#: the most of an expectation's alpha that interim looks may spend together
INTERIM_SHARE: Final = 0.75


def unanimous_rank_p(n_a: int, n_b: int) -> float:
    """A one-sided rank test's p-value when every round of one sample lies beyond every
    round of the other (its smallest: 1 / C(n_a + n_b, n_a)); 1 with an empty sample."""
    if n_a <= 0 or n_b <= 0:
        return 1.0
    return 1.0 / math.comb(n_a + n_b, n_a)


def unanimous_sign_p(n: int) -> float:
    """A one-sided sign test's p-value when all ``n`` values lie on one side (0.5^n)."""
    return 1.0 if n <= 0 else 0.5**n


@dataclass(frozen=True, slots=True)
class Spending:
    """One expectation's alpha over the looks of adaptive rounds."""

    alpha: float
    #: interim looks (measured rounds of the deciding variant) where it may decide early
    looks: tuple[int, ...]
    #: what those looks spend together
    spent: float

    @property
    def final_alpha(self) -> float:
        """The level of the verdict at the end of the session."""
        return self.alpha - self.spent


def _spend(alpha: float, interim: Sequence[int], cost: Callable[[int], float]) -> Spending:
    used: list[int] = []
    spent = 0.0
    for look in interim:
        if spent + cost(look) <= INTERIM_SHARE * alpha:
            used.append(look)
            spent += cost(look)
    return Spending(alpha, tuple(used), spent)


@lru_cache(maxsize=64)
def comparison_spending(looks: tuple[int, ...], min_rounds: int, alpha: float) -> Spending:
    """A comparison (rank tests), decided at the later variant's looks against a variant
    that ran before it with at least ``min_rounds`` rounds. The last look (the maximum)
    spends nothing in advance: the rule stops there anyway."""
    return _spend(alpha, looks[:-1], lambda look: unanimous_rank_p(min_rounds, look))


@lru_cache(maxsize=64)
def bound_spending(looks: tuple[int, ...], alpha: float) -> Spending:
    """A bound (sign test) on one variant, decided at that variant's own looks."""
    return _spend(alpha, looks[:-1], unanimous_sign_p)
