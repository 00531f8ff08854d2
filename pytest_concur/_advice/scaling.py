"""Scaling models fitted to measured speedups: Amdahl's law and the Universal Scalability
Law, predictions beyond the core counts measured, and where more cores stop paying.

The x axis is cores, not workers: a variant could use min(workers, usable CPUs, quota)
of them. A variant with more workers than that is oversubscribed: its point is not more
cores, so it is left out of the fit and shown beside it. With fewer than MIN_CORE_COUNTS
distinct core counts (serial's one included) nothing is predicted.

USL (Gunther): ``S(n) = n / (1 + sigma (n - 1) + kappa n (n - 1))``; ``sigma`` is the
serial share (contention), ``kappa`` the cost of keeping workers coherent, which makes
speedup fall past ``sqrt((1 - sigma) / kappa)`` workers. With ``kappa = 0`` it is
Amdahl's law with ``sigma = 1 - p``. Intervals are percentile bootstraps over the
measured rounds (each worker count resampled on its own, fixed seed).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from .. import _format as fmt
from .._stats.amdahl import fit_amdahl
from . import codes as c

BOOTSTRAP: Final = 200
_SEED: Final = 14


@dataclass(frozen=True, slots=True)
class ScalingFit:
    """One fitted law: its parameters and its prediction function."""

    law: str  # "usl" or "amdahl"
    sigma: float
    kappa: float
    rmse: float

    def predict(self, workers: float) -> float:
        return usl(workers, self.sigma, self.kappa)

    def stops_paying_at(self, limit: int = 4096) -> int | None:
        """The first power-of-two core count past which doubling adds under DOUBLING_GAIN."""
        n = 1
        while n <= limit:
            if self.predict(2 * n) < self.predict(n) * (1 + c.DOUBLING_GAIN):
                return n
            n *= 2
        return None


@dataclass(frozen=True, slots=True)
class Prediction:
    cores: float
    speedup: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Scaling:
    """A fit to one model's core counts, with predictions at 2x and 4x the most measured;
    ``fit`` is None (and nothing predicted) with too few distinct core counts."""

    fit: ScalingFit | None
    measured: tuple[float, ...]
    predictions: tuple[Prediction, ...]
    stops_paying_at: int | None


def usl(n: float, sigma: float, kappa: float) -> float:
    """The Universal Scalability Law's speedup at ``n`` workers."""
    return n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


def fit_law(workers: Sequence[float], speedups: Sequence[float]) -> ScalingFit | None:
    """USL where three or more worker counts were measured, else Amdahl; None if neither fits.

    USL has two parameters: with only n = 1 and one other count they trade off freely,
    so fewer than three distinct counts get Amdahl's one parameter.
    """
    points = [(float(n), float(s)) for n, s in zip(workers, speedups, strict=True)
              if math.isfinite(s) and s > 0 and n >= 1]  # fmt: skip
    counts = {n for n, _ in points}
    if len(counts) >= 3:
        fitted = _fit_usl(points)
        if fitted is not None:
            return fitted
    amdahl = fit_amdahl([n for n, _ in points], [s for _, s in points])
    if amdahl is None:
        return None
    sigma = 1.0 - amdahl.parallel_fraction
    return ScalingFit("amdahl", sigma, 0.0, _rmse(points, sigma, 0.0))


def _fit_usl(points: list[tuple[float, float]]) -> ScalingFit | None:
    from scipy.optimize import OptimizeWarning, curve_fit

    xs = np.array([n for n, _ in points])
    ys = np.array([s for _, s in points])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # covariance unknown: unused
            params, _ = curve_fit(usl, xs, ys, p0=(0.1, 0.0), bounds=([0.0, 0.0], [1.0, 10.0]))
    except (RuntimeError, ValueError):
        return None
    sigma, kappa = float(params[0]), float(params[1])
    return ScalingFit("usl", sigma, kappa, _rmse(points, sigma, kappa))


def _rmse(points: list[tuple[float, float]], sigma: float, kappa: float) -> float:
    if not points:
        return math.nan
    return math.sqrt(sum((usl(n, sigma, kappa) - s) ** 2 for n, s in points) / len(points))


def scaling_of(
    walls: Mapping[float, Sequence[float]], serial_walls: Sequence[float]
) -> Scaling | None:
    """Fit one model's wall times per core count against the serial rounds.

    Speedup per round is the serial median over that round's wall time; serial rounds
    themselves are the points at one core. None without a core count beyond one; no
    fit (and no prediction) with fewer than MIN_CORE_COUNTS distinct counts.
    """
    counts = sorted(n for n, values in walls.items() if len(values) and n >= 1)
    if not serial_walls or not any(n > 1 for n in counts):
        return None
    if len({1.0, *counts}) < c.MIN_CORE_COUNTS:
        return Scaling(None, tuple(counts), (), None)

    def fit_of(sample: Callable[[Sequence[float]], np.ndarray]) -> ScalingFit | None:
        serial = sample(serial_walls)
        base = float(np.median(serial))
        xs: list[float] = [1.0] * len(serial)
        ys: list[float] = list(base / serial)
        for n in counts:
            values = sample(walls[n])
            xs.extend([float(n)] * len(values))
            ys.extend(base / values)
        return fit_law(xs, ys)

    fit = fit_of(lambda values: np.asarray(values, dtype=float))
    if fit is None:
        return None
    rng = np.random.default_rng(_SEED)
    boots = [fit_of(lambda values: rng.choice(np.asarray(values, dtype=float), len(values)))
             for _ in range(BOOTSTRAP)]  # fmt: skip
    top = max(counts)
    predictions = []
    for factor in (2, 4):
        n = top * factor
        values = np.array([b.predict(n) for b in boots if b is not None])
        low, high = np.percentile(values, [2.5, 97.5]) if len(values) else (math.nan,) * 2
        predictions.append(Prediction(n, fit.predict(n), float(low), float(high)))
    return Scaling(fit, tuple(counts), tuple(predictions), fit.stops_paying_at())


def describe(model: str, scaling: Scaling, left_out: Sequence[str] = ()) -> str:
    """One sentence: the fit, the predictions per core count with intervals, where more
    cores stop paying, and the oversubscribed variants left out of the fit."""
    measured = ", ".join(fmt.figure(n) for n in (1.0, *scaling.measured))
    beside = f"; left out (more workers than cores): {', '.join(left_out)}" if left_out else ""
    fit = scaling.fit
    if fit is None:
        return (
            f"{model} measured on {measured} cores only: too few core counts to predict "
            f"more cores ({c.MIN_CORE_COUNTS} needed); measure on a machine with more "
            f"cores{beside}"
        )
    law = (f"USL sigma={fmt.number(fit.sigma, '.3f')} kappa={fmt.number(fit.kappa, '.4f')}"
           if fit.law == "usl" else f"Amdahl p={fmt.number(1 - fit.sigma, '.3f')}")  # fmt: skip
    parts = [
        f"{fmt.speedup(p.speedup)} ({fmt.number(p.low, '.2f')}-{fmt.speedup(p.high)}) at "
        f"{fmt.figure(p.cores)} cores"
        for p in scaling.predictions
    ]
    stop = (f"past {scaling.stops_paying_at} core(s) each doubling adds under "
            f"{fmt.percent(c.DOUBLING_GAIN)}" if scaling.stops_paying_at is not None
            else "doubling keeps paying")  # fmt: skip
    return (
        f"{model} fitted on {measured} cores ({law}): predicts {'; '.join(parts)}; {stop}{beside}"
    )
