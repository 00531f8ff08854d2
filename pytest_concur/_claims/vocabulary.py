"""Expectations an experiment states about its own results, and the verdicts they reach.

An expectation names variants of one experiment (``"processes-2"``, or
``variant("processes-2", cpus="one")`` with the test's own parameters) and says what
their measured rounds should show: one faster than another by a factor, a speedup
over serial, cores used within bounds. ``evaluate(rows)`` turns the rounds of the
experiment into a :class:`Verdict`: confirmed, refuted or inconclusive.

The decision is statistical, never a comparison of two medians:

* comparisons ("a is faster than b by ``by``"): one-sided Mann-Whitney U tests on the
  rounds, with ``a``'s values scaled by ``by``. Confirmed when "a x by < b" is
  significant at ``alpha``; refuted when the opposite, "a x by > b", is; inconclusive
  when neither is, which is what a spread that does not separate them looks like.
* bounds ("cores used at least 0.9"): one-sided sign tests of the median against the
  bound, decided the same way.
* too few rounds to ever reach ``alpha`` (3 against 3 reach p = 0.05 at best; a sign
  test needs 5 rounds) is inconclusive, and the verdict says so.

Expectations are frozen dataclasses of plain values, so that they travel from xdist
workers to the controller (see ``encode``/``decode``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .._rounds.conventions import ALPHA
from .decision import Verdict as Verdict
from .expectations import Bounded, Compare, Similar, Speedup
from .selection import ClaimError as ClaimError
from .selection import ParamValue as ParamValue
from .selection import Select as Select
from .selection import as_select
from .selection import variant as variant


def _check_factor(name: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ClaimError(f"{name} must be a positive number, got {value!r}")


def _check_bounds(at_least: float | None, at_most: float | None) -> None:
    if at_least is None and at_most is None:
        raise ClaimError("give at_least=, at_most= or both")
    for name, value in (("at_least", at_least), ("at_most", at_most)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value)
        ):
            raise ClaimError(f"{name} must be a number, got {value!r}")
    if at_least is not None and at_most is not None and at_least > at_most:
        raise ClaimError(f"at_least ({at_least}) is above at_most ({at_most})")


def faster(
    subject: str | Select, *, than: str | Select, by: float = 1.0, alpha: float = ALPHA
) -> Compare:
    """``subject``'s wall time is shorter than ``than``'s, by a factor ``by`` at least.

    ``faster("processes-2", than="threads-2", by=1.3)``: the rounds of processes-2,
    times 1.3, are still significantly shorter than those of threads-2.
    """
    _check_factor("by", by)
    return Compare(
        as_select(subject, "subject"), as_select(than, "than"), "wall_s", float(by), alpha=alpha
    )


def not_faster(
    subject: str | Select, *, than: str | Select, by: float = 1.0, alpha: float = ALPHA
) -> Compare:
    """``subject`` is not ``by`` times faster than ``than`` (the negation of :func:`faster`).

    ``not_faster("threads-2", than="serial", by=1.2)``: threads gain less than 1.2x.
    Confirmed when ``subject`` x ``by`` is significantly slower than ``than``.
    """
    _check_factor("by", by)
    return Compare(
        as_select(subject, "subject"),
        as_select(than, "than"),
        "wall_s",
        float(by),
        negate=True,
        alpha=alpha,
    )


def smaller(
    subject: str | Select, *, than: str | Select, metric: str, by: float = 1.0, alpha: float = ALPHA
) -> Compare:
    """Like :func:`faster` for any column: ``smaller("asyncio-1", than="threads-1",
    metric="max_rss_bytes")``."""
    _check_factor("by", by)
    return Compare(
        as_select(subject, "subject"), as_select(than, "than"), metric, float(by), alpha=alpha
    )


def not_smaller(
    subject: str | Select, *, than: str | Select, metric: str, by: float = 1.0, alpha: float = ALPHA
) -> Compare:
    """The negation of :func:`smaller`."""
    _check_factor("by", by)
    return Compare(
        as_select(subject, "subject"),
        as_select(than, "than"),
        metric,
        float(by),
        negate=True,
        alpha=alpha,
    )


def similar(
    subject: str | Select,
    to: str | Select,
    *,
    within: float = 1.25,
    metric: str = "wall_s",
    alpha: float = ALPHA,
) -> Similar:
    """``subject`` and ``to`` differ by less than a factor ``within`` (an equivalence test)."""
    _check_factor("within", within)
    if within <= 1:
        raise ClaimError(f"within must be above 1 (a factor), got {within!r}")
    return Similar(
        as_select(subject, "subject"), as_select(to, "to"), metric, float(within), alpha=alpha
    )


def speeds_up(
    subject: str | Select,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    baseline: str | Select = "serial",
    alpha: float = ALPHA,
) -> Speedup:
    """Wall-time speedup of ``subject`` over ``baseline`` (serial, same parameters) in bounds.

    ``speeds_up("threads-8", at_least=4)``; ``speeds_up("threads-2", at_most=1.2)``.
    """
    _check_bounds(at_least, at_most)
    _check_factor("at_least", at_least, allow_none=True)
    _check_factor("at_most", at_most, allow_none=True)
    return Speedup(
        as_select(subject, "subject"),
        as_select(baseline, "baseline"),
        None if at_least is None else float(at_least),
        None if at_most is None else float(at_most),
        alpha,
    )


def bounded(
    subject: str | Select,
    *,
    metric: str,
    at_least: float | None = None,
    at_most: float | None = None,
    alpha: float = ALPHA,
) -> Bounded:
    """The median of any column of ``subject`` within bounds (a sign test per bound)."""
    _check_bounds(at_least, at_most)
    return Bounded(
        as_select(subject, "subject"),
        metric,
        None if at_least is None else float(at_least),
        None if at_most is None else float(at_most),
        alpha,
    )


def cores_used(
    subject: str | Select,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    alpha: float = ALPHA,
) -> Bounded:
    """Cores used (CPU seconds of the process tree / wall seconds) within bounds."""
    return bounded(subject, metric="cores_used", at_least=at_least, at_most=at_most, alpha=alpha)


def utilization(
    subject: str | Select,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    alpha: float = ALPHA,
) -> Bounded:
    """Utilisation (cores used / usable CPUs, 0 to 1) within bounds."""
    return bounded(subject, metric="utilization", at_least=at_least, at_most=at_most, alpha=alpha)


def describe(expectation: object) -> str:
    """The expectation in words (``describe()`` where it has one, else its repr)."""
    method: Callable[[], str] | None = getattr(expectation, "describe", None)
    return method() if callable(method) else repr(expectation)
