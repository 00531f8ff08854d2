"""Waiting: plain and coroutine sleeps, and a swarm of threads or coroutines that all wait.

``sleep`` blocks the calling thread (the OS suspends it); ``async_sleep`` suspends only
its coroutine and lets the event loop run others. Called on an event loop, ``sleep``
stops every coroutine on it: the notes' "a blocking call blocks the whole program".

``swarm`` starts ``count`` threads, or ``count`` coroutines, holds them all at a gate
until the last one exists, then lets each wait ``nap_s`` and waits for them all: the
cost of that many tasks alive at the same time, in time and memory.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Final

SWARM_KINDS: Final = ("threads", "coroutines")


def sleep(seconds: float) -> float:
    """Block the calling thread for ``seconds``; return ``seconds``."""
    time.sleep(seconds)
    return seconds


async def async_sleep(seconds: float) -> float:
    """Suspend the calling coroutine for ``seconds``; return ``seconds``."""
    await asyncio.sleep(seconds)
    return seconds


def _gated_sleep(gate: threading.Event, nap_s: float) -> None:
    gate.wait()
    time.sleep(nap_s)


def _swarm_threads(count: int, nap_s: float) -> int:
    gate = threading.Event()
    started: list[threading.Thread] = []
    try:
        for _ in range(count):
            thread = threading.Thread(target=_gated_sleep, args=(gate, nap_s), daemon=True)
            thread.start()
            started.append(thread)
    finally:
        gate.set()  # even when the OS refused a thread: release and join the rest
        for thread in started:
            thread.join()
    return len(started)


async def _gated_async_sleep(gate: asyncio.Event, nap_s: float) -> float:
    await gate.wait()
    return await async_sleep(nap_s)


async def _swarm_coroutines(count: int, nap_s: float) -> int:
    gate = asyncio.Event()
    tasks = [asyncio.create_task(_gated_async_sleep(gate, nap_s)) for _ in range(count)]
    await asyncio.sleep(0)  # every task runs up to the gate
    gate.set()
    results = await asyncio.gather(*tasks)
    return len(results)


def swarm(kind: str, count: int = 10_000, nap_s: float = 0.05) -> int:
    """Run ``count`` threads or coroutines (``kind``) that each wait ``nap_s``; return how many.

    All ``count`` exist at once before any starts its wait. Threads are started one by
    one and joined; coroutines are tasks on a fresh event loop in the calling thread.
    Raises if the OS refuses a thread (after releasing and joining the rest).
    """
    if kind not in SWARM_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SWARM_KINDS)}, got {kind!r}")
    if count < 1 or nap_s < 0:
        raise ValueError(f"count must be positive and nap_s non-negative, got {count}, {nap_s}")
    if kind == "threads":
        return _swarm_threads(count, nap_s)
    return asyncio.run(_swarm_coroutines(count, nap_s))
