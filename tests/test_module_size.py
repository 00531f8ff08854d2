"""Small modules with one job: none passes 500 lines, none is named like a standard module."""

from __future__ import annotations

import sys
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


def test_no_module_shadows_a_standard_library_module() -> None:
    shadowing = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.stem in sys.stdlib_module_names
    )
    assert shadowing == [], f"rename these modules (standard-library names): {shadowing}"
