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

import dataclasses
import importlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable

from .._reporting import format as fmt
from .._stats.samples import (
    ALPHA,
    median_ci,
    p_less,
    p_sign_above,
    p_sign_below,
    scaled,
    smallest_possible_p,
    smallest_possible_sign_p,
)
from .._variant import variant_label

if TYPE_CHECKING:
    import pandas as pd

Status = Literal["confirmed", "refuted", "inconclusive"]
STATUSES: Final[tuple[Status, ...]] = ("confirmed", "refuted", "inconclusive")
ParamValue = str | int | float | bool | None

_VARIANT_ID = re.compile(r"^(?P<model>.+?)-(?P<workers>[0-9]+)$")
_METRIC_UNITS: Final = {
    "wall_s": "s",
    "cpu_s": "s",
    "cpu_user_s": "s",
    "cpu_sys_s": "s",
    "startup_s": "s",
    "max_rss_bytes": "B",
}


class ClaimError(ValueError):
    """An expectation that is written wrongly (bad bound, unknown selector); says what to fix."""


# ---------------------------------------------------------------------------- selecting


@dataclass(frozen=True, slots=True)
class Select:
    """Which variant of an experiment an expectation talks about.

    ``model`` None matches any model, ``workers`` None the largest worker count that
    ran; ``params`` are the test's own ``parametrize`` values that must match.
    """

    model: str | None = None
    workers: int | None = None
    params: tuple[tuple[str, ParamValue], ...] = ()

    def with_params_of(self, other: Select) -> Select:
        """This selector, taking ``other``'s parameters for the names it does not fix."""
        mine = dict(self.params)
        merged = {**dict(other.params), **mine}
        return dataclasses.replace(self, params=tuple(sorted(merged.items())))

    def __str__(self) -> str:
        if self.model is None:
            text = ""
        elif self.workers is None or self.model == "serial":
            text = self.model
        else:
            text = variant_label(self.model, self.workers)
        if self.params:
            text += " [" + ",".join(f"{name}={value}" for name, value in self.params) + "]"
        return text.strip() or "any variant"


def variant(spec: str | None = None, /, **params: ParamValue) -> Select:
    """Select a variant: ``variant("threads-2")``, ``variant("processes", cpus="one")``.

    ``spec`` is a test id fragment: a model name, optionally with ``-<workers>``; leave
    it out to match any model (when the parameters alone pick the variant). Keyword
    arguments are the test's own parameters, by the names given to ``parametrize``.
    """
    for name, value in params.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ClaimError(
                f"parameter {name}={value!r}: only str, int, float, bool or None can be "
                f"matched (use the value as parametrize gave it)"
            )
    model: str | None = None
    workers: int | None = None
    if spec is not None:
        if not isinstance(spec, str) or not spec:
            raise ClaimError(f"a variant is named like 'threads-2' or 'serial', got {spec!r}")
        match = _VARIANT_ID.match(spec)
        if match:
            model, workers = match["model"], int(match["workers"])
            if workers < 1:
                raise ClaimError(f"workers must be positive in {spec!r}")
        else:
            model = spec
    return Select(model, workers, tuple(sorted(params.items())))


def unknown_variant(
    selectors: Iterable[Select], models: Sequence[str], workers: Sequence[int]
) -> str | None:
    """Why a selector can never match this experiment's variants, or None."""
    runs = ", ".join(
        variant_label(model, count)
        for model in models
        for count in ((1,) if model == "serial" else workers)
    )
    for selector in selectors:
        if selector.model is not None and selector.model not in models:
            return f"{selector} names model {selector.model!r}; this experiment runs {runs}"
        if (
            selector.workers is not None
            and selector.model != "serial"
            and selector.workers not in workers
        ):
            return f"{selector} names {selector.workers} workers; this experiment runs {runs}"
    return None


def _as_select(value: str | Select, role: str) -> Select:
    if isinstance(value, Select):
        return value
    if isinstance(value, str):
        return variant(value)
    raise ClaimError(
        f"{role} must be a variant name such as 'threads-2' or "
        f"pytest_concur.variant(...), got {value!r}"
    )


@dataclass(frozen=True, slots=True)
class _Chosen:
    """The rounds a selector picked, and how to name them."""

    label: str
    values: list[float]
    gil: str
    python: str
    free_threaded: bool | None


def measured(rows: pd.DataFrame) -> pd.DataFrame:
    """Rounds that count for verdicts: passed, not warm-up."""
    if rows.empty:
        return rows
    keep = (~rows["warmup"].astype(bool)) & (rows["outcome"] == "passed")
    return rows[keep]


def _params_of(rows: pd.DataFrame) -> list[dict[str, Any]]:
    if "params_json" not in rows:
        return [{} for _ in range(len(rows))]
    column = rows["params_json"]
    cache: dict[str, dict[str, Any]] = {}
    decoded: list[dict[str, Any]] = []
    for text in column:
        key = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
        if key not in cache:
            cache[key] = json.loads(key) if key else {}
        decoded.append(cache[key])
    return decoded


def _param_matches(actual: Any, wanted: ParamValue) -> bool:
    # non-JSON parameters are stored as their repr
    return bool(actual == wanted or (isinstance(actual, str) and actual == repr(wanted)))


def _label(model: str, workers: int, params: Mapping[str, Any]) -> str:
    text = variant_label(model, workers)
    if params:
        text += " [" + ",".join(f"{name}={params[name]}" for name in sorted(params)) + "]"
    return text


def _gil_state(rows: pd.DataFrame) -> str:
    if "gil_enabled" not in rows:
        return "unknown"
    states = {bool(value) for value in rows["gil_enabled"].dropna()}
    if states == {True}:
        return "enabled"
    if states == {False}:
        return "disabled"
    return "mixed" if states else "unknown"


def choose_pair(
    rows: pd.DataFrame, subject: Select, baseline: Select, metric: str
) -> tuple[_Chosen, _Chosen] | str:
    """The subject's rounds and the baseline's (with the subject's parameters), or why not."""
    a = choose(rows, subject, metric)
    if isinstance(a, str):
        return a
    b = choose(rows, baseline.with_params_of(subject), metric)
    if isinstance(b, str):
        return b
    return a, b


def choose(rows: pd.DataFrame, selector: Select, metric: str) -> _Chosen | str:
    """The measured rounds ``selector`` picks from one experiment's rows, or why none.

    Returns a string (the reason) when nothing or more than one variant matches.
    """
    if metric not in rows:
        return f"no column {metric!r} in the rows"
    good = measured(rows)
    if selector.model is not None:
        good = good[good["model"] == selector.model]
    if selector.params and not good.empty:
        decoded = _params_of(good)
        keep = [
            all(
                name in params and _param_matches(params[name], value)
                for name, value in selector.params
            )
            for params in decoded
        ]
        good = good[keep]
    if good.empty:
        return f"no measured rounds of {selector} (not run, skipped, deselected or failed)"
    models = sorted({str(model) for model in good["model"]})
    if len(models) > 1:
        return f"{selector} matches several models ({', '.join(models)}): name the model"
    if selector.workers is not None:
        good = good[good["workers"] == selector.workers]
        if good.empty:
            return f"no measured rounds of {selector}"
    else:
        good = good[good["workers"] == good["workers"].max()]
    decoded = _params_of(good)
    distinct = {json.dumps(params, sort_keys=True) for params in decoded}
    if len(distinct) > 1:
        named = {name for name, _ in selector.params}
        differing = sorted({name for params in decoded for name in params if name not in named})
        return (
            f"{selector} matches several parameter sets; fix "
            f"{', '.join(differing) or 'the parameters'} with "
            f"pytest_concur.variant(..., name=value)"
        )
    first = good.iloc[0]
    pythons = sorted({str(value) for value in good["python"]}) if "python" in good else []
    free = {bool(v) for v in good["free_threaded"].dropna()} if "free_threaded" in good else set()
    return _Chosen(
        label=_label(str(first["model"]), int(first["workers"]), decoded[0]),
        values=[float(value) for value in good[metric] if not _is_nan(value)],
        gil=_gil_state(good),
        python=", ".join(pythons),
        free_threaded=free.pop() if len(free) == 1 else None,
    )


def _is_nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# ---------------------------------------------------------------------------- verdicts


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
    #: without the per-core sampler) and whether that crowded the machine (_measuring/crowding.py)
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


def _measured_verdict(
    expectation: str,
    status: Status,
    reason: str,
    metric: str,
    alpha: float,
    subject: _Chosen,
    p_yes: float,
    p_no: float,
    *,
    baseline: _Chosen | None = None,
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
        median_subject=_median(subject.values),
        ci_low=ci.low,
        ci_high=ci.high,
        ci_confidence=ci.confidence,
        alpha=alpha,
        baseline=baseline.label if baseline is not None else None,
        n_baseline=len(baseline.values) if baseline is not None else None,
        median_baseline=_median(baseline.values) if baseline is not None else None,
        ratio=ratio,
        threshold=threshold,
        p_value=p_yes,
        p_opposite=p_no,
        python=subject.python,
        gil=_combine_gil(subject.gil, baseline.gil) if baseline is not None else subject.gil,
        free_threaded=subject.free_threaded,
    )


def _decide(p_yes: float, p_no: float, alpha: float) -> Status:
    if p_yes <= alpha:
        return "confirmed"
    if p_no <= alpha:
        return "refuted"
    return "inconclusive"


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return math.nan
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


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


def _ratio_text(ratio: float) -> str:
    return "unbounded (the subject's median is 0)" if math.isinf(ratio) else fmt.speedup(ratio)


def _p_text(p: float) -> str:
    return f"p={fmt.p_value(p)}"


@runtime_checkable
class Expectation(Protocol):
    """Anything with ``evaluate(rows) -> Verdict`` can go into ``expect=[...]``."""

    def evaluate(self, rows: pd.DataFrame) -> Verdict: ...


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
        # "a x by < b": confirmed when significant, refuted when "a x by > b" is
        p_yes = p_less(scaled(a.values, self.by), b.values)
        p_no = p_less(b.values, scaled(a.values, self.by))
        if self.negate:
            p_yes, p_no = p_no, p_yes
        median_a, median_b = _median(a.values), _median(b.values)
        ratio = median_b / median_a if median_a > 0 else math.inf
        best = smallest_possible_p(len(a.values), len(b.values))
        status = _decide(p_yes, p_no, self.alpha)
        numbers = (
            f"{a.label} {format_value(median_a, self.metric)} vs {b.label} "
            f"{format_value(median_b, self.metric)}: ratio {_ratio_text(ratio)}"
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
                f"{numbers}, {_p_text(p_yes)} (opposite {_p_text(p_no)}), "
                f"n={len(a.values)}/{len(b.values)}"
            )
        return _measured_verdict(
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
        # equivalence: both "a < w b" and "b < w a" significant (two one-sided tests)
        p_yes = max(p_less(a.values, scaled(b.values, w)), p_less(b.values, scaled(a.values, w)))
        p_no = min(p_less(scaled(b.values, w), a.values), p_less(scaled(a.values, w), b.values))
        median_a, median_b = _median(a.values), _median(b.values)
        ratio = median_b / median_a if median_a > 0 else math.inf
        best = smallest_possible_p(len(a.values), len(b.values))
        numbers = (
            f"{a.label} {format_value(median_a, self.metric)} vs {b.label} "
            f"{format_value(median_b, self.metric)}: ratio {_ratio_text(ratio)} "
            f"(allowed {fmt.speedup(1 / w)} to {fmt.speedup(w)})"
        )
        if best > self.alpha:
            status: Status = "inconclusive"
            reason = f"{numbers}; too few rounds to reach alpha {self.alpha}"
        else:
            status = _decide(p_yes, p_no, self.alpha)
            reason = (
                f"{numbers}, {_p_text(p_yes)} (opposite {_p_text(p_no)}), "
                f"n={len(a.values)}/{len(b.values)}"
            )
        return _measured_verdict(
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

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        text = self.describe()
        a = choose(rows, self.subject, self.metric)
        if isinstance(a, str):
            return undecided(text, self.metric, str(self.subject), a, self.alpha)
        yes: list[float] = []
        no: list[float] = []
        if self.at_least is not None:
            yes.append(p_sign_above(a.values, self.at_least))
            no.append(p_sign_below(a.values, self.at_least))
        if self.at_most is not None:
            yes.append(p_sign_below(a.values, self.at_most))
            no.append(p_sign_above(a.values, self.at_most))
        p_yes, p_no = max(yes), min(no)
        median_a = _median(a.values)
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
            status = _decide(p_yes, p_no, self.alpha)
            reason = f"{numbers}, {_p_text(p_yes)} (opposite {_p_text(p_no)})"
        threshold = self.at_least if self.at_least is not None else self.at_most
        return _measured_verdict(
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

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        parts: list[Verdict] = []
        if self.at_least is not None:
            parts.append(
                Compare(
                    self.subject, self.baseline, "wall_s", self.at_least, alpha=self.alpha
                ).evaluate(rows)
            )
        if self.at_most is not None:
            parts.append(
                Compare(
                    self.subject,
                    self.baseline,
                    "wall_s",
                    self.at_most,
                    negate=True,
                    alpha=self.alpha,
                ).evaluate(rows)
            )
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


def _combine_gil(first: str, second: str) -> str:
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


# ---------------------------------------------------------------------------- vocabulary


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
        _as_select(subject, "subject"), _as_select(than, "than"), "wall_s", float(by), alpha=alpha
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
        _as_select(subject, "subject"),
        _as_select(than, "than"),
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
        _as_select(subject, "subject"), _as_select(than, "than"), metric, float(by), alpha=alpha
    )


def not_smaller(
    subject: str | Select, *, than: str | Select, metric: str, by: float = 1.0, alpha: float = ALPHA
) -> Compare:
    """The negation of :func:`smaller`."""
    _check_factor("by", by)
    return Compare(
        _as_select(subject, "subject"),
        _as_select(than, "than"),
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
        _as_select(subject, "subject"), _as_select(to, "to"), metric, float(within), alpha=alpha
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
        _as_select(subject, "subject"),
        _as_select(baseline, "baseline"),
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
        _as_select(subject, "subject"),
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


# ---------------------------------------------------------------------------- transport

_DATACLASS_KEY: Final = "__dataclass__"
_TUPLE_KEY: Final = "__tuple__"
_OPAQUE_KEY: Final = "__opaque__"


def encode(value: Any) -> Any:
    """A dataclass expectation as plain values (dicts, lists, str, numbers) for xdist.

    Any dataclass travels, the user's own included, as its importable name and fields;
    anything else becomes an opaque marker that :func:`decode` reports as unsendable.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_DATACLASS_KEY: f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if isinstance(value, tuple):
        return {_TUPLE_KEY: [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, frozenset | set):
        return {_TUPLE_KEY: [encode(item) for item in sorted(value, key=repr)]}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return {_OPAQUE_KEY: repr(value)}


@dataclass(frozen=True, slots=True)
class Unsendable:
    """An expectation that could not cross from an xdist worker: says so as its verdict."""

    text: str

    def describe(self) -> str:
        return self.text

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        return undecided(
            self.text,
            "",
            "",
            "this expectation is not a dataclass, so it could "
            "not be sent from the xdist worker; make it a frozen dataclass",
            ALPHA,
        )


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if _TUPLE_KEY in value:
        return tuple(decode(item) for item in value[_TUPLE_KEY])
    if _OPAQUE_KEY in value:
        return Unsendable(str(value[_OPAQUE_KEY]))
    if _DATACLASS_KEY in value:
        module_name, _, qualname = str(value[_DATACLASS_KEY]).partition(":")
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        if not (isinstance(target, type) and dataclasses.is_dataclass(target)):
            return Unsendable(f"{value[_DATACLASS_KEY]} (not a dataclass)")
        fields = {name: decode(item) for name, item in value["fields"].items()}
        return target(**fields)
    return {key: decode(item) for key, item in value.items()}
