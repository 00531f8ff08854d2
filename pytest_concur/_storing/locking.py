"""Whole-file locks where the system has them: ``flock`` on POSIX, ``msvcrt`` on Windows;
and who owns a parts folder: an exclusive lock its session holds for as long as it lives.

Imported instead of ``fcntl`` so that a system without it (Windows) can still load the
plugin; where neither exists, :data:`LOCKING` is False and locks always succeed, which
keeps single-process sessions right and only loses the xdist measure lock.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Final

from .layout import OWNER_LOCK


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


def claim_lock(path: Path, *, create: bool = False) -> int | None:
    """An fd holding the lock file ``path`` exclusively, or None while another process holds it.

    The owning session holds its lock for as long as it lives; the kernel releases it
    however the process ends (SIGKILL included), so a free lock means the owner is gone.
    Raises FileNotFoundError for a missing lock file unless ``create``.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT if create else os.O_RDONLY, 0o644)
    if not lock(fd, wait=False):
        os.close(fd)
        return None
    return fd


def owner_alive(parts: Path) -> bool:
    """Whether the session that owns a parts folder is still running."""
    try:
        fd = claim_lock(parts / OWNER_LOCK)
    except FileNotFoundError:
        return False  # no lock file: nobody can own it
    if fd is None:
        return True
    os.close(fd)
    return False
