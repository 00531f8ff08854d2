"""serial: one task after another in the test's own thread; the baseline for speedups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._base import ModelOptions, call_blocking


class _SerialPool:
    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return [call_blocking(fn, item) for item in items]

    def close(self) -> None:
        pass


class SerialModel:
    name = "serial"
    summary = "one task after another in the test's thread: the baseline"

    def unavailable(self) -> str | None:
        return None

    def start(self, workers: int, options: ModelOptions) -> _SerialPool:
        return _SerialPool()
