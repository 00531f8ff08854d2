"""gevent: greenlets (stackful coroutines) on gevent's hub in the test's thread.

``workers`` bounds the greenlets running at once (a ``gevent.pool.Pool``). Nothing is
monkeypatched: patching would change ``time``, ``socket`` and ``threading`` for pytest
and every other test in the session, and cannot be undone. So a task yields to the
other greenlets only where it calls gevent's own cooperative functions
(``gevent.sleep``, ``gevent.socket``, ``gevent.subprocess``...); a standard blocking
call such as ``time.sleep`` blocks the hub and every other greenlet, which is what the
notes claim about blocking calls inside coroutines. A coroutine function gets an
asyncio loop of its own inside its greenlet; asyncio's waits do not yield to gevent,
so such tasks run one after another.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from ._base import ModelOptions, call_blocking


class _GreenletPool:
    def __init__(self, workers: int) -> None:
        import gevent
        import gevent.pool

        gevent.get_hub()  # the hub and its loop are created now, inside the start-up time
        self._pool = gevent.pool.Pool(workers)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return list(self._pool.map(partial(call_blocking, fn), items))

    def close(self) -> None:
        self._pool.join()
        self._pool.kill()

    def abort(self) -> None:
        """Kill the greenlets without waiting: a greenlet blocked outside gevent stays blocked."""
        self._pool.kill(block=False)


class GeventModel:
    name = "gevent"
    summary = "greenlets on gevent's hub: cooperative waits in one thread (optional extra)"

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("gevent") is None:
            return "gevent is not installed (pip install 'pytest-concur[gevent]')"
        return None

    def start(self, workers: int, options: ModelOptions) -> _GreenletPool:
        return _GreenletPool(workers)
