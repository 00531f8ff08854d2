"""One measured region: wall time, CPU of this process and every descendant, switches, peak RSS.

The method (see docs/measurement.md): snapshot the process tree before and after the
region, outside the timed window. CPU = own delta + waited-for-children delta + for each
live descendant, keyed by (pid, start time), its delta including its own children
fields (new ones count from zero); descendants that were alive at the start but are gone
at the end had their whole life added to some reaper, so their start value is
subtracted. This holds for pools that outlive the round, forkserver pools (the
forkserver reaps its workers) and, with the session a child subreaper, for orphans.
"""

from __future__ import annotations

import ctypes
import os
import resource
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """One descendant at one instant; CPU in clock ticks including its reaped children."""

    pid: int
    ppid: int
    user_ticks: int
    sys_ticks: int
    voluntary: int
    involuntary: int
    peak_rss_bytes: int


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


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("ascii", "replace")
    except OSError:  # the process ended between listing and reading: nothing to count
        return None


def _children_of(pid: int) -> list[int]:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    children: list[int] = []
    for tid in tids:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text:
            children.extend(int(part) for part in text.split())
    return children


def _status_fields(pid: int) -> tuple[int, int, int]:
    """Voluntary and involuntary switches summed over threads, and VmHWM in bytes."""
    voluntary = involuntary = peak = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0, 0
    for tid in tids:
        text = _read(f"/proc/{pid}/task/{tid}/status")
        if text is None:
            continue
        for line in text.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                voluntary += int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                involuntary += int(line.split()[1])
            elif line.startswith("VmHWM:") and not peak:
                peak = int(line.split()[1]) * 1024
    return voluntary, involuntary, peak


def _sample(pid: int) -> tuple[tuple[int, int], ProcessSample] | None:
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    # the command name may hold spaces and parentheses: split after the last ')'
    fields = text[text.rfind(")") + 2 :].split()
    ppid = int(fields[1])
    user = int(fields[11]) + int(fields[13])  # utime + cutime
    system = int(fields[12]) + int(fields[14])  # stime + cstime
    start = int(fields[19])
    voluntary, involuntary, peak = _status_fields(pid)
    return (pid, start), ProcessSample(pid, ppid, user, system, voluntary, involuntary, peak)


def _descendants(root: int, exclude: Collection[int]) -> dict[tuple[int, int], ProcessSample]:
    found: dict[tuple[int, int], ProcessSample] = {}
    pending = _children_of(root)
    while pending:
        pid = pending.pop()
        if pid in exclude:
            continue
        sampled = _sample(pid)
        if sampled is None:
            continue
        found[sampled[0]] = sampled[1]
        pending.extend(_children_of(pid))
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
    )


def reset_peak_rss() -> bool:
    """Reset this process's RSS high-water mark so a region's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def own_peak_rss_bytes() -> int:
    text = _read("/proc/self/status") or ""
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
    user_ticks = sys_ticks = 0
    peak_tree = peak_self
    for key, end in after.descendants.items():
        start = before.descendants.get(key)
        user_ticks += end.user_ticks - (start.user_ticks if start else 0)
        sys_ticks += end.sys_ticks - (start.sys_ticks if start else 0)
        voluntary += end.voluntary - (start.voluntary if start else 0)
        involuntary += end.involuntary - (start.involuntary if start else 0)
        peak_tree += end.peak_rss_bytes
    for key, start in before.descendants.items():
        if key not in after.descendants:
            # reaped during the region: its reaper's totals now hold its whole life
            user_ticks -= start.user_ticks
            sys_ticks -= start.sys_ticks
    return Usage(
        wall_s=wall_s,
        # not clamped: a negative value would expose a bookkeeping error, not hide it
        cpu_user_s=user + user_ticks * _TICK_S,
        cpu_sys_s=system + sys_ticks * _TICK_S,
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


def measure(body: Callable[[], object], *, exclude: Collection[int] = ()) -> Measured:
    """Run ``body`` once as a measured region; an exception is measured, then handed back."""
    reset_peak_rss()
    before = snapshot(exclude=exclude, before_region=True)
    error: BaseException | None = None
    start = time.perf_counter()
    try:
        body()
    except BaseException as exc:  # measured like any round; the caller decides what it means
        error = exc
    wall = time.perf_counter() - start
    peak_self = own_peak_rss_bytes()
    after = snapshot(exclude=exclude, before_region=False)
    return Measured(usage_between(before, after, wall, peak_self), error)
