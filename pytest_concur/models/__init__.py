"""Concurrency models behind one interface; third parties register more (see docs/models.md)."""

from __future__ import annotations

from ._base import InterpreterLoadError, Model, ModelOptions, Pool, WorkerDiedError
from ._registry import ENTRY_POINT_GROUP, ModelRegistryError, all_models
from .asyncio_processes import AsyncioProcessesModel
from .dask_cluster import DaskModel
from .event_loop import AsyncioModel
from .greenlets import GeventModel
from .processes import ProcessesModel
from .serial import SerialModel
from .subinterpreters import SubinterpretersModel
from .threads import ThreadsModel

__all__ = [
    "ENTRY_POINT_GROUP",
    "AsyncioModel",
    "AsyncioProcessesModel",
    "DaskModel",
    "GeventModel",
    "InterpreterLoadError",
    "Model",
    "ModelOptions",
    "ModelRegistryError",
    "Pool",
    "ProcessesModel",
    "SerialModel",
    "SubinterpretersModel",
    "ThreadsModel",
    "WorkerDiedError",
    "all_models",
    "builtin_models",
]


def builtin_models() -> list[Model]:
    """The models that ship with pytest-concur, in report order."""
    return [
        SerialModel(),
        ThreadsModel(),
        ProcessesModel(),
        AsyncioModel(),
        AsyncioProcessesModel(),
        SubinterpretersModel(),
        GeventModel(),
        DaskModel(),
    ]
