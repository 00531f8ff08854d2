"""What the installed plugin costs a pytest run that has no experiments.

Target (issues 12 and 19): a plain one-test pytest run costs at most 30 ms more with the
plugin installed than with ``-p no:concur``, with and without bytecode caches.

Method. A temporary folder holds one test file with one passing test and nothing else
(no conftest, no ini file). Each repetition runs ``python -m pytest -q -p
no:cacheprovider test_one.py`` as a fresh process, once with the plugin and once with
``-p no:concur``, alternating which goes first so drift in the machine's load falls on
both alike. Figures: the median wall time of each, the median of the paired differences
(the target), and its interquartile range as the spread. A process start is ~0.3-1 s,
so the figure needs a quiet machine and many repetitions.

Two cases. *Cached*: the runs write and use .pyc files as an ordinary install does
(PYTHONDONTWRITEBYTECODE is removed for them). *Uncached*: as a fresh install in a
container image with a read-only or never-written site-packages: PYTHONDONTWRITEBYTECODE=1,
and before every run the plugin package's ``__pycache__`` folders (its .pyc files and
pytest's assertion-rewritten ones) and the test folder's are deleted, so every plugin
module a run imports is read, rewritten by pytest and compiled from source.

Run: python benchmarks/bench_guest.py [--repetitions N] [--case cached|uncached|both]
[--json PATH]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench import Report

import pytest_concur

TARGET_MS = 30.0
#: wall and CPU seconds of one pytest process
Run = tuple[float, float]
#: as a user's install runs: with .pyc files (a PYTHONDONTWRITEBYTECODE environment would
#: compile every module of pytest and the plugin from source on every run)
_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
#: a fresh install where nothing is ever cached
_UNCACHED_ENV = {**_ENV, "PYTHONDONTWRITEBYTECODE": "1"}
PACKAGE = Path(pytest_concur.__file__).parent
TEST_FILE = "def test_one():\n    assert True\n"


def _forget_bytecode(folder: Path) -> None:
    """Delete the plugin's and the test folder's .pyc files, pytest's rewritten ones too."""
    for root in (PACKAGE, folder):
        for cache in root.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(folder: Path, *extra: str, cached: bool = True) -> tuple[float, float]:
    """Wall and CPU seconds of one pytest process."""
    if not cached:
        _forget_bytecode(folder)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra,
               "test_one.py"]  # fmt: skip
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False,
                          env=_ENV if cached else _UNCACHED_ENV)  # fmt: skip
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, _children_cpu() - cpu


def _quartiles(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def _pairs(folder: Path, repetitions: int, *, cached: bool) -> tuple[list[Run], list[Run]]:
    """(with the plugin, with -p no:concur): wall and CPU seconds, alternating the order."""
    _run(folder, cached=cached)  # warm the file cache (and, cached, the .pyc files)
    _run(folder, "-p", "no:concur", cached=cached)
    with_plugin: list[Run] = []
    without: list[Run] = []
    for repetition in range(repetitions):
        if repetition % 2:
            without.append(_run(folder, "-p", "no:concur", cached=cached))
            with_plugin.append(_run(folder, cached=cached))
        else:
            with_plugin.append(_run(folder, cached=cached))
            without.append(_run(folder, "-p", "no:concur", cached=cached))
    return with_plugin, without


def _add_case(
    report: Report, case: str, with_plugin: list[Run], without: list[Run], repetitions: int
) -> None:
    added_ms = [(a[0] - b[0]) * 1000 for a, b in zip(with_plugin, without, strict=True)]
    added_cpu_ms = [(a[1] - b[1]) * 1000 for a, b in zip(with_plugin, without, strict=True)]
    low, high = _quartiles(added_ms)
    report.add(f"{case}: run with the plugin (median)",
               statistics.median(w for w, _ in with_plugin) * 1000, "ms")  # fmt: skip
    report.add(f"{case}: run with -p no:concur (median)",
               statistics.median(w for w, _ in without) * 1000, "ms")  # fmt: skip
    report.add(f"{case}: added by the plugin (median of pairs)", statistics.median(added_ms),
               "ms", ("<=", TARGET_MS), note=f"IQR {low:.1f} .. {high:.1f} ms, "
               f"{repetitions} pairs")  # fmt: skip
    # CPU time is what a loaded machine disturbs least: the cost itself, without waiting
    cpu_low, cpu_high = _quartiles(added_cpu_ms)
    report.add(f"{case}: CPU added by the plugin (median of pairs)",
               statistics.median(added_cpu_ms), "ms",
               note=f"IQR {cpu_low:.1f} .. {cpu_high:.1f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=40)
    parser.add_argument("--case", choices=("cached", "uncached", "both"), default="both")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    report = Report("bench_guest: a plain pytest run with and without pytest-concur")
    report.header()
    cases = ("cached", "uncached") if args.case == "both" else (args.case,)
    with tempfile.TemporaryDirectory(prefix="bench-guest-") as tmp:
        folder = Path(tmp)
        (folder / "test_one.py").write_text(TEST_FILE)
        for case in cases:
            with_plugin, without = _pairs(folder, args.repetitions, cached=case == "cached")
            _add_case(report, case, with_plugin, without, args.repetitions)
        _forget_bytecode(folder)  # leave the package as this environment keeps it
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
