"""A diagnosis per variant: codes from the fixed vocabulary in ``codes.py``, and a sentence
that gives the numbers behind each code."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .._stats.samples import ALPHA, p_less
from . import codes as c
from .signals import VariantSignals


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The codes of one variant, in vocabulary order, each with its sentence."""

    variant: VariantSignals
    findings: tuple[tuple[str, str], ...]

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.findings]

    @property
    def text(self) -> str:
        if not self.findings:
            return f"{self.variant.label}: no finding"
        return "; ".join(f"{self.variant.label} is {code}: {why}" for code, why in self.findings)


def _serial(group: Sequence[VariantSignals]) -> VariantSignals | None:
    for variant in group:
        if variant.model == "serial" and variant.rounds:
            return variant
    return None


def diagnose_group(group: Sequence[VariantSignals]) -> list[Diagnosis]:
    """Diagnose every variant of one experiment and parameter set."""
    serial = _serial(group)
    return [Diagnosis(v, tuple(_findings(v, group, serial))) for v in group]


def _findings(
    v: VariantSignals, group: Sequence[VariantSignals], serial: VariantSignals | None
) -> list[tuple[str, str]]:
    if v.rounds == 0:
        return []
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
        found["gil_bound"] = f"{v.cores_used:.2f} of {v.workers} cores"
    if v.startup_s / wall >= c.STARTUP_SHARE:
        found["startup_bound"] = (
            f"start-up took {v.startup_s * 1e3:.1f} ms, {v.startup_s / wall:.0%} of the round"
        )
    # CPU time can read 0 (clock ticks of the psutil backend, a round that only waited)
    if v.cpu_s > 0 and v.transfer_s / v.cpu_s >= c.TRANSFER_SHARE:
        found["transfer_bound"] = (
            f"pickling {_bytes(v.transfer_bytes)} took {v.transfer_s * 1e3:.1f} ms, "
            f"{v.transfer_s / v.cpu_s:.0%} of the round's CPU time"
        )
    if v.idle_share >= c.IDLE_SHARE:  # from map calls of at least MIN_MAP_S only
        found["imbalanced"] = f"workers sat idle {v.idle_share:.0%} of each map while one worked"
    fewer = _not_slower_with_fewer(v, group)
    if fewer is not None:
        found["oversubscribed"] = (
            f"{v.workers} workers on {v.usable_cpus} usable CPUs, no faster than {fewer.label}"
        )
    blocked = _loop_blocked(v, serial)
    if blocked is not None:
        found["loop_blocked"] = blocked
    if v.crowding.crowded:
        found["crowded"] = v.crowding.describe()
    if serial is not None and v.workers >= 2 and v.model != "serial":
        efficiency = serial.wall_s / wall / v.workers
        if efficiency >= c.SCALES_EFFICIENCY:
            found["scales"] = (
                f"{serial.wall_s / wall:.2f}x over serial with {v.workers} workers "
                f"({efficiency:.0%} efficient)"
            )
    return [(code, found[code]) for code in c.CODES if code in found]


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
                f"{v.tasks_per_loop:.0f} tasks per loop ran {v.overlap:.2f} at a time "
                f"(one after another)"
            )
        return None
    if serial is None or v.workers < 2:
        return None
    speedup = serial.wall_s / v.wall_s
    if speedup < c.LOOP_SPEEDUP and v.cores_used < c.LOOP_CORES:
        return f"{speedup:.2f}x over serial while waiting ({v.cores_used:.2f} cores)"
    return None


def _bytes(count: float) -> str:
    if math.isnan(count):
        return "? bytes"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count:.0f} B"
