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

from .crowded_round import IDLE_MARGIN as IDLE_MARGIN
from .crowded_round import MIN_QUIET_ROUNDS as MIN_QUIET_ROUNDS
from .crowded_round import OTHER_CORES as OTHER_CORES


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


_VARIANT: Final = ["experiment", "params", "model", "workers"]


@dataclass(frozen=True, slots=True)
class QuietSelection:
    """Measured rounds with crowded ones dropped where a variant has enough quiet ones."""

    rows: pd.DataFrame
    #: variants (experiment, params, model, workers) whose statistics still include
    #: crowded rounds: fewer than MIN_QUIET_ROUNDS quiet ones were measured
    busy_variants: frozenset[tuple[object, ...]]
    dropped: int

    def busy_reason(self) -> str:
        names = sorted(f"{model}x{workers}" for _, _, model, workers in self.busy_variants)
        return (
            f"machine busy: fewer than {MIN_QUIET_ROUNDS} quiet rounds of "
            f"{', '.join(names)}; rerun on a quiet machine"
        )


def quiet_rounds(rows: pd.DataFrame) -> QuietSelection:
    """``rows`` (measured rounds) with crowded rounds left out of each variant that has at
    least MIN_QUIET_ROUNDS quiet ones; variants with fewer keep all, and are named."""
    if rows.empty or not set(_VARIANT) <= set(rows.columns):
        return QuietSelection(rows, frozenset(), 0)
    flags = crowded(rows)
    if not flags.any():
        return QuietSelection(rows, frozenset(), 0)
    keys = rows[_VARIANT].assign(params=rows["params"].fillna(""))
    quiet_per_variant = (~flags).groupby([keys[k] for k in _VARIANT], sort=False).transform("sum")
    enough = quiet_per_variant >= MIN_QUIET_ROUNDS
    keep = ~flags | ~enough
    busy = {
        tuple(key)
        for key in keys[flags & ~enough].drop_duplicates().itertuples(index=False, name=None)
    }
    return QuietSelection(rows[keep], frozenset(busy), int((~keep).sum()))
