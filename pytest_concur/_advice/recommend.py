"""The recommendation of one experiment and parameter set: the variant to use and why.

Sequential logic (docs/decisions.md): the fastest variant by median wall time; every
variant whose rounds are not significantly slower than its (one-sided Mann-Whitney,
p > ALPHA) is a contender; of the contenders the cheapest wins: least CPU seconds, then
least peak memory, then least start-up, then fewest workers, values within
COST_TOLERANCE of each other counting as equal. More than one contender is a tie, and
the report says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import _format as fmt
from .._rounds.conventions import ALPHA
from .._rounds.counting import busy_reason
from .._stats.samples import median_ci, p_less
from . import codes as c
from .diagnose import Diagnosis
from .signals import VariantSignals

_COSTS: tuple[tuple[str, Callable[[VariantSignals], float]], ...] = (
    ("CPU", lambda v: v.cpu_s),
    ("memory", lambda v: v.max_rss_bytes),
    ("start-up", lambda v: v.startup_s),
    ("workers", lambda v: float(v.workers)),
)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What to use for one experiment and parameter set; ``best`` is None when nothing can
    honestly be recommended (the ``reason`` says why)."""

    experiment: str
    params: str
    best: str | None
    speedup: float
    ci_low: float
    ci_high: float
    ci_confidence: float
    runner_up: str | None
    margin: float
    p_value: float
    tie: bool
    problems: tuple[str, ...]
    reason: str


def recommend_group(
    group: Sequence[VariantSignals], diagnoses: Sequence[Diagnosis]
) -> Recommendation:
    """The recommendation for the variants of one experiment and parameter set."""
    first = group[0]
    ran = sorted((v for v in group if v.rounds > 0), key=lambda v: v.wall_s)
    failed = [v for v in group if v.rounds == 0]
    problems: list[str] = []
    notes = [f"{v.label} failed every round ({_short(v.error)})" for v in failed]
    mismatch = _workload_mismatch(group)
    if mismatch:
        problems.append("workload_mismatch")
        notes.append(mismatch)
    if not ran:
        text = "every round failed" if failed and all(v.failed for v in failed) else (
            "no measured rounds")  # fmt: skip
        return _nothing(first, ("all_failed", *problems), "; ".join([text, *notes]))
    if len(ran) == 1:  # nothing to compare: what it showed is all there is to say
        text = f"only {ran[0].label} was measured: nothing to compare it with"
        found = [d.text for d in diagnoses if d.findings]
        return _nothing(first, ("one_variant", *problems), "; ".join([text, *found, *notes]))
    busy = [v.busy for v in ran if v.busy is not None]
    if busy:  # the claims' rule: nothing is decided on crowded rounds
        return _nothing(first, ("machine_busy", *problems), "; ".join([busy_reason(busy), *notes]))

    fastest = ran[0]
    contenders = [v for v in ran if v is fastest or p_less(fastest.walls, v.walls) > ALPHA]
    best, decided_by = _cheapest(contenders)
    tie = len(contenders) > 1
    others = [v for v in (contenders if tie else ran) if v is not best]
    runner_up = others[0]
    margin = runner_up.wall_s / best.wall_s
    p_value = p_less(best.walls, runner_up.walls)
    serial = next((v for v in ran if v.model == "serial"), None)
    speedup, low, high, confidence = _speedup(serial, best)
    if serial is None:
        problems.insert(0, "no_serial_baseline")
        notes.insert(0, "no serial baseline: speedup unknown")

    head = f"use {best.label}: "
    if tie:
        head += (
            f"tie with {runner_up.label} (medians {fmt.seconds(best.wall_s)} and "
            f"{fmt.seconds(runner_up.wall_s)}, not significantly different: "
            f"p={fmt.p_value(p_value)}); {best.label} is cheaper on {decided_by}"
        )
    else:
        head += f"{fmt.speedup(margin)} faster than {runner_up.label}"
    if serial is not None and best is not serial and runner_up is not serial:
        head += f", {fmt.speedup(speedup)} than serial"
    if serial is not None and best is not serial:
        head += f" (interval {fmt.number(low, '.2f')}-{fmt.speedup(high)})"
    whys = [
        f"{d.variant.label} is {code}: {why}"
        for d in diagnoses
        for code, why in d.findings
        if code not in ("scales", "crowded") and d.variant.rounds
    ]
    dropped = sum(v.dropped for v in ran)
    if dropped:
        whys.append(f"{dropped} crowded round(s) left out, quiet ones used")
    return Recommendation(
        experiment=first.experiment,
        params=first.params,
        best=best.label,
        speedup=speedup,
        ci_low=low,
        ci_high=high,
        ci_confidence=confidence,
        runner_up=runner_up.label,
        margin=margin,
        p_value=p_value,
        tie=tie,
        problems=tuple(problems),
        reason="; ".join([head, *whys, *notes]),
    )


def _nothing(first: VariantSignals, problems: tuple[str, ...], reason: str) -> Recommendation:
    nan = math.nan
    return Recommendation(first.experiment, first.params, None, nan, nan, nan, nan, None, nan,
                          nan, False, problems, f"no recommendation: {reason}")  # fmt: skip


def _cheapest(contenders: list[VariantSignals]) -> tuple[VariantSignals, str]:
    """The cheapest contender and the cost that decided (contenders sorted by wall time)."""
    remaining = contenders
    for name, cost in _COSTS:
        if len(remaining) == 1:
            break
        values = [cost(v) for v in remaining]
        known = [value for value in values if not math.isnan(value)]
        if not known:
            continue
        least = min(known)
        narrowed = [
            v for v, value in zip(remaining, values, strict=True)
            if not math.isnan(value) and value <= least + abs(least) * c.COST_TOLERANCE
        ]  # fmt: skip
        if len(narrowed) < len(remaining):
            remaining = narrowed
            if len(remaining) == 1:
                return remaining[0], name
    return remaining[0], "wall time"


def _speedup(
    serial: VariantSignals | None, best: VariantSignals
) -> tuple[float, float, float, float]:
    """Serial median over best median, and the ratio of their order-statistic intervals."""
    if serial is None:
        return math.nan, math.nan, math.nan, math.nan
    if serial is best:
        return 1.0, 1.0, 1.0, 1.0
    s, b = median_ci(serial.walls), median_ci(best.walls)
    confidence = max(0.0, s.confidence + b.confidence - 1.0)  # Bonferroni: both cover
    return serial.wall_s / best.wall_s, s.low / b.high, s.high / b.low, confidence


def _workload_mismatch(group: Sequence[VariantSignals]) -> str | None:
    """The workload marker against what the serial (or least-worker) rounds did."""
    ran = [v for v in group if v.rounds > 0 and not math.isnan(v.cores_used)]
    if not ran:
        return None
    base = min(ran, key=lambda v: (v.model != "serial", v.workers))
    if base.workers != 1 or base.busy is not None:  # crowding lowers cores used: no witness
        return None
    if base.workload == "cpu" and base.cores_used < c.CPU_MARKER_CORES:
        return (
            f"marked cpu, but {base.label} kept only {fmt.cores(base.cores_used)} cores busy: "
            f"it mostly waits"
        )
    if base.workload == "io" and base.cores_used > c.IO_MARKER_CORES:
        return (
            f"marked io, but {base.label} kept {fmt.cores(base.cores_used)} cores busy: it computes"
        )
    return None


def _short(error: str | None) -> str:
    if not error:
        return "no error text"
    line = error.strip().splitlines()[-1] if error.strip() else error
    return line[:120]
