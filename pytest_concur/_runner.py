"""The ``concur`` fixture's object: runs work under the current model and worker count."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, final

from .models import Model, ModelOptions, Pool


@dataclass(frozen=True, slots=True)
class RoundCosts:
    """Time one round spent starting and stopping the model's workers."""

    startup_s: float
    shutdown_s: float


@final
class Concur:
    """The runner for one experiment variant; ``concur.map`` is all most tests need.

    Workers start on the first ``map`` of a round and stop when the round ends, both
    inside the timed window: their cost is part of the answer, and it is also stored
    on its own (``startup_s``, ``shutdown_s``).
    """

    def __init__(self, model: Model, workers: int, options: ModelOptions) -> None:
        self._model = model
        self._workers = workers
        self._options = options
        self._pool: Pool | None = None
        self._startup_s = 0.0

    @property
    def model(self) -> str:
        """The model's name, e.g. ``"threads"``."""
        return self._model.name

    @property
    def workers(self) -> int:
        """How many workers this variant runs (1 for serial)."""
        return self._workers

    @property
    def start_method(self) -> str | None:
        """The process start method chosen for this experiment, if any."""
        return self._options.start_method

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Run ``fn`` over ``items`` under this model; results come back in order.

        ``fn`` may be a plain or a coroutine function; for process-based models it
        must be importable (defined at module level) so it can be pickled.
        """
        if self._pool is None:
            started = time.perf_counter()
            self._pool = self._model.start(self._workers, self._options)
            self._startup_s += time.perf_counter() - started
        return self._pool.map(fn, items)

    def _end_round(self) -> RoundCosts:
        """Stop the round's workers; called by the plugin inside the timed window."""
        shutdown = 0.0
        if self._pool is not None:
            started = time.perf_counter()
            try:
                self._pool.close()
            finally:
                self._pool = None
                shutdown = time.perf_counter() - started
        costs = RoundCosts(self._startup_s, shutdown)
        self._startup_s = 0.0
        return costs

    def __repr__(self) -> str:
        return f"<Concur model={self.model!r} workers={self.workers}>"
