"""Whole-file locks where the system has them: ``flock`` on POSIX, ``msvcrt`` on Windows.

Imported instead of ``fcntl`` so that a system without it (Windows) can still load the
plugin; where neither exists, :data:`LOCKING` is False and locks always succeed, which
keeps single-process sessions right and only loses the xdist measure lock.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Final


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


_FCNTL: Final = _optional("fcntl")
_MSVCRT: Final = None if _FCNTL is not None else _optional("msvcrt")
#: whether this system can lock files at all
LOCKING: Final = _FCNTL is not None or _MSVCRT is not None


def lock(fd: int, *, wait: bool) -> bool:
    """Lock ``fd`` exclusively; False when another process holds it and ``wait`` is False."""
    if _FCNTL is not None:
        try:
            _FCNTL.flock(fd, _FCNTL.LOCK_EX | (0 if wait else _FCNTL.LOCK_NB))
        except BlockingIOError:
            return False
        return True
    if _MSVCRT is not None:  # pragma: no cover - Windows only
        os.lseek(fd, 0, os.SEEK_SET)
        mode = _MSVCRT.LK_LOCK if wait else _MSVCRT.LK_NBLCK
        try:
            _MSVCRT.locking(fd, mode, 1)
        except OSError:
            if wait:
                raise
            return False
        return True
    return True


def unlock(fd: int) -> None:
    if _FCNTL is not None:
        _FCNTL.flock(fd, _FCNTL.LOCK_UN)
    elif _MSVCRT is not None:  # pragma: no cover - Windows only
        os.lseek(fd, 0, os.SEEK_SET)
        _MSVCRT.locking(fd, _MSVCRT.LK_UNLCK, 1)
