"""Switching between tasks: ping-pong between two threads, two processes or two coroutines.

Threads and processes pass a byte back and forth through a pair of pipes with the very
same code (``os.write``, then a blocking ``os.read``), so the only difference is what the
OS switches between: two threads of one process, or two processes. Both sides are pinned
to one CPU by default: then every hand-over is a real context switch on that core, not a
wake-up of a thread that was waiting on another core (on two cores that wake-up costs
about ten times more and hides the switch).

Coroutines pass the token through two ``asyncio.Queue``s on one event loop: no OS switch
at all, only the loop's own scheduling.

The round's wall time includes starting the partner (a fresh interpreter for the process
pair, about 10-20 ms; a thread, under a millisecond); use enough exchanges to make that
small, or read the switch rate that ``ping_pong`` returns, which times the exchanges only.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from typing import Final

from ._pinning import require_affinity

PAIRS: Final = ("threads", "processes", "coroutines")
_TOKEN: Final = b"x"

# the process partner: the same loop as _answer, as a script for a bare interpreter
_PARTNER: Final = (
    "import os, sys\n"
    "r, w, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])\n"
    "for _ in range(n):\n"
    "    if os.read(r, 1) != b'x':\n"
    "        sys.exit('ping-pong partner: the other side went away')\n"
    "    os.write(w, b'x')\n"
)


class PingPongError(RuntimeError):
    """The partner stopped answering before every exchange was done."""


def _answer(read_fd: int, write_fd: int, exchanges: int) -> None:
    try:
        for _ in range(exchanges):
            if os.read(read_fd, 1) != _TOKEN:
                return
            os.write(write_fd, _TOKEN)
    finally:
        os.close(write_fd)  # EOF tells the other side that this one is done


def _serve(read_fd: int, write_fd: int, exchanges: int) -> float:
    """Send the token and wait for it back ``exchanges`` times; return the seconds taken."""
    started = time.perf_counter()
    for done in range(exchanges):
        os.write(write_fd, _TOKEN)
        if os.read(read_fd, 1) != _TOKEN:
            raise PingPongError(f"the partner stopped after {done} of {exchanges} exchanges")
    return time.perf_counter() - started


def _threads(exchanges: int) -> float:
    to_partner_r, to_partner_w = os.pipe()
    to_me_r, to_me_w = os.pipe()
    partner = threading.Thread(target=_answer, args=(to_partner_r, to_me_w, exchanges))
    partner.start()
    try:
        return _serve(to_me_r, to_partner_w, exchanges)
    finally:
        os.close(to_partner_w)  # unblocks the partner if we stopped early
        partner.join()
        os.close(to_partner_r)
        os.close(to_me_r)


def _processes(exchanges: int) -> float:
    to_partner_r, to_partner_w = os.pipe()
    to_me_r, to_me_w = os.pipe()
    command = [sys.executable, "-I", "-S", "-c", _PARTNER, str(to_partner_r), str(to_me_w),
               str(exchanges)]  # fmt: skip
    try:
        partner = subprocess.Popen(command, pass_fds=(to_partner_r, to_me_w))
    except BaseException:
        os.close(to_partner_w)
        os.close(to_me_r)
        raise
    finally:
        os.close(to_partner_r)
        os.close(to_me_w)
    try:
        return _serve(to_me_r, to_partner_w, exchanges)
    finally:
        os.close(to_partner_w)
        os.close(to_me_r)
        status = partner.wait()
        if status != 0:
            raise PingPongError(f"the partner process exited with status {status}")


async def _coroutines_main(exchanges: int) -> float:
    to_partner: asyncio.Queue[bytes] = asyncio.Queue()
    to_me: asyncio.Queue[bytes] = asyncio.Queue()

    async def partner() -> None:
        for _ in range(exchanges):
            to_me.put_nowait(await to_partner.get())

    task = asyncio.create_task(partner())
    started = time.perf_counter()
    for _ in range(exchanges):
        to_partner.put_nowait(_TOKEN)
        await to_me.get()
    elapsed = time.perf_counter() - started
    await task
    return elapsed


def ping_pong(pair: str, exchanges: int = 50_000, *, one_core: bool = True) -> float:
    """Pass a token back and forth ``exchanges`` times between two ``pair``s.

    ``pair`` is ``"threads"``, ``"processes"`` or ``"coroutines"``. Returns switches per
    second over the exchanges alone (two switches per exchange). With ``one_core`` the
    caller, and so its partner, runs pinned to one CPU (restored afterwards).
    """
    if pair not in PAIRS:
        raise ValueError(f"pair must be one of {', '.join(PAIRS)}, got {pair!r}")
    if exchanges < 1:
        raise ValueError(f"exchanges must be positive, got {exchanges!r}")
    if one_core:
        require_affinity()
    before = os.sched_getaffinity(0) if one_core else frozenset()
    if one_core:
        # pinned before the partner exists, so the new thread or process inherits the mask
        os.sched_setaffinity(0, {min(before)})
    try:
        if pair == "threads":
            seconds = _threads(exchanges)
        elif pair == "processes":
            seconds = _processes(exchanges)
        else:
            seconds = asyncio.run(_coroutines_main(exchanges))
    finally:
        if one_core:
            os.sched_setaffinity(0, before)
    return 2 * exchanges / seconds if seconds > 0 else float("inf")
