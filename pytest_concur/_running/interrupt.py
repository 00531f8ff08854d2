"""SIGTERM ends a session the way Ctrl-C does, so the rounds measured so far are written.

Python's default for SIGTERM is to die on the spot: no ``finally``, no session end, and
the rows still in memory are gone. CI systems and ``timeout`` send SIGTERM first, so the
session process turns it into :class:`Terminated`, a KeyboardInterrupt: pytest then
ends the session as for Ctrl-C (exit status 2, the summary printed, pytest-concur's
rows written and marked ``session_complete=False``).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType


class Terminated(KeyboardInterrupt):
    """The session process received SIGTERM."""


def terminate_like_interrupt() -> Callable[[], None] | None:
    """Install the SIGTERM handler; a function that puts the old one back.

    Nothing is installed (None) off the main thread, or where someone else already
    handles SIGTERM: their handler knows better what the process must do.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    owner = os.getpid()

    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            # a forked child (a process pool's worker) inherits handlers: let it die
            # as it would have without pytest-concur
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated(f"received SIGTERM (signal {signum})")

    signal.signal(signal.SIGTERM, handler)

    def restore() -> None:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is handler
        ):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return restore
