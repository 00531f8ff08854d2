"""Make orphaned descendants re-parent to this process (Linux), and undo it at the end.

A helper that must *not* come back (the per-core sampler, which leaves the session's
children so that no round's tree walk meets it) is started inside ``not_a_subreaper()``:
its orphaned process goes to the next subreaper up, or init.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Callable, Iterator

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37


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


@contextlib.contextmanager
def not_a_subreaper() -> Iterator[None]:
    """Orphans made inside the block pass this process by; the role returns after it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        flag = ctypes.c_int(0)
        was = libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) == 0 and flag.value
    except (OSError, AttributeError):
        was = False
    if not was:
        yield
        return
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    try:
        yield
    finally:
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
