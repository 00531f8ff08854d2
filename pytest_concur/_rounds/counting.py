"""Which rounds count: measured rounds, crowded rounds, and the quiet rounds statistics use.

* A round is **measured** when it passed and is not a warm-up round.
* A round is **crowded** when other processes kept a real share of a core busy while it
  ran (``OTHER_CORES``) and the machine had no CPU left over (``IDLE_MARGIN``): the
  experiment's processes and threads then waited for CPUs that a quiet machine would have
  given them, and CPU-parallel comparisons shift. The per-core sampler says how busy the
  whole machine was over the round (``system_cores_busy``); the round's own process tree
  used ``cores_used``; the difference is everything else. A 1-minute load average cannot
  say this per round, and counts the experiment itself.
* **The quiet-round rule**: a variant with at least ``MIN_QUIET_ROUNDS`` quiet rounds is
  judged on those alone; a variant with fewer keeps all its rounds and is *busy*: claims
  are inconclusive and recommendations undecided on it ("machine busy").

Each rule is one pure function over plain values or one row (the round loop and the
interim claims use those between rounds, where pandas has no place) and its vectorised
form over a frame of rounds (claims, decisions and reports), tested to agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .. import _format as fmt
from .variant import VARIANT_KEYS, VariantKey, variant_key, variant_label

if TYPE_CHECKING:
    import pandas as pd

#: Cores that other processes must keep busy before a round counts as crowded (an
#: experiment's own helpers outside its process tree, such as a test's HTTP server, were
#: measured at up to 0.25 cores here).
OTHER_CORES: Final = 0.5
#: ... while the experiment and the others together left less than this much of a CPU idle.
IDLE_MARGIN: Final = 0.25
#: Quiet rounds a variant needs before its crowded rounds are left out of its statistics.
MIN_QUIET_ROUNDS: Final = 3

Row = Mapping[str, Any]


# ------------------------------------------------------------------------ measured rounds


def _true(value: object) -> bool:
    """A stored flag: None, NaN and pd.NA read False."""
    try:
        return bool(value) and value == value  # NaN != NaN
    except TypeError:  # pd.NA refuses bool()
        return False


def is_measured(row: Row) -> bool:
    """Whether a round counts: it passed and is not a warm-up round (unknown: not one)."""
    return not _true(row.get("warmup")) and str(row.get("outcome")) == "passed"


def measured(rows: pd.DataFrame) -> pd.DataFrame:
    """The rounds of ``rows`` that count, as ``is_measured`` judges each."""
    import pandas as pd

    if "warmup" in rows:
        warmup = rows["warmup"].astype("boolean").fillna(False).astype(bool)
    else:  # no column says warm-up
        warmup = pd.Series(False, index=rows.index)
    return rows[~warmup & (rows["outcome"].astype(str) == "passed")]


# ------------------------------------------------------------------------ crowded rounds


def _finite(value: object) -> float | None:
    if value is None or isinstance(value, str | bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]  # pd.NA raises TypeError
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def other_cores(machine_cores: object, own_cores: object) -> float | None:
    """Cores busy machine-wide beyond the round's own, never below 0 (the row's
    ``other_cores_busy``); None where the sampler saw nothing."""
    machine, own = _finite(machine_cores), _finite(own_cores)
    if machine is None or own is None:
        return None
    return max(machine - own, 0.0)


def usable_cores(usable_cpus: float, cpu_quota: float | None) -> float:
    """The usable CPUs, or fewer cores' worth under a cgroup quota (the kernel throttles
    the group to quota/period cores)."""
    return usable_cpus if cpu_quota is None else min(usable_cpus, cpu_quota)


def round_crowded(machine_cores: object, own_cores: object, usable: object) -> bool | None:
    """Whether one round was crowded, from the machine's busy cores, the round's own and
    the usable cores; None where the sampler saw nothing."""
    others = other_cores(machine_cores, own_cores)
    own, cores = _finite(own_cores), _finite(usable)
    if others is None or own is None or cores is None:
        return None
    return others >= OTHER_CORES and own + others >= cores - IDLE_MARGIN


def is_crowded(row: Row) -> bool:
    """Whether a stored round was crowded: its ``crowded`` flag, judged as it was measured;
    rows without one (older files) judged from their columns; unknown reads False."""
    stored = row.get("crowded")
    if isinstance(stored, bool):
        return stored
    usable, quota = _finite(row.get("usable_cpus")), _finite(row.get("cpu_quota"))
    cores = None if usable is None else usable_cores(usable, quota)
    return bool(round_crowded(row.get("system_cores_busy"), row.get("cores_used"), cores))


def _numbers(rows: pd.DataFrame, name: str) -> pd.Series:
    import pandas as pd

    if name not in rows:
        return pd.Series(math.nan, index=rows.index, dtype="float64")
    return pd.to_numeric(rows[name], errors="coerce").astype("float64")


def other_cores_busy(rows: pd.DataFrame) -> pd.Series:
    """``other_cores`` per row (NaN where the sampler was off or the columns are missing)."""
    return (_numbers(rows, "system_cores_busy") - _numbers(rows, "cores_used")).clip(lower=0.0)


def usable_cores_of(rows: pd.DataFrame) -> pd.Series:
    """``usable_cores`` per row (NaN where unknown)."""
    usable = _numbers(rows, "usable_cpus")
    quota = _numbers(rows, "cpu_quota")
    return usable.where(quota.isna() | (usable <= quota), quota)


def crowded(rows: pd.DataFrame) -> pd.Series:
    """``is_crowded`` per row."""
    others = other_cores_busy(rows)
    own = _numbers(rows, "cores_used")
    computed = (others >= OTHER_CORES) & (own + others >= usable_cores_of(rows) - IDLE_MARGIN)
    if "crowded" in rows:
        stored = rows["crowded"].astype("boolean")
        computed = stored.where(stored.notna(), computed)
    return computed.fillna(False).astype("bool")


@dataclass(frozen=True, slots=True)
class Crowding:
    """What the sampler saw over a set of measured rounds."""

    other_cores: float  # median over the rounds; NaN without sampler data
    crowded_rounds: int
    rounds: int

    @property
    def crowded(self) -> bool:
        """A quarter of the rounds or more were crowded: enough to move a median."""
        return self.rounds > 0 and self.crowded_rounds * 4 >= self.rounds

    def describe(self) -> str:
        return (
            f"other processes kept {fmt.number(self.other_cores, '.1f')} cores busy (median) "
            f"and the machine "
            f"was full in {self.crowded_rounds} of {self.rounds} rounds"
        )


def crowding(rows: pd.DataFrame) -> Crowding:
    """The crowding of ``rows`` (measured rounds)."""
    others = other_cores_busy(rows).dropna()
    return Crowding(
        other_cores=float(others.median()) if len(others) else math.nan,
        crowded_rounds=int(crowded(rows).sum()),
        rounds=len(others),
    )


# --------------------------------------------------------------------- the quiet-round rule


def quiet_keep(flags: Sequence[bool]) -> tuple[list[bool], bool]:
    """The quiet-round rule for one variant's measured rounds, given whether each was
    crowded: which rounds to keep, and whether the variant is busy (crowded rounds, and
    fewer than MIN_QUIET_ROUNDS quiet ones: all are kept, and nothing may rest on them)."""
    quiet = sum(1 for flag in flags if not flag)
    if quiet == len(flags) or quiet < MIN_QUIET_ROUNDS:
        return [True] * len(flags), quiet < len(flags)
    return [not flag for flag in flags], False


def quiet_rows(rows: Sequence[Row]) -> list[Row] | None:
    """One variant's measured rows under the quiet-round rule; None when it is busy."""
    counted = [row for row in rows if is_measured(row)]
    keep, busy = quiet_keep([is_crowded(row) for row in counted])
    return None if busy else [row for row, kept in zip(counted, keep, strict=True) if kept]


@dataclass(frozen=True, slots=True)
class BusyVariant:
    """A variant judged busy: it had too few quiet rounds."""

    key: VariantKey
    crowded_rounds: int
    rounds: int

    @property
    def label(self) -> str:
        return variant_label(self.key[2], self.key[3])


@dataclass(frozen=True, slots=True)
class QuietSelection:
    """Measured rounds under the quiet-round rule, and the variants it found busy."""

    rows: pd.DataFrame
    busy: tuple[BusyVariant, ...]
    #: crowded rounds left out of variants with quiet ones to spare
    dropped: int

    @property
    def busy_variants(self) -> frozenset[VariantKey]:
        return frozenset(variant.key for variant in self.busy)

    def busy_reason(self) -> str:
        return busy_reason(self.busy)


def busy_reason(busy: Iterable[BusyVariant]) -> str:
    """"machine busy: 4 of 5 rounds of threads-2 crowded; rerun on a quiet machine"."""
    parts = [f"{v.crowded_rounds} of {v.rounds} rounds of {v.label}" for v in busy]
    return f"machine busy: {', '.join(parts)} crowded; rerun on a quiet machine"


def quiet_rounds(rows: pd.DataFrame) -> QuietSelection:
    """``quiet_keep`` per variant of ``rows`` (measured rounds), vectorised."""
    if rows.empty or not set(VARIANT_KEYS) <= set(rows.columns):
        return QuietSelection(rows, (), 0)
    flags = crowded(rows)
    if not flags.any():
        return QuietSelection(rows, (), 0)
    keys = rows[VARIANT_KEYS].assign(params=rows["params"].astype(object).fillna(""))
    groups = [keys[k] for k in VARIANT_KEYS]
    quiet = (~flags).groupby(groups, sort=False, observed=True).transform("sum")
    total = flags.groupby(groups, sort=False, observed=True).transform("size")
    any_crowded = flags.groupby(groups, sort=False, observed=True).transform("any")
    busy_rows = any_crowded.astype(bool) & (quiet < MIN_QUIET_ROUNDS)
    keep = ~flags | busy_rows
    busy = [
        BusyVariant(variant_key(dict(zip(VARIANT_KEYS, key, strict=True))), int(n - q), int(n))
        for key, q, n in zip(
            keys[busy_rows].itertuples(index=False, name=None),
            quiet[busy_rows],
            total[busy_rows],
            strict=True,
        )
    ]
    unique = tuple(dict.fromkeys(busy))  # one per variant, in first-seen order
    return QuietSelection(rows[keep], unique, int((~keep).sum()))
