"""Make orphaned descendants re-parent to this process (Linux), and undo it at the end."""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

_PR_SET_CHILD_SUBREAPER = 36


def _set_subreaper(on: bool) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0)
    except (OSError, AttributeError):  # no prctl: not Linux
        return False


def become_child_subreaper() -> Callable[[], None] | None:
    """Make this process a child subreaper, so an orphan's CPU time is not lost.

    Returns a function that turns it off again, or None where it could not be turned on.
    """
    if not sys.platform.startswith("linux") or not _set_subreaper(True):
        return None

    def undo() -> None:
        _set_subreaper(False)

    return undo
