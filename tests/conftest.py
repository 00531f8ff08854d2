"""Shared test helpers: run the plugin in a pytester sandbox and read what it wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pytest_concur

pytest_plugins = ["pytester"]


def read_results(pytester: pytest.Pytester, folder: str = "results") -> pd.DataFrame:
    """The one results file a pytester session wrote, as pytest_concur.load sees it."""
    files = sorted(Path(pytester.path, folder).glob("*.parquet"))
    rounds = [path for path in files if ".tasks." not in path.name and ".cores." not in path.name]
    assert rounds, f"no results in {folder}: {files}"
    return pytest_concur.load(Path(pytester.path, folder))
