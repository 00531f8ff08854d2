"""The portable accounting backend: the process tree measured through psutil.

The same method as the /proc backend (:mod:`.process_tree`), with what every system
offers: this process's and its waited-for children's CPU from ``os.times()``, each live
descendant's CPU, switches and memory from psutil, keyed by (pid, creation time).
Coarser, as docs/measurement.md says: CPU times come in the system's clock ticks
(10 ms on Linux) instead of nanoseconds, memory is the resident set at the end of the
region instead of its peak, and where the system does not report what a process has
reaped from its own children (macOS, Windows) a grandchild that ends inside the round
is not counted; on Windows neither is a child that ends inside it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import final

import psutil

from .usage import Measured, Usage


@dataclass(frozen=True, slots=True)
class _Proc:
    user_s: float
    sys_s: float
    children_user_s: float
    children_sys_s: float
    voluntary: int
    involuntary: int
    rss_bytes: int


@dataclass(frozen=True, slots=True)
class _Tree:
    user_s: float
    sys_s: float
    children_user_s: float
    children_sys_s: float
    own: _Proc
    descendants: dict[tuple[int, float], _Proc] = field(default_factory=dict)


def _proc(process: psutil.Process) -> _Proc | None:
    try:
        with process.oneshot():
            times = process.cpu_times()
            switches = process.num_ctx_switches()
            memory = process.memory_info()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None  # ended between listing and reading, or not ours to read
    return _Proc(
        user_s=times.user,
        sys_s=times.system,
        # Linux reports what a process reaped from its children; other systems do not
        children_user_s=getattr(times, "children_user", 0.0),
        children_sys_s=getattr(times, "children_system", 0.0),
        voluntary=switches.voluntary,
        involuntary=switches.involuntary,
        rss_bytes=int(getattr(memory, "peak_wset", 0) or memory.rss),
    )


def tree_snapshot(me: psutil.Process, exclude: Collection[int]) -> _Tree:
    """This process and every descendant not excluded, at one instant."""
    descendants: dict[tuple[int, float], _Proc] = {}
    try:
        children = me.children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        if child.pid in exclude:
            continue
        sample = _proc(child)
        if sample is not None:
            try:
                descendants[(child.pid, child.create_time())] = sample
            except psutil.Error:
                continue
    own = _proc(me)
    times = os.times()
    return _Tree(
        user_s=times.user,
        sys_s=times.system,
        children_user_s=times.children_user,
        children_sys_s=times.children_system,
        own=own if own is not None else _Proc(0.0, 0.0, 0.0, 0.0, 0, 0, 0),
        descendants=descendants,
    )


def usage_between(before: _Tree, after: _Tree, wall_s: float) -> Usage:
    """Combine two snapshots as :func:`.process_tree.usage_between` does."""
    user = after.user_s - before.user_s + after.children_user_s - before.children_user_s
    system = after.sys_s - before.sys_s + after.children_sys_s - before.children_sys_s
    voluntary = after.own.voluntary - before.own.voluntary
    involuntary = after.own.involuntary - before.own.involuntary
    peak = after.own.rss_bytes
    for key, end in after.descendants.items():
        start = before.descendants.get(key)
        user += end.user_s + end.children_user_s - (start.user_s + start.children_user_s
                                                    if start else 0.0)  # fmt: skip
        system += end.sys_s + end.children_sys_s - (start.sys_s + start.children_sys_s
                                                    if start else 0.0)  # fmt: skip
        voluntary += end.voluntary - (start.voluntary if start else 0)
        involuntary += end.involuntary - (start.involuntary if start else 0)
        peak += end.rss_bytes
    for key, start in before.descendants.items():
        if key not in after.descendants:
            # reaped during the region: its reaper's children times now hold its whole life
            user -= start.user_s + start.children_user_s
            system -= start.sys_s + start.children_sys_s
    return Usage(
        wall_s=wall_s,
        cpu_user_s=user,
        cpu_sys_s=system,
        ctx_voluntary=voluntary,
        ctx_involuntary=involuntary,
        max_rss_bytes=peak,
        descendants_seen=len(after.descendants.keys() | before.descendants.keys()),
    )


@final
class PsutilMeter:
    """Measures regions of this process through psutil (the interface of the /proc Meter)."""

    __slots__ = ("_me",)

    def __init__(self) -> None:
        self._me: psutil.Process | None = None

    def __enter__(self) -> PsutilMeter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._me = None

    def measure(self, body: Callable[[], object], *, exclude: Collection[int] = ()) -> Measured:
        """Run ``body`` once as a measured region; an exception is measured, then handed back."""
        if self._me is None or self._me.pid != os.getpid():  # a forked child is another process
            self._me = psutil.Process()
        before = tree_snapshot(self._me, exclude)
        error: BaseException | None = None
        start = time.perf_counter()
        try:
            body()
        except BaseException as exc:  # measured like any round; the caller decides what it means
            error = exc
        wall = time.perf_counter() - start
        after = tree_snapshot(self._me, exclude)
        return Measured(usage_between(before, after, wall), error)
