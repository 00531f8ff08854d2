"""pytest-concur: concurrency experiments as pytest tests, measured, stored and judged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import workloads
from ._measuring.timeout import RoundTimeout
from ._running.fixture import Concur
from ._warnings import ConcurWarning, GilStateWarning, MeasurementWarning, ResultsFileWarning
from .models import WorkerDiedError

if TYPE_CHECKING:
    from ._advice.frames import diagnose, recommend, scaling
    from ._claims.vocabulary import (
        ClaimError,
        Select,
        Verdict,
        bounded,
        cores_used,
        faster,
        not_faster,
        not_smaller,
        similar,
        smaller,
        speeds_up,
        utilization,
        variant,
    )
    from .analysis import amdahl, compare, efficiency, load, load_verdicts, speedup, summarize

# The pandas and numpy side loads on first use: worker processes (forkserver and spawn
# children too) and subinterpreters import this package to unpickle their tasks, and
# must neither pay for pandas in their measured start-up nor fail on numpy, which
# subinterpreters cannot load. Names listed here resolve through __getattr__.
_LAZY = {
    **dict.fromkeys(
        ("amdahl", "compare", "efficiency", "load", "load_verdicts", "speedup", "summarize"),
        "analysis",
    ),
    **dict.fromkeys(("diagnose", "recommend", "scaling"), "_advice.frames"),
    **dict.fromkeys(
        ("ClaimError", "Select", "Verdict", "bounded", "cores_used", "faster", "not_faster",
         "not_smaller", "similar", "smaller", "speeds_up", "utilization", "variant"),
        "_claims.vocabulary",
    ),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # imported once, then found like any other name
    return value


__all__ = [
    "ClaimError",
    "Concur",
    "ConcurWarning",
    "GilStateWarning",
    "MeasurementWarning",
    "ResultsFileWarning",
    "RoundTimeout",
    "Select",
    "Verdict",
    "WorkerDiedError",
    "amdahl",
    "bounded",
    "compare",
    "cores_used",
    "diagnose",
    "efficiency",
    "faster",
    "load",
    "load_verdicts",
    "not_faster",
    "not_smaller",
    "recommend",
    "scaling",
    "similar",
    "smaller",
    "speeds_up",
    "speedup",
    "summarize",
    "utilization",
    "variant",
    "workloads",
]
