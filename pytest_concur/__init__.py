"""pytest-concur: concurrency experiments as pytest tests, measured, stored and judged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import workloads
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
    from ._measuring.timeout import RoundTimeout
    from ._running.fixture import Concur
    from ._warning_types import (
        ConcurWarning,
        GilStateWarning,
        MeasurementWarning,
        ResultsFileWarning,
    )
    from .analysis import (
        amdahl,
        compare,
        efficiency,
        load,
        load_tasks,
        load_verdicts,
        speedup,
        summarize,
    )
    from .models import WorkerDiedError

# Everything loads on first use. Every pytest run in an environment with
# the plugin imports this package (the plugin's own module lives in it): a run without
# experiments must not pay for asyncio, the models or pandas. Worker processes (forkserver
# and spawn children too) and subinterpreters import it to unpickle their tasks, and must
# neither pay for pandas in their measured start-up nor fail on numpy, which
# subinterpreters cannot load. Names listed here resolve through __getattr__.
_LAZY = {
    "workloads": "",
    "RoundTimeout": "_measuring.timeout",
    "Concur": "_running.fixture",
    "WorkerDiedError": "models",
    **dict.fromkeys(
        ("ConcurWarning", "GilStateWarning", "MeasurementWarning", "ResultsFileWarning"),
        "_warning_types",
    ),
    **dict.fromkeys(
        ("amdahl", "compare", "efficiency", "load", "load_tasks", "load_verdicts", "speedup",
         "summarize"),
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

    if not module:  # a subpackage
        value: Any = import_module(f".{name}", __name__)
    else:
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
    "load_tasks",
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
