"""What the subinterpreters model runs inside its worker interpreters: standard library only.

Every worker interpreter imports this module to start, so it stays tiny and outside
``pytest_concur.models`` (whose package imports every model, asyncio and
multiprocessing with them): a worker imports what a user's own
``InterpreterPoolExecutor`` would, plus this, plus the task function's own module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def arrive(paths: tuple[str, ...], ready: int, go: int) -> None:
    """Start-up task: import from where the test process imports, say this worker is up,
    then hold it until every worker is up (so each start-up task holds its own worker)."""
    sys.path[:] = list(paths)
    os.write(ready, b".")
    os.read(go, 1)


def run_coroutine(fn: Callable[[Any], Any], item: Any) -> Any:
    """A coroutine function's task, on an event loop of its own in this interpreter."""
    import asyncio  # only coroutine tasks pay for it

    return asyncio.run(fn(item))
