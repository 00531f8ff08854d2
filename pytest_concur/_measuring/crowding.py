"""Whether other processes competed for the CPUs while rounds were measured.

The per-core sampler records how busy the whole machine was over each round
(``system_cores_busy``, in cores); the round's own process tree used ``cores_used``. The
difference is what everything else on the machine used meanwhile. A round is *crowded*
when that was a real share of a core and the machine had no CPU left over: then the
experiment's processes and threads waited for CPUs that a quiet machine would have
given them, and CPU-parallel comparisons (threads against processes, speedups) shift.
A 1-minute load average cannot say this per round, and counts the experiment itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import pandas as pd

#: Cores that other processes must keep busy before a round counts as crowded (an
#: experiment's own helpers outside its process tree, such as a test's HTTP server, were
#: measured at up to 0.25 cores here).
OTHER_CORES: Final = 0.5
#: ... while the experiment and the others together left less than this much of a CPU idle.
IDLE_MARGIN: Final = 0.25


def other_cores_busy(rows: pd.DataFrame) -> pd.Series:
    """Per row: cores busy machine-wide beyond the round's own, never below 0; NaN where
    the sampler was off (or the columns are missing)."""
    if "system_cores_busy" not in rows or "cores_used" not in rows:
        return pd.Series(math.nan, index=rows.index, dtype="float64")
    machine = pd.to_numeric(rows["system_cores_busy"], errors="coerce").astype("float64")
    own = pd.to_numeric(rows["cores_used"], errors="coerce").astype("float64")
    return (machine - own).clip(lower=0.0)


def usable_cores(rows: pd.DataFrame) -> pd.Series:
    """Per row: the usable CPUs, or fewer cores' worth under a cgroup quota (NaN if unknown)."""
    if "usable_cpus" not in rows:
        return pd.Series(math.nan, index=rows.index, dtype="float64")
    usable = pd.to_numeric(rows["usable_cpus"], errors="coerce").astype("float64")
    if "cpu_quota" in rows:  # the kernel throttles the group to quota/period cores
        quota = pd.to_numeric(rows["cpu_quota"], errors="coerce").astype("float64")
        usable = usable.where(quota.isna() | (usable <= quota), quota)
    return usable


def crowded(rows: pd.DataFrame) -> pd.Series:
    """Per row: whether other processes competed for the CPUs during the round."""
    others = other_cores_busy(rows)
    if "usable_cpus" not in rows:
        return pd.Series(False, index=rows.index, dtype="bool")
    own = pd.to_numeric(rows["cores_used"], errors="coerce").astype("float64")
    usable = usable_cores(rows)
    full = own + others >= usable - IDLE_MARGIN
    return ((others >= OTHER_CORES) & full).fillna(False).astype("bool")


@dataclass(frozen=True, slots=True)
class Crowding:
    """What the sampler saw over a set of rounds."""

    other_cores: float  # median over the rounds; NaN without sampler data
    crowded_rounds: int
    rounds: int

    @property
    def crowded(self) -> bool:
        """A quarter of the rounds or more were crowded: enough to move a median."""
        return self.rounds > 0 and self.crowded_rounds * 4 >= self.rounds

    def describe(self) -> str:
        return (
            f"other processes kept {self.other_cores:.1f} cores busy (median) and the machine "
            f"was full in {self.crowded_rounds} of {self.rounds} rounds"
        )


def crowding(rows: pd.DataFrame) -> Crowding:
    """The crowding of ``rows`` (pass measured rounds: no warm-up, no failures)."""
    others = other_cores_busy(rows).dropna()
    return Crowding(
        other_cores=float(others.median()) if len(others) else math.nan,
        crowded_rounds=int(crowded(rows).sum()),
        rounds=len(others),
    )
