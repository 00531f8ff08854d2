"""The /proc accounting backend's Meter: one measured region at a time, files kept open.

The method is in :mod:`.process_tree`; this module times the region, resets and reads
this process's RSS high-water mark, and combines the snapshots.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection
from typing import final

from .proc_files import READ_SIZE, field_value
from .process_tree import snapshot, usage_between
from .usage import Measured

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _open(path: str, flags: int) -> int | None:
    try:
        return os.open(path, flags)
    except OSError:
        return None


@final
class Meter:
    """Measures regions of this process, keeping its own /proc files open between them.

    Opening a /proc file costs about as much as reading it; a round touches up to three
    of them (clear_refs to reset the RSS high-water mark, statm, status), so a Meter
    that lives across a loop of rounds saves that cost each round. Not thread-safe: one
    loop uses it. After a fork the files are opened again for the new process.
    """

    __slots__ = ("_clear", "_pid", "_statm", "_status")

    def __init__(self) -> None:
        self._pid = 0
        self._clear: int | None = None
        self._statm: int | None = None
        self._status: int | None = None

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for handle in (self._clear, self._statm, self._status):
            if handle is not None:
                os.close(handle)
        self._clear = self._statm = self._status = None
        self._pid = 0

    def _files(self) -> None:
        pid = os.getpid()
        if pid == self._pid:
            return
        self.close()  # in a forked child these name the parent's files
        self._pid = pid
        self._clear = _open(f"/proc/{pid}/clear_refs", os.O_WRONLY)
        self._statm = _open(f"/proc/{pid}/statm", os.O_RDONLY)
        self._status = _open(f"/proc/{pid}/status", os.O_RDONLY)

    def _reset_peak(self) -> bool:
        if self._clear is None:
            return False
        try:
            return os.write(self._clear, b"5") == 1
        except OSError:
            return False

    def _rss_bytes(self) -> int | None:
        if self._statm is None:
            return None
        try:
            return int(os.pread(self._statm, 128, 0).split()[1]) * _PAGE_SIZE
        except (OSError, IndexError, ValueError):
            return None

    def _peak_from_status(self, fallback: int) -> int:
        if self._status is not None:
            try:
                peak = field_value(os.pread(self._status, READ_SIZE, 0), b"\nVmHWM:") * 1024
            except OSError:
                peak = 0
            if peak:
                return peak
        return fallback

    def measure(self, body: Callable[[], object], *, exclude: Collection[int] = ()) -> Measured:
        """Run ``body`` once as a measured region; an exception is measured, then handed back."""
        self._files()
        cleared = self._reset_peak()
        before = snapshot(exclude=exclude, before_region=True, pid=self._pid)
        # getrusage's ru_maxrss is max(high-water mark, an older mark left by exited
        # threads). When it is no more than the resident set now, that older mark is
        # below anything the region can reach, and ru_maxrss after the region is the
        # region's own peak: one syscall instead of parsing /proc/self/status.
        rss = self._rss_bytes() if cleared else None
        exact_maxrss = rss is not None and before.self_maxrss_bytes <= rss
        error: BaseException | None = None
        start = time.perf_counter()
        try:
            body()
        except BaseException as exc:  # measured like any round; the caller decides what it means
            error = exc
        wall = time.perf_counter() - start
        after = snapshot(exclude=exclude, before_region=False, pid=self._pid)
        peak_self = (
            after.self_maxrss_bytes
            if exact_maxrss
            else self._peak_from_status(after.self_maxrss_bytes)
        )
        return Measured(usage_between(before, after, wall, peak_self), error)


def measure(body: Callable[[], object], *, exclude: Collection[int] = ()) -> Measured:
    """Run ``body`` once as a measured region (a loop of rounds should keep one Meter)."""
    with Meter() as meter:
        return meter.measure(body, exclude=exclude)
