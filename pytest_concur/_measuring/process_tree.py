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

import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage

from .proc_files import children_of, field_value, has_children, read_proc, thread_ids
from .usage import Usage

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
# Linux encodes another process's CPU clock as ((~pid) << 3) | type; type 2 is
# CPUCLOCK_SCHED: the scheduler's runtime of every thread, live and exited, in ns
_CPUCLOCK_SCHED = 2


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


def _status_fields(pid: int, tids: list[str]) -> tuple[int, int, int]:
    """Voluntary and involuntary switches summed over live threads, and VmHWM in bytes."""
    voluntary = involuntary = peak = 0
    for tid in tids:
        text = read_proc(f"/proc/{pid}/task/{tid}/status")
        if text is None:
            continue
        voluntary += field_value(text, b"\nvoluntary_ctxt_switches:")
        involuntary += field_value(text, b"\nnonvoluntary_ctxt_switches:")
        if not peak:
            peak = field_value(text, b"\nVmHWM:") * 1024
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


def _descendants(root: int, exclude: Collection[int]) -> dict[tuple[int, int], ProcessSample]:
    """Every descendant of ``root``, this process (its children: has_children asks)."""
    found: dict[tuple[int, int], ProcessSample] = {}
    if not has_children():
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


def snapshot(
    *, exclude: Collection[int] = (), before_region: bool = True, pid: int | None = None
) -> TreeSnapshot:
    """Read the tree; own rusage is read nearest the timed window to keep /proc cost out.

    ``pid`` is this process's id where the caller holds it (a Meter does: a syscall less).
    """
    root = os.getpid() if pid is None else pid
    if before_region:
        descendants = _descendants(root, exclude)
        me = getrusage(RUSAGE_SELF)
        kids = getrusage(RUSAGE_CHILDREN)
    else:
        me = getrusage(RUSAGE_SELF)
        kids = getrusage(RUSAGE_CHILDREN)
        descendants = _descendants(root, exclude)
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
    if not after.descendants and not before.descendants:  # most rounds: no child process
        return Usage(
            wall_s=wall_s,
            cpu_user_s=user,
            cpu_sys_s=system,
            ctx_voluntary=voluntary,
            ctx_involuntary=involuntary,
            max_rss_bytes=peak_self,
            descendants_seen=0,
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


