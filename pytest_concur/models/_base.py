"""The one small interface every concurrency model implements."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ModelOptions:
    """Settings a model may honour; each model documents which it uses."""

    start_method: str | None = None


@runtime_checkable
class Pool(Protocol):
    """A started model: runs tasks until closed."""

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Run ``fn`` on every item, return the results in order."""
        ...

    def close(self) -> None:
        """Stop every worker and wait for them."""
        ...


@runtime_checkable
class Model(Protocol):
    """A concurrency model: its name, whether it runs here, and how to start it."""

    name: str
    summary: str

    def unavailable(self) -> str | None:
        """None when the model can run here, otherwise the reason it cannot."""
        ...

    def start(self, workers: int, options: ModelOptions) -> Pool:
        """Start ``workers`` workers, ready to take tasks when this returns."""
        ...


def is_coroutine_function(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


def call_blocking(fn: Callable[[Any], Any], item: Any) -> Any:
    """Call ``fn`` on a thread that has no running loop; coroutines get a loop of their own."""
    if is_coroutine_function(fn):
        return asyncio.run(fn(item))
    return fn(item)
