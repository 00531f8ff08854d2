"""One measured region: wall time, CPU of this process and every descendant, switches, peak RSS.

The method (docs/measurement.md explains it for users): snapshot the process tree before
and after the region, outside the timed window. CPU = own delta + waited-for-children
delta + for each live descendant, keyed by (pid, start time), its delta including its
own children fields (new ones count from zero); descendants that were alive at the start
but are gone at the end had their whole life added to some reaper, so their start value
is subtracted. This holds for pools that outlive the round, forkserver pools (the
forkserver reaps its workers) and, with the session a child subreaper, for orphans.

Resolution: a descendant's own CPU comes from its per-process CPU clock (nanoseconds,
zombies included); only what it has reaped from its own children comes in clock ticks
from /proc/<pid>/stat, and user/system of a descendant are split in the ratio of its
utime/stime ticks (the total stays exact).

Cost (benchmarks/bench_overhead.py): a process without children is not walked at all
(one waitid call says so), and a Meter keeps this process's /proc files open across a
loop of rounds; accuracy against perf stat: benchmarks/bench_accuracy.py.
"""

from __future__ import annotations

import ctypes
import os
import resource
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import final

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
_PR_SET_CHILD_SUBREAPER = 36
# Linux encodes another process's CPU clock as ((~pid) << 3) | type; type 2 is
# CPUCLOCK_SCHED: the scheduler's runtime of every thread, live and exited, in ns
_CPUCLOCK_SCHED = 2
_READ_SIZE = 1 << 16
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# __WALL (linux/wait.h): also count children whose exit signal is not SIGCHLD
_WAIT_ALL_CHILDREN = 0x40000000


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """One descendant at one instant.

    ``user_ticks``/``sys_ticks`` are its own utime/stime in clock ticks;
    ``children_*_ticks`` what it has reaped from its own children (cutime/cstime);
    ``cpu_ns`` its own CPU time from the per-process CPU clock (ns), or None where that
    clock could not be read (the ticks are used then).
    """

    pid: int
    ppid: int
    user_ticks: int
    sys_ticks: int
    voluntary: int
    involuntary: int
    peak_rss_bytes: int
    children_user_ticks: int = 0
    children_sys_ticks: int = 0
    cpu_ns: int | None = None


@dataclass(frozen=True, slots=True)
class TreeSnapshot:
    """The process tree at one instant."""

    self_user_s: float
    self_sys_s: float
    self_voluntary: int
    self_involuntary: int
    children_user_s: float
    children_sys_s: float
    children_voluntary: int
    children_involuntary: int
    # keyed by (pid, start time in ticks) so a reused pid is a different process
    descendants: dict[tuple[int, int], ProcessSample] = field(default_factory=dict)
    #: getrusage's ru_maxrss: the larger of this process's RSS high-water mark and the
    #: mark its exited threads and exec left behind (which clear_refs cannot reset)
    self_maxrss_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Usage:
    """What one region consumed; CPU and switches cover the whole process tree."""

    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    ctx_voluntary: int
    ctx_involuntary: int
    max_rss_bytes: int
    descendants_seen: int

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_sys_s


def become_child_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process so their CPU time is not lost."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def read_proc(path: str) -> bytes | None:
    """A /proc file's bytes (up to 64 KiB), or None when its process is gone."""
    # os.open/os.read: half the cost of open() with its buffered file object
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:  # the process ended between listing and reading: nothing to count
        return None
    try:
        return os.read(handle, _READ_SIZE)
    except OSError:
        return None
    finally:
        os.close(handle)


def thread_ids(pid: int) -> list[str]:
    """The ids of a process's threads, as /proc names them (none when it is gone)."""
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def children_of(pid: int, tids: list[str]) -> list[int]:
    """A child is listed under the thread that started it (or a sibling if that one ended)."""
    children: list[int] = []
    for tid in tids:
        text = read_proc(f"/proc/{pid}/task/{tid}/children")
        if text:
            children.extend(int(part) for part in text.split())
    return children


def _field(text: bytes, name: bytes) -> int:
    at = text.find(name)
    if at < 0:
        return 0
    at += len(name)
    end = text.find(b"\n", at)
    return int(text[at : end if end >= 0 else len(text)].split()[0])


def _status_fields(pid: int, tids: list[str]) -> tuple[int, int, int]:
    """Voluntary and involuntary switches summed over live threads, and VmHWM in bytes."""
    voluntary = involuntary = peak = 0
    for tid in tids:
        text = read_proc(f"/proc/{pid}/task/{tid}/status")
        if text is None:
            continue
        voluntary += _field(text, b"\nvoluntary_ctxt_switches:")
        involuntary += _field(text, b"\nnonvoluntary_ctxt_switches:")
        if not peak:
            peak = _field(text, b"\nVmHWM:") * 1024
    return voluntary, involuntary, peak


def _process_cpu_ns(pid: int) -> int | None:
    """Another process's CPU time in ns (all threads, exited ones too; children excluded)."""
    try:
        return time.clock_gettime_ns(((~pid) << 3) | _CPUCLOCK_SCHED)
    except OSError:  # reaped already, or a kernel without per-process CPU clocks
        return None


def _sample(pid: int) -> tuple[tuple[int, int], ProcessSample, list[str]] | None:
    # the clock first: if the process is reaped before its stat is read, both are skipped
    cpu_ns = _process_cpu_ns(pid)
    text = read_proc(f"/proc/{pid}/stat")
    if text is None:
        return None
    # the command name may hold spaces and parentheses: split after the last ')'
    fields = text[text.rfind(b")") + 2 :].split()
    # most descendants are single-threaded: their only task is themselves, no listing
    tids = [str(pid)] if fields[17] == b"1" else thread_ids(pid)
    voluntary, involuntary, peak = _status_fields(pid, tids)
    sample = ProcessSample(
        pid=pid,
        ppid=int(fields[1]),
        user_ticks=int(fields[11]),
        sys_ticks=int(fields[12]),
        voluntary=voluntary,
        involuntary=involuntary,
        peak_rss_bytes=peak,
        children_user_ticks=int(fields[13]),
        children_sys_ticks=int(fields[14]),
        cpu_ns=cpu_ns,
    )
    return (pid, int(fields[19])), sample, tids


def has_children() -> bool:
    """Whether this process has any child, live or zombie, under any of its threads.

    One syscall instead of a /proc listing per thread: WNOWAIT leaves every child
    waitable, so no exit status is taken from the code under test.
    """
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT | _WAIT_ALL_CHILDREN)
    except ChildProcessError:
        return False
    return True


def _descendants(root: int, exclude: Collection[int]) -> dict[tuple[int, int], ProcessSample]:
    found: dict[tuple[int, int], ProcessSample] = {}
    if root == os.getpid() and not has_children():
        return found
    pending = children_of(root, thread_ids(root))
    while pending:
        pid = pending.pop()
        if pid in exclude:
            continue
        sampled = _sample(pid)
        if sampled is None:
            continue
        key, sample, tids = sampled
        found[key] = sample
        pending.extend(children_of(pid, tids))
    return found


def snapshot(*, exclude: Collection[int] = (), before_region: bool = True) -> TreeSnapshot:
    """Read the tree; own rusage is read nearest the timed window to keep /proc cost out."""

    def own() -> tuple[resource.struct_rusage, resource.struct_rusage]:
        return (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )

    if before_region:
        descendants = _descendants(os.getpid(), exclude)
        me, kids = own()
    else:
        me, kids = own()
        descendants = _descendants(os.getpid(), exclude)
    return TreeSnapshot(
        self_user_s=me.ru_utime,
        self_sys_s=me.ru_stime,
        self_voluntary=me.ru_nvcsw,
        self_involuntary=me.ru_nivcsw,
        children_user_s=kids.ru_utime,
        children_sys_s=kids.ru_stime,
        children_voluntary=kids.ru_nvcsw,
        children_involuntary=kids.ru_nivcsw,
        descendants=descendants,
        self_maxrss_bytes=me.ru_maxrss * 1024,
    )


def _split_ns(total_ns: int, user_ticks: int, sys_ticks: int) -> tuple[int, int]:
    """Split an exact CPU time by the kernel's tick ratio; no tick yet counts as user."""
    ticks = user_ticks + sys_ticks
    if ticks <= 0:
        return total_ns, 0
    user_ns = total_ns * user_ticks // ticks
    return user_ns, total_ns - user_ns


def _own_delta_ns(start: ProcessSample | None, end: ProcessSample) -> tuple[int, int]:
    """(user, sys) ns a descendant spent itself between two samples (start None: born since)."""
    start_user = start.user_ticks if start is not None else 0
    start_sys = start.sys_ticks if start is not None else 0
    start_ns = start.cpu_ns if start is not None else 0
    if end.cpu_ns is None or start_ns is None:  # a clock was unreadable: ticks only
        return (end.user_ticks - start_user) * _TICK_NS, (end.sys_ticks - start_sys) * _TICK_NS
    total = end.cpu_ns - start_ns
    user_ticks, sys_ticks = end.user_ticks - start_user, end.sys_ticks - start_sys
    if user_ticks + sys_ticks <= 0:  # shorter than a tick: the lifetime ratio is all we have
        user_ticks, sys_ticks = end.user_ticks, end.sys_ticks
    return _split_ns(total, user_ticks, sys_ticks)


def _whole_life_ns(sample: ProcessSample) -> tuple[int, int]:
    """(user, sys) ns of a sample's own CPU so far."""
    if sample.cpu_ns is None:
        return sample.user_ticks * _TICK_NS, sample.sys_ticks * _TICK_NS
    return _split_ns(sample.cpu_ns, sample.user_ticks, sample.sys_ticks)


def usage_between(
    before: TreeSnapshot, after: TreeSnapshot, wall_s: float, peak_self: int
) -> Usage:
    """Combine two snapshots into the region's usage (pure: tested without processes)."""
    user = (after.self_user_s - before.self_user_s) + (
        after.children_user_s - before.children_user_s
    )
    system = (after.self_sys_s - before.self_sys_s) + (after.children_sys_s - before.children_sys_s)
    voluntary = (after.self_voluntary - before.self_voluntary) + (
        after.children_voluntary - before.children_voluntary
    )
    involuntary = (after.self_involuntary - before.self_involuntary) + (
        after.children_involuntary - before.children_involuntary
    )
    # descendants summed in integer ns, converted once: no rounding drift across many
    user_ns = sys_ns = 0
    peak_tree = peak_self
    for key, end in after.descendants.items():
        start = before.descendants.get(key)
        own_user, own_sys = _own_delta_ns(start, end)
        user_ns += own_user
        sys_ns += own_sys
        user_ns += (end.children_user_ticks - (start.children_user_ticks if start else 0)) * (
            _TICK_NS
        )
        sys_ns += (end.children_sys_ticks - (start.children_sys_ticks if start else 0)) * (_TICK_NS)
        voluntary += end.voluntary - (start.voluntary if start else 0)
        involuntary += end.involuntary - (start.involuntary if start else 0)
        peak_tree += end.peak_rss_bytes
    for key, start in before.descendants.items():
        if key not in after.descendants:
            # reaped during the region: its reaper's totals now hold its whole life
            life_user, life_sys = _whole_life_ns(start)
            user_ns -= life_user + start.children_user_ticks * _TICK_NS
            sys_ns -= life_sys + start.children_sys_ticks * _TICK_NS
    return Usage(
        wall_s=wall_s,
        # not clamped: a negative value would expose a bookkeeping error, not hide it
        cpu_user_s=user + user_ns / 1e9,
        cpu_sys_s=system + sys_ns / 1e9,
        ctx_voluntary=voluntary,
        ctx_involuntary=involuntary,
        max_rss_bytes=peak_tree,
        descendants_seen=len(after.descendants.keys() | before.descendants.keys()),
    )


@dataclass(frozen=True, slots=True)
class Measured:
    """A region's usage, and the exception that ended it, if any."""

    usage: Usage
    error: BaseException | None


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
                peak = _field(os.pread(self._status, _READ_SIZE, 0), b"\nVmHWM:") * 1024
            except OSError:
                peak = 0
            if peak:
                return peak
        return fallback

    def measure(self, body: Callable[[], object], *, exclude: Collection[int] = ()) -> Measured:
        """Run ``body`` once as a measured region; an exception is measured, then handed back."""
        self._files()
        cleared = self._reset_peak()
        before = snapshot(exclude=exclude, before_region=True)
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
        after = snapshot(exclude=exclude, before_region=False)
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
