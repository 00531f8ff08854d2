"""Crowded rounds measured again: wait (bounded) for the machine to quiet, then repeat.

A round is crowded when other processes kept a real share of a core busy while the
machine had no CPU to spare (_measuring/crowding.py). Such a round stays stored and
flagged, but does not count toward the item's rounds while repeats are left: the policy
waits until the machine looks quiet (as the per-core sampler saw it since the round
ended) and the round loop measures another. A wait that runs out means the machine is
busy for longer than a round: the item stops repeating, and the statistics say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from .._rounds.counting import round_crowded
from .configuration import DEFAULT_QUIET_WAIT_S, DEFAULT_RETRIES

_POLL_S: Final = 0.1

#: cores busy machine-wide since a monotonic instant (ns), None when nobody can say
Probe = Callable[[int], float | None]


@dataclass(slots=True)
class CrowdedRetry:
    """The per-item policy: ``limit`` repeats, each after at most ``max_wait_s`` of waiting."""

    limit: int = DEFAULT_RETRIES
    max_wait_s: float = DEFAULT_QUIET_WAIT_S
    probe: Probe = field(default=lambda since_ns: None)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now_ns: Callable[[], int] = time.monotonic_ns
    poll_s: float = _POLL_S
    used: int = 0
    gave_up: bool = False

    def wants_repeat(self, row_crowded: bool | None) -> bool:
        """Whether a measured round with this ``crowded`` flag should be measured again."""
        return bool(row_crowded) and not self.gave_up and self.used < self.limit

    def wait_for_quiet(self, own_cores: float, usable_cpus: float) -> float:
        """Wait until a round like the last would not be crowded; returns seconds waited.

        Counts one repeat. When the wait runs out the machine stayed busy: no more
        repeats for this item (the repeat still runs, and will likely be crowded too).
        """
        self.used += 1
        started = self.clock()
        since = self.now_ns()
        while True:
            self.sleep(self.poll_s)
            machine = self.probe(since)
            waited = self.clock() - started
            if machine is None:  # nobody watches the machine: nothing to wait for
                return waited
            # between rounds the machine's busy cores are the others' alone
            if not round_crowded(machine + own_cores, own_cores, usable_cpus):
                return waited
            if waited >= self.max_wait_s:
                self.gave_up = True
                return waited
            since = self.now_ns() - int(self.poll_s * 1e9)
