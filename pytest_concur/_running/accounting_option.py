"""``--concur-accounting``, ``CONCUR_ACCOUNTING`` and the ini key ``concur_accounting``."""

from __future__ import annotations

import os
from typing import Any, Final

import pytest

BACKENDS: Final = ("proc", "psutil")
ENV_VAR: Final = "CONCUR_ACCOUNTING"


def add_accounting_option(group: Any, parser: pytest.Parser) -> None:
    group.addoption(
        "--concur-accounting",
        choices=BACKENDS,
        default=None,
        help="how the process tree is measured: proc (Linux /proc, the default there) or "
        f"psutil (portable, coarser); also the environment variable {ENV_VAR}",
    )
    parser.addini("concur_accounting", "process-tree accounting backend: proc or psutil")


def read_accounting(config: pytest.Config) -> str | None:
    """The option, else the environment variable, else the ini key; None: the best here."""
    for source, value in (
        ("--concur-accounting", config.getoption("concur_accounting")),
        (ENV_VAR, os.environ.get(ENV_VAR) or None),
        ("ini option concur_accounting", config.getini("concur_accounting") or None),
    ):
        if value is not None:
            if value not in BACKENDS:
                raise pytest.UsageError(
                    f"{source}: unknown value {value!r}; choose from: {', '.join(BACKENDS)}"
                )
            return str(value)
    return None
