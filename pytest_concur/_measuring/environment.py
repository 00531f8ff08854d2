"""Who ran the experiment: interpreter, build, GIL state, CPUs, host, tox env, xdist worker."""

from __future__ import annotations

import math
import os
import platform
import secrets
import socket
import sys
import sysconfig
from dataclasses import dataclass
from datetime import UTC, datetime

from .cpu_quota import cpu_quota, usable_cores

#: CPython 3.13+'s probe of the GIL (looked up once: a row asks every round)
_IS_GIL_ENABLED = getattr(sys, "_is_gil_enabled", None)


def gil_enabled() -> bool:
    """Whether the GIL is on right now (always True before 3.13)."""
    probe = _IS_GIL_ENABLED
    if probe is None:
        return True
    state: object = probe()
    return state is True


def free_threaded_build() -> bool:
    """Whether this interpreter was built with ``--disable-gil``."""
    flag: object = sysconfig.get_config_var("Py_GIL_DISABLED")
    return flag == 1


def usable_cpus(quota: float | None = None) -> int:
    """CPUs this process may run on (affinity, PYTHON_CPU_COUNT and a CPU quota respected).

    Under a quota of 0.5 cores the process still runs on one CPU at a time; under 1.5,
    on two: the count is the quota rounded up, never above the affinity mask.
    """
    return min(_affinity_cpus(), max(1, math.ceil(quota))) if quota else _affinity_cpus()


def _affinity_cpus() -> int:
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        count = counter()
        if count:
            return int(count)
    override = os.environ.get("PYTHON_CPU_COUNT", "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    affinity = getattr(os, "sched_getaffinity", None)  # missing on macOS and Windows
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def load_average() -> float:
    """The 1-minute load average; NaN where the system has none (Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return math.nan


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def new_run_id(now: datetime) -> str:
    """Sortable and unique across parallel sessions: time, host-independent randomness."""
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Environment:
    """Session-wide facts stored with every row (``_running/row.py`` puts them there)."""

    run_id: str
    started_at: datetime
    host: str
    python: str
    implementation: str
    free_threaded: bool
    tox_env: str | None
    cpu_model: str
    logical_cpus: int
    usable_cpus: int
    platform: str
    #: cores' worth of CPU time the cgroup quota allows; None where there is none
    cpu_quota: float | None = None

    @property
    def usable_cores(self) -> float:
        """What the process can use at once: its CPUs, or fewer cores' worth under a quota."""
        return usable_cores(self.usable_cpus, self.cpu_quota)


def current_environment(
    run_id: str | None = None, started_at: datetime | None = None
) -> Environment:
    now = started_at or datetime.now(UTC)
    quota = cpu_quota()
    version = ".".join(str(part) for part in sys.version_info[:3])
    return Environment(
        run_id=run_id or new_run_id(now),
        started_at=now,
        host=socket.gethostname(),
        python=version + ("t" if free_threaded_build() else ""),
        implementation=platform.python_implementation(),
        free_threaded=free_threaded_build(),
        tox_env=os.environ.get("TOX_ENV_NAME") or None,
        cpu_model=cpu_model(),
        logical_cpus=os.cpu_count() or 1,
        usable_cpus=usable_cpus(quota),
        platform=platform.platform(),
        cpu_quota=quota,
    )
