"""Run work on chosen CPUs (``os.sched_setaffinity``): concurrency without parallelism.

``os.sched_setaffinity(0, cpus)`` pins the calling thread; threads and processes it
starts later inherit the mask, but a pool or a forkserver started earlier keeps its old
one (measured: "pinned" forkserver workers still used two cores). ``Pinned`` therefore
pins inside the worker, around each call, and restores the worker's mask afterwards, so
it is right under every model and start method and leaves no trace on the caller.
``on_cpus`` pins the calling thread for a block, so that what it starts (a pool) and the
caller itself share the CPUs too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

_T = TypeVar("_T")


def require_affinity() -> None:
    """Skip the calling test where CPUs cannot be chosen (macOS and Windows lack it)."""
    if not hasattr(os, "sched_setaffinity") or not hasattr(os, "sched_getaffinity"):
        import pytest

        pytest.skip("pinning work to CPUs needs os.sched_setaffinity, which this system lacks")


def usable_cpus() -> frozenset[int]:
    """The CPUs this thread may run on now."""
    require_affinity()
    return frozenset(os.sched_getaffinity(0))


def one_cpu() -> frozenset[int]:
    """A single CPU this thread may run on (the lowest-numbered)."""
    require_affinity()
    return frozenset({min(os.sched_getaffinity(0))})


@dataclass(frozen=True, slots=True)
class Pinned(Generic[_T]):
    """``fn`` run with the calling thread pinned to ``cpus``; picklable if ``fn`` is.

    ``Pinned(fn, one_cpu())`` gives every worker the same single core: the workers still
    run concurrently, taking turns, but never in parallel.
    """

    fn: Callable[[Any], _T]
    cpus: frozenset[int]

    def __post_init__(self) -> None:
        if not self.cpus:
            raise ValueError("cpus must name at least one CPU")

    def __call__(self, item: Any) -> _T:
        require_affinity()
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, self.cpus)
        try:
            return self.fn(item)
        finally:
            os.sched_setaffinity(0, before)


@contextmanager
def on_cpus(cpus: frozenset[int] | set[int] | None = None) -> Iterator[frozenset[int]]:
    """Pin the calling thread to ``cpus`` (default: one CPU) for the block, then restore it.

    Threads and processes started inside the block inherit the mask: use it around the
    first ``concur.map`` of a round, so that the pool, and the test's own thread waiting
    for it, all share the CPUs. A forkserver started before keeps its old mask; combine
    with :func:`pinned` to be sure.
    """
    require_affinity()
    chosen = frozenset(cpus) if cpus is not None else one_cpu()
    if not chosen:
        raise ValueError("cpus must name at least one CPU")
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, chosen)
    try:
        yield chosen
    finally:
        os.sched_setaffinity(0, before)


def pinned(fn: Callable[[Any], _T], cpus: frozenset[int] | set[int] | None = None) -> Pinned[_T]:
    """``fn`` pinned to ``cpus`` (default: one CPU) in whichever worker runs it."""
    return Pinned(fn, frozenset(cpus) if cpus is not None else one_cpu())
