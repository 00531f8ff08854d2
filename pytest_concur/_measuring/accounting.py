"""Which accounting backend measures the process tree: Linux's /proc, or portable psutil.

``proc`` (docs/measurement.md) needs Linux's /proc and the ``resource`` module; it is the
default wherever both exist. ``psutil`` works on macOS and Windows too, coarser; it is
chosen where ``proc`` cannot work, or asked for with ``--concur-accounting psutil``, the
ini key ``concur_accounting`` or ``CONCUR_ACCOUNTING=psutil`` (so CI can run the
end-to-end tests through it on Linux).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Final, Protocol

from .usage import Measured

BACKENDS: Final = ("proc", "psutil")
ENV_VAR: Final = "CONCUR_ACCOUNTING"


class RegionMeter(Protocol):
    """Measures one region at a time; lives across a loop of rounds."""

    def __enter__(self) -> RegionMeter: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def measure(
        self, body: Callable[[], object], *, exclude: Collection[int] = ()
    ) -> Measured: ...


@dataclass(frozen=True, slots=True)
class AccountingBackend:
    """A backend and what the session can use beside it."""

    name: str
    meter: Callable[[], RegionMeter]
    #: the session becomes a child subreaper (Linux only), so orphans are counted
    uses_subreaper: bool
    #: the per-core sampler can run (it reads /proc/stat)
    samples_cores: bool


def proc_unavailable() -> str | None:
    """Why the /proc backend cannot work here; None where it can."""
    if not sys.platform.startswith("linux") or not os.path.exists("/proc/self/stat"):
        return "there is no Linux /proc on this system"
    try:
        importlib.import_module("resource")
    except ImportError:
        return "the resource module is missing"
    return None


def _proc_meter() -> RegionMeter:
    from .proc_meter import Meter

    return Meter()


def _psutil_meter() -> RegionMeter:
    from .accounting_psutil import PsutilMeter

    return PsutilMeter()


def choose_backend(requested: str | None) -> AccountingBackend:
    """The backend asked for, or the best one here; ValueError if ``proc`` cannot work."""
    reason = proc_unavailable()
    if requested not in (None, *BACKENDS):
        raise ValueError(f"unknown accounting backend {requested!r}; choose from: proc, psutil")
    if requested == "proc" and reason is not None:
        raise ValueError(f"the proc accounting backend cannot work here: {reason}")
    if requested == "psutil" or reason is not None:
        # on Linux (psutil asked for) the subreaper and the sampler still work: orphans
        # come back to the session, where psutil finds them like any descendant
        return AccountingBackend("psutil", _psutil_meter, uses_subreaper=reason is None,
                                 samples_cores=reason is None)  # fmt: skip
    return AccountingBackend("proc", _proc_meter, uses_subreaper=True, samples_cores=True)
