"""Experiment items: the marker parsed once per test function, carried by each of its items.

``pytest_generate_tests`` parses the ``concur`` marker into an :class:`ExperimentSpec`
once and parametrizes the ``concur`` fixture with one :class:`Experiment` per variant;
every later stage (deselection, the fixture, the round loop, claims) reads it back with
:func:`experiment_of` instead of parsing the marker again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from .spec import ExperimentSpec, variant_id

if TYPE_CHECKING:
    from .configuration import Settings


@dataclass(frozen=True, slots=True)
class Variant:
    """One expansion of the marker: the model and worker count of a test item."""

    model: str
    workers: int

    @property
    def id(self) -> str:
        """The test id fragment: ``threads-2``, or ``serial``."""
        return variant_id(self.model, self.workers)


@dataclass(frozen=True, slots=True)
class Experiment:
    """What one experiment item runs: its experiment, the marker's spec, its variant."""

    #: the experiment's id: the test function's node id, without the parameter part
    id: str
    spec: ExperimentSpec
    variant: Variant


def experiments_of(experiment_id: str, spec: ExperimentSpec) -> list[Experiment]:
    """One Experiment per variant the spec runs, in the spec's order."""
    return [
        Experiment(experiment_id, spec, Variant(model, workers))
        for model, workers in spec.variants()
    ]


def experiment_of(item: pytest.Item) -> Experiment | None:
    """The experiment an item runs, or None: the item is not an experiment item."""
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("concur") if callspec is not None else None
    return value if isinstance(value, Experiment) else None


def deselect(config: pytest.Config, items: list[pytest.Item], settings: Settings) -> None:
    """``--concur-models``, ``--concur-workers``, ``--concur-workload``: the experiment items
    they leave out are deselected (other tests stay)."""
    if settings.models is None and settings.workers is None and settings.workloads is None:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        experiment = experiment_of(item)
        if experiment is None:
            keep.append(item)
            continue
        variant, spec = experiment.variant, experiment.spec
        selected = (
            (settings.models is None or variant.model in settings.models)
            and (settings.workloads is None or spec.workload in settings.workloads)
            and (
                settings.workers is None
                or variant.model == "serial"
                or variant.workers in settings.workers
            )
        )
        (keep if selected else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
