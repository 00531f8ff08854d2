"""Hook specifications pytest-concur adds to pytest, for plugins and conftest.py files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .models import Model


@pytest.hookspec
def pytest_concur_register_models() -> list[Model]:  # type: ignore[empty-body]
    """Return concurrency models to add to the built-in ones.

    Called once per session at configure time, so implement it in a plugin or in the
    rootdir's ``conftest.py`` (conftest files further down load too late). Each model
    needs a name that no other model has. See docs/models.md for an example.
    """
