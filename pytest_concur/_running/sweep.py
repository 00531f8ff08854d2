"""``workers="auto"``: the worker counts a sweep measures on this machine."""

from __future__ import annotations

from .._measuring.cpu_quota import cpu_quota
from .._measuring.environment import usable_cpus

#: io work waits more than it computes: its sweep goes to this many workers per CPU.
IO_WORKERS_PER_CPU = 4


def auto_workers(workload: str, usable: int | None = None) -> tuple[int, ...]:
    """1, 2, 4, ... up to the usable CPUs (4x that for ``io``), the limit itself included.

    Under a cgroup CPU quota the usable CPUs are the quota rounded up (a container limited
    to 1.5 cores sweeps to 2 workers, not to the host's CPU count).
    """
    cpus = usable if usable is not None else usable_cpus(cpu_quota())
    limit = max(1, cpus) * (IO_WORKERS_PER_CPU if workload == "io" else 1)
    counts: list[int] = []
    count = 1
    while count < limit:
        counts.append(count)
        count *= 2
    counts.append(limit)
    return tuple(counts)
