"""Who ran the experiment: interpreter, build, GIL state, CPUs, host, tox env, xdist worker."""

from __future__ import annotations

import os
import platform
import secrets
import socket
import sys
import sysconfig
from dataclasses import dataclass
from datetime import UTC, datetime


def gil_enabled() -> bool:
    """Whether the GIL is on right now (always True before 3.13)."""
    probe = getattr(sys, "_is_gil_enabled", None)
    if probe is None:
        return True
    state: object = probe()
    return state is True


def free_threaded_build() -> bool:
    """Whether this interpreter was built with ``--disable-gil``."""
    flag: object = sysconfig.get_config_var("Py_GIL_DISABLED")
    return flag == 1


def usable_cpus() -> int:
    """CPUs this process may run on (affinity and PYTHON_CPU_COUNT respected)."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        count = counter()
        if count:
            return int(count)
    override = os.environ.get("PYTHON_CPU_COUNT", "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    return len(os.sched_getaffinity(0))


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


def current_environment(
    run_id: str | None = None, started_at: datetime | None = None
) -> Environment:
    now = started_at or datetime.now(UTC)
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
        usable_cpus=usable_cpus(),
        platform=platform.platform(),
    )
