"""What pytest-concur adds per measured round, against a bare loop and pytest-benchmark.

Targets: at most 50 microseconds per measured round with sampling off
(``--concur-sample-interval=0``, issue 8); at most 60 with the default per-core sampling
on, and the sampler process at most 1% of a core (issue 15: rounds read the sampler's
shared-memory ring instead of exchanging messages with it; 440 us a round before).

Method. One pytest session (a fresh subprocess, the plugin loaded as users load it) runs
three tests over the same empty body, N times each:
  bare       a plain ``for`` loop calling the body N times,
  concur     ``@pytest.mark.concur(rounds=N)``: N measured rounds,
  pedantic   pytest-benchmark's ``benchmark.pedantic(body, rounds=N, iterations=1)``.
A conftest records each phase's wall time and the pytest process's CPU time. Each
session runs twice, with N and with N/5 rounds, and a figure is the marginal cost of a
round, (time at N - time at N/5) / (4N/5), so that one-off costs (the session's start)
are not spread over the rounds; a warm-up experiment of 5,000 rounds runs first in
every session, so that costs paid once on the way (imports at the first spill of rows
to disk) are behind both. Per round:
  plugin overhead  = concur call phase - bare loop per call
  with storage     = the same plus the concur session's teardown and session-end time
                     (rows spilled and written to Parquet), from sessions that run
                     the concur test alone
  pytest-benchmark = pedantic call phase - bare loop per call
Sessions are repeated and the median is reported, with the spread (min..max).
The target is checked on CPU time: on a machine shared with other work the wall time
of the same code also holds the time this process waited for a CPU (both are printed,
with the load average; on an idle machine the two agree, the round path never blocks).
In-process figures for ``measure()`` alone are printed for information, with and
without live descendants (a persistent pool costs /proc reads per process).

Run: python benchmarks/bench_overhead.py [--rounds N] [--repeat K] [--json PATH]
Needs pytest-benchmark (``pip install -e .[bench]``) for the pedantic comparison.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _bench import Report, json_arg, median

import pytest_concur
from pytest_concur._measuring.proc_meter import Meter, measure
from pytest_concur._measuring.sampler import CoreSampler
from pytest_concur._running.configuration import DEFAULT_SAMPLE_INTERVAL_S

TARGET_US = 50.0
TARGET_SAMPLED_US = 60.0
TARGET_SAMPLER_PERCENT = 1.0

_TESTS = """\
import os

import pytest

N = int(os.environ["BENCH_ROUNDS"])
WARM = 5000  # runs first: one-off costs (imports at the first spill) are paid before


def body():
    pass


@pytest.mark.concur(workload="cpu", models=["serial"], rounds=WARM, warmup=0)
def test_a_warm_concur(concur):
    body()


def test_bare():
    for _ in range(N):
        body()


@pytest.mark.concur(workload="cpu", models=["serial"], rounds=N, warmup=0)
def test_concur(concur):
    body()


def test_pedantic(benchmark):
    benchmark.pedantic(body, rounds=N, iterations=1, warmup_rounds=0)
"""

_CONFTEST = """\
import json
import os
import time

import pytest

TIMES = {}


def _timed(key):
    return time.perf_counter(), time.process_time()


def _store(key, started):
    TIMES[key] = [time.perf_counter() - started[0], time.process_time() - started[1]]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    started = _timed(item.name)
    try:
        return (yield)
    finally:
        _store(item.name + ":call", started)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    started = _timed(item.name)
    try:
        return (yield)
    finally:
        _store(item.name + ":teardown", started)


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session):
    started = _timed("sessionfinish")
    try:
        return (yield)
    finally:
        _store("sessionfinish", started)
        with open(os.environ["BENCH_OUT"], "w") as out:
            json.dump(TIMES, out)
"""

#: (wall seconds, CPU seconds of the pytest process) per phase
Times = dict[str, tuple[float, float]]


def _per_call_us(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    """(wall, CPU) microseconds per call."""
    fn()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


def _nothing() -> None:
    pass


def _session(folder: Path, rounds: int, select: str, *, sampling: bool = False) -> Times:
    out = folder / "times.json"
    env = dict(os.environ, BENCH_ROUNDS=str(rounds), BENCH_OUT=str(out))
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c",
        str(folder / "pytest.ini"), "--rootdir", str(folder), str(folder / "test_overhead.py"),
        "-k", select,
        f"--concur-results={folder / 'results'}",
        # the cost of a round, not waits for a quiet machine (empty rounds on a shared
        # machine are often crowded, and would be measured again)
        "--concur-crowded-retries=0",
    ]  # fmt: skip
    if not sampling:
        command.append("--concur-sample-interval=0")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"benchmark session failed with exit status {done.returncode}")
    loaded: dict[str, list[float]] = json.loads(out.read_text())
    return {key: (value[0], value[1]) for key, value in loaded.items()}


def _spread(values: list[float]) -> str:
    return f"median of {len(values)} sessions, {min(values):.1f}..{max(values):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=10_000,
        help="rounds per session (10,000 or more for stable figures)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="sessions per figure")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    report = Report("overhead per measured round (sampling off, and on)")
    report.header()

    calls = 20_000
    wall, cpu = _per_call_us(_nothing, calls)
    report.add("in-process: bare call of an empty body (CPU)", cpu, "us")
    with Meter() as meter:
        wall, cpu = _per_call_us(lambda: meter.measure(_nothing), calls)
    report.add("in-process: Meter.measure(), empty body, no children (CPU)", cpu, "us")
    report.add("in-process: Meter.measure(), empty body, no children (wall)", wall, "us")
    wall, cpu = _per_call_us(lambda: measure(_nothing), calls)
    report.add("in-process: measure() with its own Meter (CPU)", cpu, "us")
    windows = [measure(_nothing).usage.wall_s * 1e6 for _ in range(2000)]
    report.add(
        "in-process: timed window of an empty body (wall_s)",
        median(windows),
        "us",
        note="what a round of nothing reports",
    )
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(time.sleep, [0.2, 0.2]))  # both workers up
        with Meter() as meter:
            wall, cpu = _per_call_us(lambda: meter.measure(_nothing), 2000)
        report.add(
            "in-process: Meter.measure(), empty body, 2 pool workers (CPU)",
            cpu,
            "us",
            note="/proc reads per live descendant",
        )

    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as temp:
        folder = Path(temp)
        (folder / "test_overhead.py").write_text(_TESTS)
        (folder / "conftest.py").write_text(_CONFTEST)
        (folder / "pytest.ini").write_text("[pytest]\n")
        n = args.rounds
        small = max(1, n // 5)
        # per round, microseconds, [wall, CPU]
        figures: dict[str, tuple[list[float], list[float]]] = {
            name: ([], []) for name in ("bare", "pedantic", "concur", "stored", "sampled")
        }

        def per_round(name: str, large: Times, little: Times, keys: list[str]) -> None:
            """Marginal cost: (time at n - time at n/5) / (n - n/5) rounds."""
            for clock in (0, 1):
                total = sum(large[key][clock] - little[key][clock] for key in keys)
                figures[name][clock].append(total / (n - small) * 1e6)

        concur = "test_concur[serial]"
        pedantic = importlib.util.find_spec("pytest_benchmark") is not None
        select = "bare or concur" + (" or pedantic" if pedantic else "")
        if not pedantic:
            print("  (pytest-benchmark is not installed: pip install -e .[bench] to compare)")
        for _ in range(args.repeat):
            sessions = [
                (_session(folder, rounds, select),
                 _session(folder, rounds, "concur"),
                 _session(folder, rounds, "concur", sampling=True))
                for rounds in (n, small)
            ]  # fmt: skip
            (both, alone, sampled), (both_s, alone_s, sampled_s) = sessions
            per_round("bare", both, both_s, ["test_bare:call"])
            if pedantic:
                per_round("pedantic", both, both_s, ["test_pedantic:call"])
            per_round("concur", both, both_s, [f"{concur}:call"])
            ends = [f"{concur}:call", f"{concur}:teardown", "sessionfinish"]
            per_round("stored", alone, alone_s, ends)
            per_round("sampled", sampled, sampled_s, [f"{concur}:call"])
        # the body itself costs what the bare loop costs: subtract it from the others
        for name in ("pedantic", "concur", "stored", "sampled"):
            for clock in (0, 1):
                runs = figures[name][clock]
                if not runs:
                    continue
                runs[:] = [
                    run - bare for run, bare in zip(runs, figures["bare"][clock], strict=True)
                ]
        stored_rounds = pytest_concur.load(folder / "results")
        if "sample_interval_s" in stored_rounds:  # rounds measured with sampling off
            stored_rounds = stored_rounds[stored_rounds["sample_interval_s"].isna()]
        window_us = float(stored_rounds["wall_s"].median()) * 1e6

    labels = {
        "bare": f"session: bare loop, per call (N={n} and {small})",
        "pedantic": "session: pytest-benchmark pedantic, added per round",
        "concur": "session: pytest-concur, added per round",
        "stored": "session: pytest-concur per round incl. storage",
        "sampled": "session: pytest-concur per round, default sampling on",
    }
    for name, label in labels.items():
        walls, cpus = figures[name]
        if not cpus:
            continue
        target = ("<=", TARGET_US) if name in ("concur", "stored") else None
        if name == "sampled":
            target = ("<=", TARGET_SAMPLED_US)
        report.add(label + " (CPU)", median(cpus), "us", target, note=_spread(cpus))
        report.add(
            label + " (wall)",
            median(walls),
            "us",
            note=_spread(walls) + "; includes waiting for a CPU on a busy machine",
        )
    report.add(
        "session: wall_s stored for an empty round (median)",
        window_us,
        "us",
        note="the plugin's own work inside the timed window",
    )
    sampler = CoreSampler(DEFAULT_SAMPLE_INTERVAL_S)
    try:
        sampler.start()  # up, and sampling into its ring
        before, started = sampler.cpu_s() or 0.0, time.perf_counter()
        time.sleep(3.0)
        share = ((sampler.cpu_s() or 0.0) - before) / (time.perf_counter() - started) * 100
    finally:
        sampler.close()
    report.add(
        f"sampler process at the default {DEFAULT_SAMPLE_INTERVAL_S:g} s interval",
        share,
        "% core",
        ("<=", TARGET_SAMPLER_PERCENT),
        note="its own CPU clock over 3 s (details: bench_sampler.py)",
    )
    return report.finish(args.json or json_arg(sys.argv))


if __name__ == "__main__":
    sys.exit(main())
