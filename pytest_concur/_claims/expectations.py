"""The expectation types: comparisons, similarity, bounds and speedups over measured rounds.

Each is a frozen dataclass of plain values (so it travels from xdist workers, see
``transport.py``) with ``describe()``, ``problem_with(models, workers)``,
``evaluate(rows) -> Verdict`` and ``settled_at(look)`` (whether adaptive rounds may stop
for it, _claims/interim.py). What confirms and what refutes an expectation is said once,
in its ``hypotheses``: the verdict tests them, the early look asks whether every round
agrees. Users build them with the functions in ``vocabulary.py``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import _format as fmt
from .._rounds.conventions import ALPHA, median
from .._stats.samples import (
    median_ci,
    scaled,
    smallest_possible_p,
    smallest_possible_sign_p,
)
from .decision import (
    Hypotheses,
    Status,
    Verdict,
    combine,
    decide,
    format_value,
    measured_verdict,
    p_text,
    ratio_text,
    undecided,
)
from .interim import Judged, Look, Settled, as_settled, combine_settled
from .selection import Select, choose, choose_pair, unknown_variant

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Compare:
    """``metric`` of ``subject`` times ``by`` is smaller than that of ``baseline``.

    With ``negate`` the expectation is the opposite: not smaller by that factor.
    Built by :func:`faster`, :func:`smaller`, :func:`not_faster`, :func:`not_smaller`.
    """

    subject: Select
    baseline: Select
    metric: str = "wall_s"
    by: float = 1.0
    negate: bool = False
    alpha: float = ALPHA

    def describe(self) -> str:
        base = self.baseline.with_params_of(self.subject)
        word = "faster than" if self.metric == "wall_s" else f"smaller in {self.metric} than"
        factor = "" if self.by == 1.0 else f" by >= {self.by:g}x"
        return f"{self.subject} {'not ' if self.negate else ''}{word} {base}{factor}"

    def problem_with(self, models: Sequence[str], workers: Sequence[int]) -> str | None:
        """Why this can never be judged for an experiment of these models and workers."""
        return unknown_variant((self.subject, self.baseline), models, workers)

    def hypotheses(self, a: Sequence[float], b: Sequence[float]) -> Hypotheses:
        """"a x by < b" confirms, "b < a x by" refutes (the other way round negated)."""
        smaller, larger = (scaled(a, self.by), b), (b, scaled(a, self.by))
        if self.negate:
            return Hypotheses((larger,), (smaller,))
        return Hypotheses((smaller,), (larger,))

    def judged_at(self, look: Look) -> Judged:
        return look.pair(self.subject, self.baseline, self.metric, self.alpha, self.hypotheses)

    def settled_at(self, look: Look) -> Settled:
        return as_settled(self.judged_at(look))

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        text = self.describe()
        pair = choose_pair(rows, self.subject, self.baseline, self.metric)
        if isinstance(pair, str):
            return undecided(
                text,
                self.metric,
                str(self.subject),
                pair,
                self.alpha,
                baseline=str(self.baseline),
                threshold=self.by,
            )
        a, b = pair
        p_yes, p_no = self.hypotheses(a.values, b.values).p_values()
        median_a, median_b = median(a.values), median(b.values)
        ratio = median_b / median_a if median_a > 0 else math.inf
        best = smallest_possible_p(len(a.values), len(b.values))
        status = decide(p_yes, p_no, self.alpha)
        numbers = (
            f"{a.label} {format_value(median_a, self.metric)} vs {b.label} "
            f"{format_value(median_b, self.metric)}: ratio {ratio_text(ratio)}"
            + ("" if self.by == 1.0 else f" (threshold {self.by:g}x)")
        )
        if best > self.alpha:
            status = "inconclusive"
            reason = (
                f"{numbers}; too few rounds: {len(a.values)} vs {len(b.values)} can "
                f"reach p={fmt.p_value(best)} at best, alpha is {self.alpha}"
            )
        else:
            reason = (
                f"{numbers}, {p_text(p_yes)} (opposite {p_text(p_no)}), "
                f"n={len(a.values)}/{len(b.values)}"
            )
        return measured_verdict(
            text, status, reason, self.metric, self.alpha, a, p_yes, p_no,
            baseline=b, ratio=ratio, threshold=self.by,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Similar:
    """``metric`` of ``subject`` and ``baseline`` within a factor ``within`` of each other."""

    subject: Select
    baseline: Select
    metric: str = "wall_s"
    within: float = 1.25
    alpha: float = ALPHA

    def describe(self) -> str:
        base = self.baseline.with_params_of(self.subject)
        return f"{self.subject} similar to {base} in {self.metric} (within {self.within:g}x)"

    def problem_with(self, models: Sequence[str], workers: Sequence[int]) -> str | None:
        """Why this can never be judged for an experiment of these models and workers."""
        return unknown_variant((self.subject, self.baseline), models, workers)

    def hypotheses(self, a: Sequence[float], b: Sequence[float]) -> Hypotheses:
        """Equivalence: both "a < w b" and "b < w a" confirm (two one-sided tests); either
        "w b < a" or "w a < b" refutes."""
        w = self.within
        return Hypotheses(
            yes=((a, scaled(b, w)), (b, scaled(a, w))),
            no=((scaled(b, w), a), (scaled(a, w), b)),
        )

    def settled_at(self, look: Look) -> Settled:
        pair = look.pair(self.subject, self.baseline, self.metric, self.alpha, self.hypotheses)
        return as_settled(pair)

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        text = self.describe()
        pair = choose_pair(rows, self.subject, self.baseline, self.metric)
        if isinstance(pair, str):
            return undecided(
                text,
                self.metric,
                str(self.subject),
                pair,
                self.alpha,
                baseline=str(self.baseline),
                threshold=self.within,
            )
        a, b = pair
        w = self.within
        p_yes, p_no = self.hypotheses(a.values, b.values).p_values()
        median_a, median_b = median(a.values), median(b.values)
        ratio = median_b / median_a if median_a > 0 else math.inf
        best = smallest_possible_p(len(a.values), len(b.values))
        numbers = (
            f"{a.label} {format_value(median_a, self.metric)} vs {b.label} "
            f"{format_value(median_b, self.metric)}: ratio {ratio_text(ratio)} "
            f"(allowed {fmt.speedup(1 / w)} to {fmt.speedup(w)})"
        )
        if best > self.alpha:
            status: Status = "inconclusive"
            reason = f"{numbers}; too few rounds to reach alpha {self.alpha}"
        else:
            status = decide(p_yes, p_no, self.alpha)
            reason = (
                f"{numbers}, {p_text(p_yes)} (opposite {p_text(p_no)}), "
                f"n={len(a.values)}/{len(b.values)}"
            )
        return measured_verdict(
            text, status, reason, self.metric, self.alpha, a, p_yes, p_no,
            baseline=b, ratio=ratio, threshold=w,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Bounded:
    """The median of ``metric`` for ``subject`` is at least / at most a bound."""

    subject: Select
    metric: str
    at_least: float | None = None
    at_most: float | None = None
    alpha: float = ALPHA

    def describe(self) -> str:
        parts = []
        if self.at_least is not None:
            parts.append(f">= {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"<= {self.at_most:g}")
        return f"{self.metric} of {self.subject} {' and '.join(parts)}"

    def problem_with(self, models: Sequence[str], workers: Sequence[int]) -> str | None:
        """Why this can never be judged for an experiment of these models and workers."""
        return unknown_variant((self.subject,), models, workers)

    def hypotheses(self, values: Sequence[float]) -> Hypotheses:
        """Rounds above ``at_least`` and below ``at_most`` confirm (sign tests); rounds
        on the wrong side of either refute."""
        yes: list[tuple[Sequence[float] | float, Sequence[float] | float]] = []
        no: list[tuple[Sequence[float] | float, Sequence[float] | float]] = []
        if self.at_least is not None:
            yes.append((self.at_least, values))
            no.append((values, self.at_least))
        if self.at_most is not None:
            yes.append((values, self.at_most))
            no.append((self.at_most, values))
        return Hypotheses(tuple(yes), tuple(no))

    def settled_at(self, look: Look) -> Settled:
        return look.bound(self.subject, self.metric, self.alpha, self.hypotheses)

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        text = self.describe()
        a = choose(rows, self.subject, self.metric)
        if isinstance(a, str):
            return undecided(text, self.metric, str(self.subject), a, self.alpha)
        p_yes, p_no = self.hypotheses(a.values).p_values()
        median_a = median(a.values)
        ci = median_ci(a.values)
        best = smallest_possible_sign_p(len(a.values))
        numbers = (
            f"{a.label} median {format_value(median_a, self.metric)} "
            f"({fmt.percent(ci.confidence)} CI "
            f"{format_value(ci.low, self.metric)} to {format_value(ci.high, self.metric)}, "
            f"n={len(a.values)})"
        )
        if best > self.alpha:
            status: Status = "inconclusive"
            reason = (
                f"{numbers}; too few rounds: {len(a.values)} can reach p={fmt.p_value(best)} at "
                f"best with a sign test, alpha is {self.alpha}"
            )
        else:
            status = decide(p_yes, p_no, self.alpha)
            reason = f"{numbers}, {p_text(p_yes)} (opposite {p_text(p_no)})"
        threshold = self.at_least if self.at_least is not None else self.at_most
        return measured_verdict(
            text, status, reason, self.metric, self.alpha, a, p_yes, p_no, threshold=threshold
        )


@dataclass(frozen=True, slots=True)
class Speedup:
    """Wall-time speedup of ``subject`` over ``baseline`` (serial) within bounds."""

    subject: Select
    baseline: Select = field(default_factory=lambda: Select("serial"))
    at_least: float | None = None
    at_most: float | None = None
    alpha: float = ALPHA

    def describe(self) -> str:
        parts = []
        if self.at_least is not None:
            parts.append(f">= {self.at_least:g}x")
        if self.at_most is not None:
            parts.append(f"<= {self.at_most:g}x")
        base = self.baseline.with_params_of(self.subject)
        return f"speedup of {self.subject} over {base} {' and '.join(parts)}"

    def problem_with(self, models: Sequence[str], workers: Sequence[int]) -> str | None:
        """Why this can never be judged for an experiment of these models and workers."""
        return unknown_variant((self.subject, self.baseline), models, workers)

    def comparisons(self) -> list[Compare]:
        """The one or two comparisons this speedup is judged by."""
        parts: list[Compare] = []
        if self.at_least is not None:
            parts.append(
                Compare(self.subject, self.baseline, "wall_s", self.at_least, alpha=self.alpha)
            )
        if self.at_most is not None:
            parts.append(
                Compare(
                    self.subject, self.baseline, "wall_s", self.at_most, negate=True,
                    alpha=self.alpha,
                )
            )  # fmt: skip
        return parts

    def settled_at(self, look: Look) -> Settled:
        parts = [part.judged_at(look) for part in self.comparisons()]
        if "refuted" in parts:
            return "decided"  # one refuted part refutes the speedup
        return combine_settled([as_settled(part) for part in parts])

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        parts = [part.evaluate(rows) for part in self.comparisons()]
        statuses = [part.status for part in parts]
        status = combine(statuses)
        # report the part that decided: a refuting one, else the weakest confirmation
        deciding = next((p for p in parts if p.status == status), parts[0])
        p_yes = (
            max(p.p_value for p in parts if p.p_value is not None)
            if all(p.p_value is not None for p in parts)
            else None
        )
        p_no = (
            min(p.p_opposite for p in parts if p.p_opposite is not None)
            if all(p.p_opposite is not None for p in parts)
            else None
        )
        return dataclasses.replace(
            deciding,
            expectation=self.describe(),
            status=status,
            p_value=p_yes,
            p_opposite=p_no,
        )
