"""What surrounds one measured round besides the measurement: time limit, per-core
sampling, task spans, and killing what a failed round left behind."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._warning_types import MeasurementWarning
from .sampler import CoreSamples, CoreSampling
from .spans import TaskSpan, task_rows
from .timeout import Deadline, descendants, kill_new_descendants


@dataclass(frozen=True, slots=True)
class WatchReadings:
    """A round's figures that come from its watch; None where that part was off."""

    timeout_s: float | None
    sample_interval_s: float | None
    system_cores_busy: float | None
    sampler_cpu_s: float | None


@dataclass(slots=True)
class RoundWatch:
    """One round's watch: ``begin`` before the measured region, ``end`` after it."""

    deadline: Deadline
    sampling: CoreSampling | None
    sampling_on: bool = False
    sampler_cpu_before: float | None = None
    round_start_ns: int = 0
    exclude: tuple[int, ...] = field(default=())

    @classmethod
    def begin(cls, *, timeout: float | None, sampling: CoreSampling | None) -> RoundWatch:
        sampling_on = sampling.begin() if sampling is not None else False
        exclude = sampling.exclude if sampling is not None else ()
        # processes alive now are not the round's: only newer ones are killed if it fails
        before = frozenset(descendants(exclude))
        return cls(
            deadline=Deadline(timeout, before, exclude),
            sampling=sampling,
            sampling_on=sampling_on,
            sampler_cpu_before=sampling.cpu_s() if sampling_on and sampling else None,
            exclude=exclude,
        )

    def end(self, error: BaseException | None) -> CoreSamples | None:
        """Stop sampling; after a failed round, kill every process it started."""
        samples = self.sampling.end() if self.sampling_on and self.sampling else None
        if error is not None:
            result = kill_new_descendants(self.deadline.before, exclude=self.exclude)
            if result.survivors:
                warnings.warn(
                    MeasurementWarning(
                        f"processes {list(result.survivors)} started in a failed round "
                        f"were killed but did not end"
                    ),
                    stacklevel=2,
                )
        return samples

    def readings(self, samples: CoreSamples | None) -> WatchReadings:
        """What the watch saw of the round, for its row."""
        sampler_cpu: float | None = None
        if self.sampler_cpu_before is not None and self.sampling is not None:
            after = self.sampling.cpu_s()
            sampler_cpu = None if after is None else after - self.sampler_cpu_before
        return WatchReadings(
            timeout_s=self.deadline.seconds,
            sample_interval_s=samples.interval_s if samples is not None else None,
            system_cores_busy=samples.cores_busy() if samples is not None else None,
            sampler_cpu_s=sampler_cpu,
        )

    def has_timeline(self, spans: list[TaskSpan] | None, samples: CoreSamples | None) -> bool:
        """Whether :meth:`timeline_rows` can give any row: task spans, or an interval
        between samples that reaches into the round (a round shorter than the sampling
        interval usually has none), so that most short rounds skip making them."""
        if spans:
            return True
        if samples is None:
            return False
        times = samples.times_ns
        return len(times) > 1 and times[-1] > self.round_start_ns

    def timeline_rows(
        self,
        keys: Mapping[str, Any],
        spans: list[TaskSpan] | None,
        samples: CoreSamples | None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Rows of the ``tasks`` and ``cores`` tables for this round."""
        tasks = task_rows(spans or [], keys=keys, round_start_ns=self.round_start_ns)
        cores = (
            samples.rows(keys=keys, round_start_ns=self.round_start_ns)
            if samples is not None
            else []
        )
        return tasks, cores
