"""What the subinterpreters model's start-up costs, beside a bare InterpreterPoolExecutor.

Issue 21: subinterpreters-2 spent 90 ms of a 346 ms round starting its interpreters.
The model must pay only what a user's own pool would (docs/models.md, "subinterpreters").

Method. Each repeat, alternating: (1) a bare ``InterpreterPoolExecutor(N)`` whose N
workers each run a standard-library-only task that holds its worker until all N are up
(benchmarks/_interp_tasks.py), timed from the constructor to all N up; (2) the model's
``start(N)``, which does the same with its own start-up task. Shutdown is timed apart.
Then what a worker interpreter pays to import, one fresh interpreter per import: the
model's worker module, the whole models package (what the workers imported before), and
pytest (what a task from a test module brings). Medians.

Needs Python 3.14 or newer. Run: python benchmarks/bench_subinterpreters.py
[--workers N] [--repeats R] [--json PATH]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import time
from typing import Any

from _bench import Report, median
from _interp_tasks import hold

#: the model may cost this much more than the bare pool to start (its sys.path and one
#: small module per worker); before issue 21 it cost about 60 ms more
TARGET_EXTRA_S = 0.015


def bare_start(workers: int) -> tuple[float, float]:
    """(seconds until all workers are up, seconds to shut down) for a bare pool."""
    executor_type: Any = getattr(concurrent.futures, "InterpreterPoolExecutor")  # noqa: B009
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    started = time.perf_counter()
    executor = executor_type(max_workers=workers)
    futures = [executor.submit(hold, ready_w, go_r) for _ in range(workers)]
    arrived = 0
    while arrived < workers:
        arrived += len(os.read(ready_r, workers))
    up = time.perf_counter() - started
    os.write(go_w, b"." * workers)
    for future in futures:
        future.result()
    started = time.perf_counter()
    executor.shutdown(wait=True)
    down = time.perf_counter() - started
    for fd in (ready_r, ready_w, go_r, go_w):
        os.close(fd)
    return up, down


def model_start(workers: int) -> tuple[float, float]:
    from pytest_concur.models import ModelOptions, SubinterpretersModel

    started = time.perf_counter()
    pool = SubinterpretersModel().start(workers, ModelOptions())
    up = time.perf_counter() - started
    started = time.perf_counter()
    pool.close()
    return up, time.perf_counter() - started


def import_cost(module: str) -> float:
    """Seconds a fresh interpreter spends importing ``module`` (its creation excluded)."""
    from concurrent import interpreters

    interp = interpreters.create()
    try:
        interp.exec(f"import sys; sys.path[:] = {sys.path!r}")
        started = time.perf_counter()
        interp.exec(f"import {module}")
        return time.perf_counter() - started
    finally:
        interp.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json")
    args = parser.parse_args()
    if not hasattr(concurrent.futures, "InterpreterPoolExecutor"):
        print(f"needs Python 3.14 or newer; this is {sys.version.split()[0]}")
        return 0
    report = Report(f"subinterpreters start-up, {args.workers} workers")
    report.header()
    model_start(args.workers)  # first use: the model's own modules imported in this process
    bare_start(args.workers)
    bare_up, bare_down, model_up, model_down = [], [], [], []
    for _ in range(args.repeats):
        up, down = bare_start(args.workers)
        bare_up.append(up)
        bare_down.append(down)
        up, down = model_start(args.workers)
        model_up.append(up)
        model_down.append(down)
    bare, model = median(bare_up), median(model_up)
    report.add("bare InterpreterPoolExecutor start-up", bare * 1e3, "ms")
    report.add("the model's start-up", model * 1e3, "ms")
    report.add(
        "the model's start-up beyond the bare pool's",
        (model - bare) * 1e3,
        "ms",
        ("<=", TARGET_EXTRA_S * 1e3),
    )
    report.add("bare pool shutdown", median(bare_down) * 1e3, "ms")
    report.add("the model's shutdown", median(model_down) * 1e3, "ms")
    for module, why in (
        ("pytest_concur._subinterpreter_worker", "what a worker imports to start now"),
        ("pytest_concur.models", "what each worker imported to start before"),
        ("pytest", "what a task defined in a test module brings"),
    ):
        cost = median([import_cost(module) for _ in range(max(3, args.repeats // 3))])
        report.add(f"import {module} in a fresh interpreter", cost * 1e3, "ms", note=why)
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
