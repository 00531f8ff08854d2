"""Who owns a parts folder: an exclusive flock its session holds for as long as it lives."""

from __future__ import annotations

import os
from pathlib import Path

from .layout import OWNER_LOCK
from .locking import lock as lock_file


def claim_lock(lock: Path, *, create: bool = False) -> int | None:
    """An fd holding ``lock`` exclusively, or None while another process holds it.

    The owning session holds its lock for as long as it lives; the kernel releases it
    however the process ends (SIGKILL included), so a free lock means the owner is gone.
    Raises FileNotFoundError for a missing lock file unless ``create``.
    """
    fd = os.open(lock, os.O_RDWR | os.O_CREAT if create else os.O_RDONLY, 0o644)
    if not lock_file(fd, wait=False):
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
