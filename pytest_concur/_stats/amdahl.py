"""Amdahl's law fitted to measured speedups: the parallel fraction and the ceiling it implies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AmdahlFit:
    """Least-squares fit of ``1/speedup = (1 - p) + p/n`` with ``p`` held in [0, 1].

    ``parallel_fraction`` is ``p``; ``ceiling`` the speedup the fit predicts for
    unlimited workers (``1 / (1 - p)``, infinite when ``p`` is 1); ``rmse`` the root
    mean square error of the fit on the ``1/speedup`` scale it was made on.
    """

    parallel_fraction: float
    ceiling: float
    points: int
    rmse: float

    def predict(self, workers: float) -> float:
        """The speedup the fit predicts at ``workers`` workers."""
        p = self.parallel_fraction
        return 1.0 / ((1.0 - p) + p / workers)


def fit_amdahl(workers: Sequence[float], speedups: Sequence[float]) -> AmdahlFit | None:
    """Fit Amdahl's law to (worker count, speedup) points; None when nothing can be fitted.

    The model ``y = 1/speedup = 1 - p * x`` with ``x = 1 - 1/n`` is linear in ``p`` with
    no free intercept, so the unconstrained least-squares ``p`` has a closed form; the
    objective is a one-dimensional convex quadratic, so clipping that ``p`` to [0, 1]
    gives the constrained optimum. Points need a positive, finite speedup; at least one
    point must have more than one worker (``n = 1`` says nothing about ``p``).
    """
    if len(workers) != len(speedups):
        raise ValueError(f"{len(workers)} worker counts but {len(speedups)} speedups")
    xs: list[float] = []
    ys: list[float] = []
    for n, speedup in zip(workers, speedups, strict=True):
        if not (math.isfinite(n) and n >= 1 and math.isfinite(speedup) and speedup > 0):
            continue
        xs.append(1.0 - 1.0 / n)
        ys.append(1.0 / speedup)
    sxx = math.fsum(x * x for x in xs)
    if not xs or sxx <= 0.0:
        return None
    # minimise sum((1 - p x - y)^2): d/dp = 0 gives p = sum(x (1 - y)) / sum(x^2)
    unconstrained = math.fsum(x * (1.0 - y) for x, y in zip(xs, ys, strict=True)) / sxx
    p = min(1.0, max(0.0, unconstrained))
    rmse = math.sqrt(
        math.fsum((1.0 - p * x - y) ** 2 for x, y in zip(xs, ys, strict=True)) / len(xs)
    )
    ceiling = math.inf if p >= 1.0 else 1.0 / (1.0 - p)
    return AmdahlFit(parallel_fraction=p, ceiling=ceiling, points=len(xs), rmse=rmse)
