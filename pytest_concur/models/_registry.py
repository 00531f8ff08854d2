"""Models from outside the package: the ``pytest_concur.models`` entry points and the hook."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from ._base import Model

#: ``[project.entry-points."pytest_concur.models"]`` in a third party's pyproject.toml
ENTRY_POINT_GROUP: Final = "pytest_concur.models"
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


class ModelRegistryError(ValueError):
    """A registered model that cannot be used; the message names where it came from."""


def as_models(obj: object, source: str) -> list[Model]:
    """A model, a model class, a factory, or a list of those, as model instances."""
    if isinstance(obj, type):
        cls = obj
        try:
            obj = cls()
        except TypeError as exc:
            raise ModelRegistryError(
                f"{source}: the class {cls.__qualname__} must take no arguments ({exc})"
            ) from None
    elif not isinstance(obj, Model) and callable(obj):
        obj = obj()
    if isinstance(obj, Model):
        return [obj]
    if isinstance(obj, Iterable) and not isinstance(obj, str | bytes):
        models: list[Model] = []
        for part in obj:
            models.extend(as_models(part, source))
        return models
    raise ModelRegistryError(
        f"{source}: {obj!r} is not a concurrency model (it needs `name`, `summary`, "
        f"`unavailable()` and `start(workers, options)`; see docs/models.md)"
    )


def entry_point_models() -> list[tuple[str, Model]]:
    """Every model that installed distributions declare in the entry point group."""
    from importlib.metadata import entry_points

    found: list[tuple[str, Model]] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {point.name} = {point.value} ({ENTRY_POINT_GROUP})"
        try:
            loaded = point.load()
        except Exception as exc:  # a broken third-party install: say which one
            raise ModelRegistryError(f"{source}: could not be loaded: {exc!r}") from exc
        found.extend((source, model) for model in as_models(loaded, source))
    return found


def collect_models(
    builtin: Iterable[Model],
    registered: Iterable[tuple[str, Model]],
) -> dict[str, Model]:
    """Built-in models first, then registered ones; a name used twice is an error."""
    models: dict[str, Model] = {}
    sources: dict[str, str] = {}
    for source, model in [("pytest-concur", m) for m in builtin] + list(registered):
        name = model.name
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ModelRegistryError(
                f"{source}: model name {name!r} must be letters, digits, '_', '.', '+' or '-'"
            )
        if name in models:
            raise ModelRegistryError(
                f"{source}: model name {name!r} is already taken by {sources[name]}"
            )
        models[name] = model
        sources[name] = source
    return models


def hook_models(pluginmanager: Any) -> list[tuple[str, Model]]:
    """Models returned by the ``pytest_concur_register_models`` implementations."""
    hook = pluginmanager.hook.pytest_concur_register_models
    found: list[tuple[str, Model]] = []
    # each implementation is called on its own so an error can name the plugin
    for impl in hook.get_hookimpls():
        source = f"pytest_concur_register_models in {impl.plugin_name}"
        found.extend((source, model) for model in as_models(impl.function(), source))
    return found


def all_models(builtin: Iterable[Model], pluginmanager: Any) -> dict[str, Model]:
    """Built-in, entry-point and hook models by name, in that order."""
    return collect_models(builtin, entry_point_models() + hook_models(pluginmanager))
