"""How many rounds one item runs: its plan (:func:`plan_rounds`), then the schedule that
runs warm-up, then measured rounds until the plan is met.

The round loop asks the schedule for the next round index and shows it each finished
row. A fixed plan counts passed measured rounds up to ``rounds``; an adaptive one
(_stats/sequential.py) stops when its rule says so. Crowded rounds (_running/retry.py)
do not count while repeats are left: the schedule waits for a quiet machine and runs
another. It annotates each row with what it decided (the columns below).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from .._rounds.counting import is_measured, usable_cores
from .._stats.sequential import AdaptiveRule, SequentialDesign
from .configuration import (
    AUTO,
    DEFAULT_QUIET_WAIT_S,
    DEFAULT_ROUNDS,
    DEFAULT_WARMUP,
    QUICK_ROUNDS,
    QUICK_WARMUP,
    Settings,
)
from .retry import CrowdedRetry
from .spec import ExperimentSpec


@dataclass(frozen=True, slots=True)
class RoundPlan:
    """One item's rounds: warm-up, measured rounds, and how they may stop or repeat."""

    warmup: int
    rounds: int
    #: adaptive rounds: the stopping rule (``rounds`` is then its maximum)
    adaptive: SequentialDesign | None = None
    #: crowded rounds measured again per item, after up to quiet_wait_s for a quiet machine
    crowded_retries: int = 0
    quiet_wait_s: float = DEFAULT_QUIET_WAIT_S
    #: the round's time limit: the marker's, else the command line's or ini's (as
    #: pytest-timeout does); None: no limit
    timeout: float | None = None


def plan_rounds(settings: Settings, spec: ExperimentSpec) -> RoundPlan:
    """One item's rounds, each from the command line, then the marker, then ini, then default.

    ``--concur-quick`` caps what the command line did not set. Adaptive rounds: the
    command line's ``auto`` holds everywhere; an ini ``auto`` gives way where a count was
    set; a marker's ``rounds="auto"`` gives way to the command line's count and to
    ``--concur-quick``.
    """
    marker_auto = spec.rounds == AUTO
    marker_count = spec.rounds if isinstance(spec.rounds, int) else None
    rounds = next(
        v
        for v in (settings.rounds, marker_count, settings.ini_rounds, DEFAULT_ROUNDS)
        if v is not None
    )
    warmup = next(
        v
        for v in (settings.warmup, spec.warmup, settings.ini_warmup, DEFAULT_WARMUP)
        if v is not None
    )
    if settings.quick:
        rounds = rounds if settings.rounds is not None else min(rounds, QUICK_ROUNDS)
        warmup = warmup if settings.warmup is not None else min(warmup, QUICK_WARMUP)
    counted = settings.rounds is not None or settings.quick or marker_count is not None
    auto = settings.auto_rounds
    adaptive = auto.everywhere and not (auto.from_ini and counted)
    if marker_auto and not counted:
        adaptive = True
    design = auto.design() if adaptive else None
    timeout = spec.timeout if spec.timeout is not None else settings.timeout
    return RoundPlan(
        warmup, rounds, design, settings.crowded_retries, settings.quiet_wait_s, timeout
    )


#: asked at each look of adaptive rounds, with the item's measured rows so far and its
#: counted rounds: why the claims no longer need this variant's rounds, or None
ClaimsCheck = Callable[[Sequence[Mapping[str, Any]], int], str | None]


class ScheduleColumns(TypedDict):
    """The row's columns the schedule decides (see ``RoundSchedule.observe``)."""

    repeat_of: int | None
    quiet_wait_s: float | None
    rel_half_width: float | None
    stop_reason: str | None


class RoundSchedule:
    """Yields round indices; ``observe`` each row before it is stored."""

    def __init__(
        self,
        warmup: int,
        rounds: int,
        *,
        adaptive: SequentialDesign | None = None,
        retry: CrowdedRetry | None = None,
        claims: ClaimsCheck | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.warmup = warmup
        self.rounds = rounds if adaptive is None else adaptive.max_rounds
        self.rule = AdaptiveRule(adaptive) if adaptive is not None else None
        self.retry = retry
        self._claims = claims
        self._measured: list[Mapping[str, Any]] = []  # passed measured rows, crowded too
        self._clock = clock
        self._started = clock()
        self._index = 0
        self._counted = 0
        self._done = False
        self._repeat_of: int | None = None
        self._wait_after: tuple[float, float] | None = None  # (own cores, usable cpus)
        self._waited_s: float | None = None

    def __iter__(self) -> Iterator[int]:
        while self._index < self.warmup:
            yield self._index
            self._index += 1
        while not self._done and self._counted < self.rounds:
            if self._wait_after is not None and self.retry is not None:
                self._waited_s = self.retry.wait_for_quiet(*self._wait_after)
                self._wait_after = None
            yield self._index
            self._index += 1

    def observe(self, row: Mapping[str, Any]) -> ScheduleColumns:
        """Count the round (or not); returns the schedule's columns of its row:
        ``repeat_of`` (the crowded round this one measures again), ``quiet_wait_s``
        (seconds waited for a quiet machine before it), ``rel_half_width`` and
        ``stop_reason`` (adaptive rounds: the rule's interval and why the item stopped)."""
        columns = ScheduleColumns(
            repeat_of=self._repeat_of,
            quiet_wait_s=self._waited_s,
            rel_half_width=None,
            stop_reason=None,
        )
        self._repeat_of = self._waited_s = None
        if not is_measured(row):
            return columns
        self._measured.append(row)
        if self.retry is not None and self.retry.wants_repeat(row.get("crowded")):
            self._repeat_of = int(row["round"])
            usable = usable_cores(float(row["usable_cpus"]), row.get("cpu_quota"))
            self._wait_after = (float(row["cores_used"]), usable)
            return columns
        self._counted += 1
        if self.rule is not None:
            check = self._claims
            stop = self.rule.add(
                float(row["wall_s"]),
                elapsed_s=self._clock() - self._started,
                claims=None if check is None else lambda: check(self._measured, self._counted),
            )
            columns["rel_half_width"] = self.rule.half_width
            if stop:
                self._done = True
                columns["stop_reason"] = self.rule.stop_reason
        return columns
