"""One accuracy case, run by bench_accuracy.py under ``perf stat`` (or GNU time).

    python accuracy_case.py CASE WORK [--baseline]

Runs the case's set-up, then its region measured with
``pytest_concur._measuring.proc_meter.measure``
(the very function the plugin uses for every round), then its tear-down, and prints
one JSON line: what measure() saw. Under ``perf stat -D -1 --control`` it switches
perf's counting on just before measure() and off just after (see _perf_window), so
perf counts the region alone. With ``--baseline`` the region is skipped and
nothing is measured: the ground truth tool's CPU total of that run is the cost of
everything around the region (interpreter start-up, set-up, tear-down, exit), which
bench_accuracy.py subtracts from the full run's total.

The package's ``__init__`` imports nothing heavy (no pandas), so start-up stays small
beside the region, and on a free-threaded build no extension can switch the GIL back on.
CONCUR_MEASURE_FILE names a single-file version to compare instead (as process_tree.py
was before it was split), loaded from its file alone.

WORK is the number of loop iterations per busy task (deterministic work, not a time);
the sleep case sleeps SLEEP_S whatever WORK says.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import ModuleType


def _load_measure() -> ModuleType:
    override = os.environ.get("CONCUR_MEASURE_FILE")  # another version, to compare
    if not override:
        return importlib.import_module("pytest_concur._measuring.proc_meter")
    spec = importlib.util.spec_from_file_location("_concur_measure", Path(override))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _become_subreaper(module: ModuleType) -> None:
    """As the plugin does for its session (an old single file brings its own)."""
    own = getattr(module, "become_child_subreaper", None)
    if own is not None:
        own()
    else:
        importlib.import_module("pytest_concur._measuring.subreaper").become_child_subreaper()


SLEEP_S = 1.0


def spin(n: int) -> int:
    """Pure-Python busy work: n loop iterations."""
    total = 0
    for i in range(n):
        total += i
    return total


def _two_threads(n: int) -> None:
    workers = [threading.Thread(target=spin, args=(n,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _pool(method: str) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method))


def _pool_in_round(method: str, n: int) -> None:
    with _pool(method) as pool:
        list(pool.map(spin, [n, n]))


def _pool_map(pool: ProcessPoolExecutor, n: int) -> None:
    list(pool.map(spin, [n, n]))


def _both_workers_up(pool: ProcessPoolExecutor) -> None:
    # two overlapping tasks: the pool must start its second worker for the second one
    list(pool.map(time.sleep, [0.3, 0.3]))


_GRANDCHILD = """
import subprocess, sys
code = "t = 0\\nfor i in range({n}): t += i"
grandchild = subprocess.Popen([sys.executable, "-I", "-S", "-c", code])
print(grandchild.pid, flush=True)
# exits at once: the grandchild is orphaned, still running
"""


def _grandchild(n: int) -> None:
    child = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _GRANDCHILD.format(n=n)],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(child.stdout.split()[0])
    # adopted by this process (a subreaper) or by init: wait until it has ended
    while True:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            return  # reaped by init: gone
        if state in (b"Z", b"X"):
            return
        time.sleep(0.005)


@contextmanager
def _perf_window() -> Iterator[None]:
    """Count perf's events only around the region (``perf stat -D -1 --control``).

    The driver passes the control and acknowledgement FIFOs in the environment; each
    command waits for perf's ``ack``, so counting is on before the region starts and
    off only after it ended. Without them this does nothing.
    """
    control, acknowledge = os.environ.get("CONCUR_PERF_CTL"), os.environ.get("CONCUR_PERF_ACK")
    if not control or not acknowledge:
        yield
        return
    ctl = os.open(control, os.O_WRONLY)
    ack = os.open(acknowledge, os.O_RDONLY)

    def command(word: bytes) -> None:
        os.write(ctl, word + b"\n")
        if not os.read(ack, 64).startswith(b"ack"):
            raise SystemExit(f"perf did not acknowledge {word!r}")

    try:
        command(b"enable")
        yield
        command(b"disable")
    finally:
        os.close(ctl)
        os.close(ack)


def _nothing() -> None:
    pass


Phases = tuple[Callable[[], object], Callable[[], object], Callable[[], object]]


def _phases(case: str, work: int) -> Phases:
    """(set-up, region, tear-down) of a case; only the region is measured."""
    if case == "busy":
        return _nothing, partial(spin, work), _nothing
    if case in ("threads_gil", "threads_free"):
        return _nothing, partial(_two_threads, work), _nothing
    if case.startswith("pool_in_round_"):
        method = case.removeprefix("pool_in_round_")
        return _nothing, partial(_pool_in_round, method, work), _nothing
    if case.startswith("persistent_pool_"):
        pool = _pool(case.removeprefix("persistent_pool_"))
        return partial(_both_workers_up, pool), partial(_pool_map, pool, work), pool.shutdown
    if case in ("grandchild", "grandchild_no_subreaper"):
        return _nothing, partial(_grandchild, work), _nothing
    if case == "sleep":
        return _nothing, partial(time.sleep, SLEEP_S), _nothing
    raise SystemExit(f"unknown case {case!r}")


def main() -> int:
    case, work = sys.argv[1], int(sys.argv[2])
    baseline = "--baseline" in sys.argv
    measure_module = _load_measure()
    if case != "grandchild_no_subreaper":
        _become_subreaper(measure_module)
    setup, region, teardown = _phases(case, work)
    setup()
    result: dict[str, object] = {"case": case, "baseline": baseline}
    if not baseline:
        with _perf_window():
            measured = measure_module.measure(region)
        if measured.error is not None:
            raise measured.error
        usage = measured.usage
        result.update(
            cpu_s=usage.cpu_s,
            cpu_user_s=usage.cpu_user_s,
            cpu_sys_s=usage.cpu_sys_s,
            wall_s=usage.wall_s,
            cores_used=usage.cpu_s / usage.wall_s,
            descendants=usage.descendants_seen,
        )
    teardown()
    probe = getattr(sys, "_is_gil_enabled", None)
    result.update(
        python=sys.version.split()[0],
        gil_enabled=probe() if probe is not None else True,
        pid=os.getpid(),
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
