"""Claims judged between rounds: whether a variant's expectations still need its rounds.

With ``--concur-rounds auto`` a variant may stop at a planned look once every expectation
it is part of is settled (docs/adaptive-rounds.md):

* **decided**: at an interim look the rounds are unanimous, which is what that look may
  spend of the expectation's alpha (_stats/spending.py): a comparison with a variant
  that already ran (every round of one beyond every round of the other, after the
  factor), or a bound on the variant itself (every round on one side);
* **left to a later variant**: the other variant of a comparison runs later in this
  process; its rounds will decide the comparison against all of this variant's.

An expectation still open at a look keeps the variant measuring (unless its own width
rule stops it). Expectations of other types (a user's own) are never judged early: the
variants of their experiment run by the width rule alone.

Pure Python over row dicts: this runs between measured rounds, where neither pandas nor
scipy may be imported (on a free-threaded build such an import can turn the GIL on).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._rounds.counting import is_measured, quiet_rows
from .._stats.spending import bound_spending, comparison_spending
from .decision import Hypotheses
from .selection import Candidate, Select, resolve

Row = Mapping[str, Any]
#: not decided now: needs more rounds, left to a later variant, or none of its business
Pending = Literal["open", "later", "apart"]
#: how an expectation stands for the variant measuring now
Settled = Literal["decided", "open", "later", "apart"]
#: a comparison's state: decided one way or the other, or pending
Judged = Literal["confirmed", "refuted", "open", "later", "apart"]

#: the stop reasons this module gives (the rows' ``stop_reason``)
CLAIMS_DECIDED: Final = "claims decided"
LEFT_TO_LATER: Final = "later variants decide"


@dataclass(frozen=True, slots=True)
class Look:
    """Where the variant stands: the experiment's variants in this process's run order,
    which of them is measuring now, and the rows of each that ran."""

    order: Sequence[Candidate]
    current: Candidate
    rows: Mapping[Candidate, Sequence[Row]]
    #: the current variant's counted rounds: the look it is at
    counted: int
    looks: tuple[int, ...]
    min_rounds: int
    #: whether ``order`` is the order this process runs them in (not so under xdist's
    #: default distribution, where another worker may measure the other variant)
    order_known: bool = True

    def runs_later(self, variant: Candidate) -> bool:
        return (
            self.order_known
            and variant in self.order
            and self.order.index(variant) > self.order.index(self.current)
        )

    def values(self, variant: Candidate, metric: str) -> list[float] | None:
        """The variant's values of ``metric`` under the quiet-round rule, as the verdicts
        take them; None when it is busy (the verdict would say "machine busy")."""
        rows = quiet_rows(self.rows.get(variant, ()))
        if rows is None:
            return None
        return [float(row[metric]) for row in rows if _number(row.get(metric))]

    def pair(
        self,
        subject: Select,
        baseline: Select,
        metric: str,
        alpha: float,
        hypotheses: Callable[[list[float], list[float]], Hypotheses],
    ) -> Judged:
        """A comparison of two variants at this look: decided when every round agrees."""
        values = self._pair_values(subject, baseline, metric, alpha)
        if isinstance(values, str):
            return values
        return hypotheses(*values).unanimous() or "open"

    def bound(
        self,
        subject: Select,
        metric: str,
        alpha: float,
        hypotheses: Callable[[list[float]], Hypotheses],
    ) -> Settled:
        """A bound on the current variant at this look: decided when every round agrees."""
        variant = resolve(subject, self.order)
        if isinstance(variant, str) or variant != self.current:
            return "apart"
        if self.counted not in bound_spending(self.looks, alpha).looks:
            return "open"
        values = self.values(variant, metric)
        if values is None or len(values) != self.counted:
            return "open"  # the spending counts exactly ``counted`` quiet values
        return "decided" if hypotheses(values).unanimous() else "open"

    def _pair_values(
        self, subject: Select, baseline: Select, metric: str, alpha: float
    ) -> tuple[list[float], list[float]] | Pending:
        """Both variants' values (subject first) when the current variant may decide the
        pair at this look; otherwise how the pair stands."""
        a = resolve(subject, self.order)
        b = resolve(baseline.with_params_of(subject), self.order)
        if isinstance(a, str) or isinstance(b, str) or a == b or self.current not in (a, b):
            return "apart"
        other = b if a == self.current else a
        if other not in self.rows:
            return "later" if self.runs_later(other) else "open"
        subject_values, baseline_values = self.values(a, metric), self.values(b, metric)
        if subject_values is None or baseline_values is None:
            return "open"
        mine, theirs = subject_values, baseline_values
        if b == self.current:
            mine, theirs = theirs, mine
        # the spending assumed the other variant's minimum and all of this one's rounds
        if len(mine) < self.counted or len(theirs) < self.min_rounds:
            return "open"
        # a look the expectation's alpha cannot pay for stays open
        if self.counted not in comparison_spending(self.looks, self.min_rounds, alpha).looks:
            return "open"
        return subject_values, baseline_values


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def stop_reason(expectations: Iterable[object], look: Look) -> str | None:
    """Why the current variant may stop at this look for its claims; None to go on."""
    settled: list[Settled] = []
    for expectation in expectations:
        # a type that cannot say (a user's own) never stops a variant early
        settle: Callable[[Look], Settled] | None = getattr(expectation, "settled_at", None)
        state = settle(look) if settle is not None else "open"
        if state == "open":
            return None
        settled.append(state)
    if "decided" in settled:
        return CLAIMS_DECIDED
    if "later" in settled:
        return LEFT_TO_LATER
    return None  # no expectation needs this variant: its width rule decides


def as_settled(state: Judged) -> Settled:
    if state in ("confirmed", "refuted"):
        return "decided"
    return state  # type: ignore[return-value]


def combine_settled(states: Sequence[Settled]) -> Settled:
    order: tuple[Settled, ...] = ("open", "later", "decided")
    return next((state for state in order if state in states), "apart")


class InterimClaims:
    """This process's measured rows per experiment and variant, kept for the looks of the
    variants measured after them (one per session)."""

    def __init__(self, looks: tuple[int, ...], min_rounds: int) -> None:
        self._looks = looks
        self._min_rounds = min_rounds
        self._rows: dict[str, dict[Candidate, list[Row]]] = {}

    def remember(self, experiment: str, variant: Candidate, rows: Iterable[Row]) -> None:
        """A finished item's rows (any rows: only measured, passed ones are used)."""
        kept = [row for row in rows if is_measured(row)]
        self._rows.setdefault(experiment, {}).setdefault(variant, []).extend(kept)

    def stop_reason(
        self,
        experiment: str,
        expectations: Sequence[object],
        order: Sequence[Candidate],
        current: Candidate,
        current_rows: Sequence[Row],
        counted: int,
        *,
        order_known: bool,
    ) -> str | None:
        """At a look of ``current``: why it may stop for its claims, or None."""
        rows: dict[Candidate, Sequence[Row]] = dict(self._rows.get(experiment, {}))
        rows[current] = [*rows.get(current, ()), *current_rows]
        look = Look(
            order=order if current in order else [*order, current],
            current=current,
            rows=rows,
            counted=counted,
            looks=self._looks,
            min_rounds=self._min_rounds,
            order_known=order_known,
        )
        return stop_reason(expectations, look)
