"""Shared test helpers: read what a pytester session wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pytest_concur


def read_results(pytester: pytest.Pytester, folder: str = "results") -> pd.DataFrame:
    """The rounds a pytester session wrote under ``folder``, as pytest_concur.load sees them."""
    files = sorted(Path(pytester.path, folder).glob("*.parquet"))
    assert files, f"no results in {folder}"
    return pytest_concur.load(Path(pytester.path, folder))
