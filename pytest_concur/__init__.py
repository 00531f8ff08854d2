"""pytest-concur: concurrency experiments as pytest tests, measured, stored and judged."""

from __future__ import annotations

from ._runner import Concur
from ._warnings import ConcurWarning, GilStateWarning, MeasurementWarning
from .analysis import load

__all__ = [
    "Concur",
    "ConcurWarning",
    "GilStateWarning",
    "MeasurementWarning",
    "load",
]
