"""Concurrency models behind one interface; third parties register more (see docs/models.md)."""

from __future__ import annotations

from ._base import Model, ModelOptions, Pool
from .event_loop import AsyncioModel
from .processes import ProcessesModel
from .serial import SerialModel
from .threads import ThreadsModel

__all__ = [
    "AsyncioModel",
    "Model",
    "ModelOptions",
    "Pool",
    "ProcessesModel",
    "SerialModel",
    "ThreadsModel",
    "builtin_models",
]


def builtin_models() -> list[Model]:
    """The models that ship with pytest-concur, in report order."""
    return [SerialModel(), ThreadsModel(), ProcessesModel(), AsyncioModel()]
