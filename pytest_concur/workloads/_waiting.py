"""Waiting: plain and coroutine sleeps, and a swarm of threads or coroutines that all wait.

``sleep`` blocks the calling thread (the OS suspends it); ``async_sleep`` suspends only
its coroutine and lets the event loop run others. Called on an event loop, ``sleep``
stops every coroutine on it: the notes' "a blocking call blocks the whole program".

``swarm`` starts ``count`` threads, or ``count`` coroutines, that each wait ``nap_s``
from their own start, and waits for them all: the cost of that many waiting tasks in
time and memory. They are all alive at once when starting them takes less than
``nap_s`` (10,000 threads took 0.7 to 3 s to start here; 10,000 coroutines 0.05 s); a
slower start only lowers the threads' peak memory, in their favour.

Thousands of Python threads that want the GIL at the same moment each wake every switch
interval to ask for it. With the default interval (5 ms), 10,000 threads finishing
their naps within a second collapsed into system time here: 80 s and 107 CPU-seconds
instead of 2 s (a gate that releases them all at once did the same). ``swarm`` gives
threads the best case: the switch interval is raised to 50 ms while they run (restored
after), which is what a program with that many threads should do.
"""

from __future__ import annotations

import asyncio
import sys
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


#: The GIL switch interval while a swarm of threads runs (see the module docstring).
SWARM_SWITCH_INTERVAL_S: Final = 0.05


def _swarm_threads(count: int, nap_s: float) -> int:
    started: list[threading.Thread] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(max(interval, SWARM_SWITCH_INTERVAL_S))
    try:
        for _ in range(count):
            thread = threading.Thread(target=time.sleep, args=(nap_s,), daemon=True)
            thread.start()
            started.append(thread)
    finally:
        for thread in started:  # even when the OS refused a thread: leave none behind
            thread.join()
        sys.setswitchinterval(interval)
    return len(started)


async def _swarm_coroutines(count: int, nap_s: float) -> int:
    results = await asyncio.gather(*(async_sleep(nap_s) for _ in range(count)))
    return len(results)


def swarm(kind: str, count: int = 10_000, nap_s: float = 0.05) -> int:
    """Run ``count`` threads or coroutines (``kind``) that each wait ``nap_s``; return how many.

    Threads are started one by one and joined; coroutines are gathered on a fresh event
    loop in the calling thread. Raises if the OS refuses a thread (after joining the rest).
    """
    if kind not in SWARM_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SWARM_KINDS)}, got {kind!r}")
    if count < 1 or nap_s < 0:
        raise ValueError(f"count must be positive and nap_s non-negative, got {count}, {nap_s}")
    if kind == "threads":
        return _swarm_threads(count, nap_s)
    return asyncio.run(_swarm_coroutines(count, nap_s))
