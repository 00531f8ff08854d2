"""Round time limits and clean-up: no process started in a failed round outlives it.

The limit is a SIGALRM timer in the main thread, not a watchdog thread: a thread in
the measured interpreter would compete for the GIL, and on Python 3.12+ it makes every
``fork`` warn. When the timer fires, the handler kills every process the round started
(found by walking /proc from this process, against the list taken before the round),
then raises ``RoundTimeout`` in the main thread; blocking calls such as ``time.sleep``,
lock waits and ``select`` are interrupted by the signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Final

from .._warning_types import MeasurementWarning
from .proc_files import children_of, has_children, read_proc, thread_ids

_KILL_WAIT_S: Final = 5.0
# multiprocessing's session-wide helpers: killing them makes later pools warn or fail,
# and they hold no work of the round (the forkserver's children are still killed)
_KEEP_MARKERS: Final = (b"multiprocessing.forkserver", b"multiprocessing.resource_tracker")

#: (pid, start time in clock ticks): a pid reused by a new process is a new key
ProcessKey = tuple[int, int]


class RoundTimeout(SystemExit):
    """A round ran past its time limit.

    Not an ``Exception``, like pytest's own outcomes, so that ``except Exception`` in the
    test body cannot swallow it and run on past the limit; a ``SystemExit`` in
    particular, because asyncio keeps any other error raised in a task inside that task
    and runs the loop's next task (which may block too), while it lets SystemExit out of
    the loop at once.
    """


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process, or None when it is gone."""
    text = read_proc(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text[text.rfind(b")") + 2 :].split()
    return fields[0].decode(), int(fields[1]), int(fields[19])


def descendants(exclude: Collection[int] = ()) -> dict[ProcessKey, int]:
    """Every live or zombie descendant of this process: key -> parent pid."""
    found: dict[ProcessKey, int] = {}
    if not has_children():  # one syscall instead of a /proc read per thread, every round
        return found
    pending = children_of(os.getpid(), thread_ids(os.getpid()))
    while pending:
        pid = pending.pop()
        if pid in exclude:
            continue
        stat = _stat(pid)
        if stat is None:
            continue
        found[(pid, stat[2])] = stat[1]
        pending.extend(children_of(pid, thread_ids(pid)))
    return found


def live_descendants(exclude: Collection[int] = ()) -> list[int]:
    """Pids of descendants that still run (zombies are not counted: they have ended)."""
    pids: list[int] = []
    for pid, _ in descendants(exclude):
        stat = _stat(pid)
        if stat is not None and stat[0] not in ("Z", "X"):
            pids.append(pid)
    return pids


def _session_helper(pid: int) -> bool:
    cmdline = read_proc(f"/proc/{pid}/cmdline") or b""
    return any(marker in cmdline for marker in _KEEP_MARKERS)


@dataclass(frozen=True, slots=True)
class Killed:
    """What a clean-up did: pids killed, and those still alive after waiting for them."""

    killed: tuple[int, ...] = ()
    survivors: tuple[int, ...] = ()


def kill_new_descendants(
    before: Collection[ProcessKey], *, exclude: Collection[int] = ()
) -> Killed:
    """SIGKILL every descendant that is not in ``before`` (nor excluded), and reap orphans.

    Orphans adopted by this process (the session is a child subreaper) have no owner to
    wait for them, so they are reaped here, by pid; children the test started itself are
    left for their owner (``Popen.wait``) to reap, so no exit status is stolen.
    """
    me = os.getpid()
    killed: list[int] = []
    adopted: list[int] = []
    # several passes: a process may fork between our listing and its kill
    for _ in range(3):
        found = descendants(exclude)
        fresh = [
            (pid, parent)
            for (pid, start), parent in found.items()
            if (pid, start) not in before and pid not in killed and not _session_helper(pid)
        ]
        if not fresh:
            break
        for pid, parent in fresh:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.append(pid)
            if parent != me:
                adopted.append(pid)
    deadline = time.monotonic() + _KILL_WAIT_S
    survivors = list(killed)
    while survivors and time.monotonic() < deadline:
        survivors = [pid for pid in survivors if _alive(pid)]
        if survivors:
            time.sleep(0.005)
    for pid in adopted:
        stat = _stat(pid)
        if stat is not None and stat[1] == me:
            with contextlib.suppress(ChildProcessError):  # reaped by someone else already
                os.waitpid(pid, os.WNOHANG)
    return Killed(tuple(killed), tuple(survivors))


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _raise_in_root(error: BaseException) -> None:
    """Raise ``error`` where pytest runs, even when a greenlet is running instead.

    The signal handler runs in whatever greenlet the thread is in (a gevent task, the
    hub); raised there, the error would end only that greenlet, and the round would go
    on. So it is thrown into the thread's root greenlet, pytest's own flow; the greenlet
    that was interrupted stays suspended until the model kills it.
    """
    module = sys.modules.get("greenlet")
    if module is not None:
        current = module.getcurrent()
        root = current
        while root.parent is not None:
            root = root.parent
        if root is not current:
            root.throw(error)
            return  # switched back into later, to be killed: nothing more to do here
    raise error


_UNARMED: Final = contextlib.nullcontext()


@dataclass(slots=True)
class Deadline:
    """One round's time limit; ``expired`` tells the clean-up not to wait on workers."""

    seconds: float | None
    before: Collection[ProcessKey] = field(default_factory=frozenset)
    exclude: Collection[int] = ()
    expired: bool = False

    def armed(self) -> contextlib.AbstractContextManager[None]:
        """Run the block under the limit (no limit: the block runs as it is)."""
        if self.seconds is None:
            return _UNARMED  # every round without a limit: no generator to make and run
        return self._armed(self.seconds)

    @contextmanager
    def _armed(self, seconds: float) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("a concur timeout needs the test to run in the main thread")
        if not hasattr(signal, "SIGALRM"):  # Windows: no alarm signal to stop the round with
            warnings.warn(
                MeasurementWarning(
                    f"the round time limit of {seconds:g}s is not applied: it needs "
                    f"SIGALRM, which this system lacks"
                ),
                stacklevel=3,
            )
            yield
            return

        previous: Any = None
        previous_timer = (0.0, 0.0)
        armed_at = time.monotonic()

        def restore() -> None:
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
            if previous_timer[0] > 0:  # someone else's alarm (pytest-timeout): give it back
                left = previous_timer[0] - (time.monotonic() - armed_at)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), previous_timer[1])

        def expire(signum: int, frame: FrameType | None) -> Any:
            if self.expired:
                return  # a late second signal: the round is already being stopped
            self.expired = True
            restore()  # first: whatever is interrupted next, the old handler is back
            kill_new_descendants(self.before, exclude=self.exclude)
            _raise_in_root(RoundTimeout(f"round exceeded timeout of {seconds:g}s"))

        previous = signal.signal(signal.SIGALRM, expire)
        previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            if not self.expired:
                signal.setitimer(signal.ITIMER_REAL, 0)
                restore()
