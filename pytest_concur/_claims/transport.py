"""Expectations as plain values, so they travel from xdist workers to the controller."""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .._rounds.conventions import ALPHA
from .decision import Verdict, undecided

if TYPE_CHECKING:
    import pandas as pd

_DATACLASS_KEY: Final = "__dataclass__"
_TUPLE_KEY: Final = "__tuple__"
_OPAQUE_KEY: Final = "__opaque__"


def encode(value: Any) -> Any:
    """A dataclass expectation as plain values (dicts, lists, str, numbers) for xdist.

    Any dataclass travels, the user's own included, as its importable name and fields;
    anything else becomes an opaque marker that :func:`decode` reports as unsendable.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_DATACLASS_KEY: f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if isinstance(value, tuple):
        return {_TUPLE_KEY: [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, frozenset | set):
        return {_TUPLE_KEY: [encode(item) for item in sorted(value, key=repr)]}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return {_OPAQUE_KEY: repr(value)}


@dataclass(frozen=True, slots=True)
class Unsendable:
    """An expectation that could not cross from an xdist worker: says so as its verdict."""

    text: str

    def describe(self) -> str:
        return self.text

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        return undecided(
            self.text,
            "",
            "",
            "this expectation is not a dataclass, so it could "
            "not be sent from the xdist worker; make it a frozen dataclass",
            ALPHA,
        )


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if _TUPLE_KEY in value:
        return tuple(decode(item) for item in value[_TUPLE_KEY])
    if _OPAQUE_KEY in value:
        return Unsendable(str(value[_OPAQUE_KEY]))
    if _DATACLASS_KEY in value:
        module_name, _, qualname = str(value[_DATACLASS_KEY]).partition(":")
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        if not (isinstance(target, type) and dataclasses.is_dataclass(target)):
            return Unsendable(f"{value[_DATACLASS_KEY]} (not a dataclass)")
        fields = {name: decode(item) for name, item in value["fields"].items()}
        return target(**fields)
    return {key: decode(item) for key, item in value.items()}
