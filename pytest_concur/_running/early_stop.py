"""Adaptive rounds stopped early once the claims are decided (``--concur-rounds auto``).

For an experiment item that states expectations, :func:`early_stop` gives the check its
round schedule asks at each look (whether the claims still need this variant's rounds,
_claims/interim.py) and keeps the item's rows when it ends, for the variants of the
experiment measured after it in this process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from .._claims.interim import InterimClaims
from .._claims.selection import Candidate
from .._stats.sequential import SequentialDesign
from .experiment import experiment_of
from .xdist import distribution

#: xdist distributions that send all items of a test module to one worker, in order
_ORDERED_DISTRIBUTIONS = ("loadscope", "loadfile")


@dataclass
class _Interims:
    """The session's interim claims, and each experiment's run order."""

    interim: InterimClaims
    orders: dict[str, list[Candidate]] = field(default_factory=dict)


_INTERIMS = pytest.StashKey[_Interims]()


def _candidate(item: pytest.Item) -> Candidate | None:
    from .rounds import describe_params

    experiment = experiment_of(item)
    callspec = getattr(item, "callspec", None)
    if experiment is None or callspec is None:
        return None
    params = {name: value for name, value in callspec.params.items() if name != "concur"}
    variant = experiment.variant
    return Candidate(variant.model, variant.workers, describe_params(params)[1])


def _order(session: pytest.Session, experiment: str) -> list[Candidate]:
    """The experiment's variants in the order this session runs its items."""
    order: list[Candidate] = []
    for item in session.items:
        found = experiment_of(item)
        candidate = _candidate(item) if found is not None and found.id == experiment else None
        if candidate is not None and candidate not in order:
            order.append(candidate)
    return order


@dataclass(frozen=True, slots=True)
class ItemEarlyStop:
    """One item's view: ask ``check`` at each look, call ``done`` with its rows at the end."""

    interims: _Interims
    experiment: str
    expectations: Sequence[object]
    current: Candidate
    order_known: bool

    def check(self, rows: Sequence[Mapping[str, Any]], counted: int) -> str | None:
        return self.interims.interim.stop_reason(
            self.experiment,
            self.expectations,
            self.interims.orders[self.experiment],
            self.current,
            rows,
            counted,
            order_known=self.order_known,
        )

    def done(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.interims.interim.remember(self.experiment, self.current, rows)


def early_stop(item: pytest.Item, design: SequentialDesign | None) -> ItemEarlyStop | None:
    """The item's early stop, or None: not adaptive, or its experiment states no
    expectations."""
    experiment = experiment_of(item)
    current = _candidate(item)
    if design is None or experiment is None or current is None or not experiment.spec.expect:
        return None
    config = item.config
    interims = config.stash.get(_INTERIMS, None)
    if interims is None:
        interims = _Interims(InterimClaims(design.looks(), design.min_rounds))
        config.stash[_INTERIMS] = interims
    if experiment.id not in interims.orders:
        interims.orders[experiment.id] = _order(item.session, experiment.id)
    dist = distribution(config)  # None: not an xdist worker, this process runs them all
    return ItemEarlyStop(
        interims,
        experiment.id,
        experiment.spec.expect,
        current,
        order_known=dist is None or dist in _ORDERED_DISTRIBUTIONS,
    )
