"""A diagnosis per variant: codes from the fixed vocabulary in ``codes.py``, and a sentence
that gives the numbers behind each code."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .. import _format as fmt
from .._rounds.conventions import ALPHA
from .._stats.samples import p_less
from . import codes as c
from . import moving
from .signals import VariantSignals


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The codes of one variant, in vocabulary order, each with its sentence."""

    variant: VariantSignals
    findings: tuple[tuple[str, str], ...]
    #: codes that need task spans the variant's rounds did not have (concur.map not used,
    #: or the tasks table not found)
    not_assessed: tuple[str, ...] = ()

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.findings]

    @property
    def text(self) -> str:
        label = self.variant.label
        found = [f"{label} is {code}: {why}" for code, why in self.findings] or [
            f"{label}: no finding"
        ]
        if self.not_assessed:
            found.append(f"not assessed without task spans: {', '.join(self.not_assessed)}")
        return "; ".join(found)


def _serial(group: Sequence[VariantSignals]) -> VariantSignals | None:
    for variant in group:
        if variant.model == "serial" and variant.rounds:
            return variant
    return None


def diagnose_group(group: Sequence[VariantSignals]) -> list[Diagnosis]:
    """Diagnose every variant of one experiment and parameter set."""
    serial = _serial(group)
    return [
        Diagnosis(v, tuple(_findings(v, group, serial)), _not_assessed(v, serial)) for v in group
    ]


def _not_assessed(v: VariantSignals, serial: VariantSignals | None) -> tuple[str, ...]:
    """The codes only task spans can show, for a variant whose rounds had none."""
    if v.spans or v.rounds == 0 or v.model == "serial":
        return ()
    codes = []
    if v.workers >= 2:
        codes.append("imbalanced")
    if v.model in c.LOOP_MODELS and (serial is None or v.workers < 2):
        codes.append("loop_blocked")  # the rounds-only form compares with serial
    return tuple(codes)


def _findings(
    v: VariantSignals, group: Sequence[VariantSignals], serial: VariantSignals | None
) -> list[tuple[str, str]]:
    if v.rounds == 0:
        return []
    found = _measured_findings(v, group, serial)
    if v.busy is not None or (serial is not None and serial.busy is not None):
        # short of CPUs, the numbers fake these: the quiet rounds would have to say them
        found = {code: why for code, why in found.items() if code not in c.FAKED_BY_CROWDING}
    if v.busy is not None:
        found["crowded"] = (
            f"{v.busy.crowded_rounds} of {v.busy.rounds} rounds crowded, too few quiet ones "
            f"to judge on: {v.crowding.describe()}"
        )
    return [(code, found[code]) for code in c.CODES if code in found]


def _measured_findings(
    v: VariantSignals, group: Sequence[VariantSignals], serial: VariantSignals | None
) -> dict[str, str]:
    """The codes the variant's numbers show, each with its sentence."""
    found: dict[str, str] = {}
    wall = v.wall_s
    # as busy as one computing thread (serial's cores where it ran: crowding lowers both)
    one_thread = serial.cores_used if serial is not None else 1.0
    if (
        v.model in c.THREAD_MODELS
        and v.workers >= 2
        and v.gil_enabled is True
        and (serial is None or _computes(serial))
        and c.GIL_CORES_LOW * one_thread <= v.cores_used <= c.GIL_CORES_HIGH
    ):
        found["gil_bound"] = f"{fmt.cores(v.cores_used)} of {v.workers} cores"
    if v.startup_s / wall >= c.STARTUP_SHARE:
        found["startup_bound"] = (
            f"start-up took {fmt.seconds(v.startup_s)}, {fmt.percent(v.startup_s / wall)} of "
            f"the round"
        )
    # transfer_bound: the whole cost of moving the tasks (_advice/moving.py)
    moved = moving.finding(
        v.moving, transfer_s=v.transfer_s, transfer_bytes=v.transfer_bytes, cpu_s=v.cpu_s
    )
    if moved is not None:
        found["transfer_bound"] = moved
    if v.idle_share >= c.IDLE_SHARE:  # from map calls of at least MIN_MAP_S only
        found["imbalanced"] = (
            f"workers sat idle {fmt.percent(v.idle_share)} of each map while one worked"
        )
    fewer = _not_slower_with_fewer(v, group)
    if fewer is not None:
        found["oversubscribed"] = (
            f"{v.workers} workers on {v.usable_cpus} usable CPUs, no faster than {fewer.label}"
        )
    blocked = _loop_blocked(v, serial)
    if blocked is not None:
        found["loop_blocked"] = blocked
    if serial is not None and v.workers >= 2 and v.model != "serial":
        efficiency = serial.wall_s / wall / v.workers
        if efficiency >= c.SCALES_EFFICIENCY:
            found["scales"] = (
                f"{fmt.speedup(serial.wall_s / wall)} over serial with {v.workers} workers "
                f"({fmt.percent(efficiency)} efficient)"
            )
    return found


def _free_cpus(v: VariantSignals) -> float:
    """CPUs other processes left this variant (the sampler's witness), at least FREE_FLOOR."""
    others = v.crowding.other_cores
    if math.isnan(others):
        return float(v.usable_cpus)
    return min(float(v.usable_cpus), max(v.usable_cpus - others, c.FREE_FLOOR))


def _computes(v: VariantSignals) -> bool:
    """Whether a one-worker variant kept busy the share of a CPU other processes left it."""
    return v.cores_used >= c.COMPUTING_CORES * min(1.0, _free_cpus(v))


def _not_slower_with_fewer(
    v: VariantSignals, group: Sequence[VariantSignals]
) -> VariantSignals | None:
    """A variant of the same model with at most usable-CPU workers that ``v`` does not beat."""
    computing = v.cores_used >= c.BUSY_PER_WORKER * min(v.workers, _free_cpus(v))
    if v.workers <= v.usable_cpus or not computing:
        return None
    for other in group:
        if (
            other.model == v.model
            and other.workers <= v.usable_cpus
            and other.rounds
            and p_less(v.walls, other.walls) > ALPHA
        ):
            return other
    return None


def _loop_blocked(v: VariantSignals, serial: VariantSignals | None) -> str | None:
    if v.model not in c.LOOP_MODELS:
        return None
    if not math.isnan(v.overlap):
        if v.tasks_per_loop >= 2 and v.overlap <= c.LOOP_OVERLAP:
            return (
                f"{fmt.count(v.tasks_per_loop)} tasks per loop ran {fmt.cores(v.overlap)} at a "
                f"time (one after another)"
            )
        return None
    if serial is None or v.workers < 2:
        return None
    speedup = serial.wall_s / v.wall_s
    if speedup < c.LOOP_SPEEDUP and v.cores_used < c.LOOP_CORES:
        return f"{fmt.speedup(speedup)} over serial while waiting ({fmt.cores(v.cores_used)} cores)"
    return None
