"""Whether one round was crowded, judged as it ends (standard library only: the round
loop imports it, and pandas has no place in the measuring process; _measuring/crowding.py
judges stored rows with the same thresholds)."""

from __future__ import annotations

import math
from typing import Final

#: Cores that other processes must keep busy before a round counts as crowded (an
#: experiment's own helpers outside its process tree, such as a test's HTTP server, were
#: measured at up to 0.25 cores here).
OTHER_CORES: Final = 0.5
#: ... while the experiment and the others together left less than this much of a CPU idle.
IDLE_MARGIN: Final = 0.25
#: Quiet rounds a variant needs before its crowded rounds are left out of its statistics.
MIN_QUIET_ROUNDS: Final = 3


def round_crowded(machine_cores: float | None, own_cores: float, usable_cpus: float) -> bool | None:
    """One round, as ``crowded`` judges a row: None where the sampler saw nothing."""
    if machine_cores is None or not math.isfinite(machine_cores) or not math.isfinite(own_cores):
        return None
    others = max(machine_cores - own_cores, 0.0)
    return others >= OTHER_CORES and own_cores + others >= usable_cpus - IDLE_MARGIN


def other_cores(machine_cores: float | None, own_cores: float) -> float | None:
    """The row's ``other_cores_busy``: cores busy beyond the round's own (null without the
    sampler)."""
    if machine_cores is None or not math.isfinite(machine_cores) or not math.isfinite(own_cores):
        return None
    return max(machine_cores - own_cores, 0.0)


def usable_cores(usable_cpus: float, cpu_quota: float | None) -> float:
    """The usable CPUs, or fewer cores' worth under a cgroup quota (as crowding.py's)."""
    return usable_cpus if cpu_quota is None else min(usable_cpus, cpu_quota)
