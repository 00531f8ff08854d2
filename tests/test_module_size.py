"""Small modules with one job: no module of the package passes 500 lines."""

from __future__ import annotations

from pathlib import Path

import pytest_concur

LIMIT = 500
PACKAGE = Path(pytest_concur.__file__).parent


def test_no_module_of_the_package_passes_500_lines() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 30  # the package itself, not an empty folder
    too_long = {
        str(path.relative_to(PACKAGE)): lines
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert too_long == {}, f"split these modules (lines over {LIMIT}): {too_long}"
