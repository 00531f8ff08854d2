"""The verdict an expectation reaches, and how its p-values decide it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from .. import _format as fmt
from .._rounds.conventions import median
from .._stats.samples import median_ci, p_less, p_sign_above, p_sign_below
from .selection import Chosen

Status = Literal["confirmed", "refuted", "inconclusive"]
STATUSES: Final[tuple[Status, ...]] = ("confirmed", "refuted", "inconclusive")

_METRIC_UNITS: Final = {
    "wall_s": "s",
    "cpu_s": "s",
    "cpu_user_s": "s",
    "cpu_sys_s": "s",
    "startup_s": "s",
    "max_rss_bytes": "B",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the rounds say about one expectation, with the numbers behind it.

    ``ratio`` is baseline median / subject median for comparisons (a speedup when the
    metric is wall time) and None for bounds. ``p_value`` is the p-value of the test
    that would confirm the expectation, ``p_opposite`` of the one that would refute it.
    """

    expectation: str
    status: Status
    reason: str
    metric: str
    subject: str
    n_subject: int
    median_subject: float
    ci_low: float
    ci_high: float
    ci_confidence: float
    alpha: float
    baseline: str | None = None
    n_baseline: int | None = None
    median_baseline: float | None = None
    ratio: float | None = None
    threshold: float | None = None
    p_value: float | None = None
    p_opposite: float | None = None
    python: str = ""
    gil: str = "unknown"
    free_threaded: bool | None = None
    experiment: str = ""
    claim: str = ""
    #: cores other processes kept busy during the experiment's rounds (median; NaN
    #: without the per-core sampler) and whether that crowded the machine (_rounds/counting.py)
    other_cores_busy: float = math.nan
    crowded: bool = False

    def as_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def undecided(
    expectation: str,
    metric: str,
    subject: str,
    reason: str,
    alpha: float,
    *,
    baseline: str | None = None,
    threshold: float | None = None,
) -> Verdict:
    """An inconclusive verdict that measured nothing: ``reason`` says why."""
    return Verdict(
        expectation=expectation,
        status="inconclusive",
        reason=reason,
        metric=metric,
        subject=subject,
        n_subject=0,
        median_subject=math.nan,
        ci_low=math.nan,
        ci_high=math.nan,
        ci_confidence=0.0,
        alpha=alpha,
        baseline=baseline,
        threshold=threshold,
    )


def measured_verdict(
    expectation: str,
    status: Status,
    reason: str,
    metric: str,
    alpha: float,
    subject: Chosen,
    p_yes: float,
    p_no: float,
    *,
    baseline: Chosen | None = None,
    ratio: float | None = None,
    threshold: float | None = None,
) -> Verdict:
    """A verdict with the subject's median and interval (and the baseline's, if any)."""
    ci = median_ci(subject.values)
    return Verdict(
        expectation=expectation,
        status=status,
        reason=reason,
        metric=metric,
        subject=subject.label,
        n_subject=len(subject.values),
        median_subject=median(subject.values),
        ci_low=ci.low,
        ci_high=ci.high,
        ci_confidence=ci.confidence,
        alpha=alpha,
        baseline=baseline.label if baseline is not None else None,
        n_baseline=len(baseline.values) if baseline is not None else None,
        median_baseline=median(baseline.values) if baseline is not None else None,
        ratio=ratio,
        threshold=threshold,
        p_value=p_yes,
        p_opposite=p_no,
        python=subject.python,
        gil=combine_gil(subject.gil, baseline.gil) if baseline is not None else subject.gil,
        free_threaded=subject.free_threaded,
    )


def decide(p_yes: float, p_no: float, alpha: float) -> Status:
    if p_yes <= alpha:
        return "confirmed"
    if p_no <= alpha:
        return "refuted"
    return "inconclusive"


def format_value(value: float | None, metric: str) -> str:
    """A measured value in its metric's unit, short enough for a report line."""
    unit = _METRIC_UNITS.get(metric)
    if unit == "s":
        return fmt.seconds(value)
    if unit == "B":
        return fmt.mebibytes(value)
    if metric == "utilization":
        return fmt.percent(value)
    return fmt.figure(value)


def ratio_text(ratio: float) -> str:
    return "unbounded (the subject's median is 0)" if math.isinf(ratio) else fmt.speedup(ratio)


def p_text(p: float) -> str:
    return f"p={fmt.p_value(p)}"



#: One side of "x < y": the rounds of a variant, or a bound.
Side = Sequence[float] | float
#: "x < y": the rounds of x lie below those of y (a rank test), or the rounds lie below or
#: above a bound (a sign test).
Less = tuple[Side, Side]


@dataclass(frozen=True, slots=True)
class Hypotheses:
    """What an expectation means over the rounds: every ``yes`` holding confirms it, any
    ``no`` holding refutes it. Verdicts test them (p-values); adaptive rounds ask whether
    the rounds already say so unanimously (_claims/interim.py)."""

    yes: tuple[Less, ...]
    no: tuple[Less, ...]

    def p_values(self) -> tuple[float, float]:
        """The p-value that confirms (the weakest yes) and the one that refutes (the
        strongest no)."""
        return max(_p_less(less) for less in self.yes), min(_p_less(less) for less in self.no)

    def unanimous(self) -> Literal["confirmed", "refuted"] | None:
        """Confirmed or refuted by every round, or None while the rounds disagree."""
        if all(_every(less) for less in self.yes):
            return "confirmed"
        if any(_every(less) for less in self.no):
            return "refuted"
        return None


def _p_less(less: Less) -> float:
    x, y = less
    if isinstance(x, int | float):
        return p_sign_above(y, x)  # type: ignore[arg-type]  # y is rounds: both can't be bounds
    if isinstance(y, int | float):
        return p_sign_below(x, y)
    return p_less(x, y)


def _every(less: Less) -> bool:
    """Every round of x below every round of y (or the bound)."""
    x, y = less
    highest = x if isinstance(x, int | float) else max(x)
    lowest = y if isinstance(y, int | float) else min(y)
    return highest < lowest


def combine_gil(first: str, second: str) -> str:
    return first if first == second else "mixed"


def combine(statuses: Iterable[Status]) -> Status:
    """Several verdicts as one: refuted if any is, confirmed if all are, else inconclusive."""
    values = list(statuses)
    if not values:
        return "inconclusive"
    if "refuted" in values:
        return "refuted"
    if all(value == "confirmed" for value in values):
        return "confirmed"
    return "inconclusive"
