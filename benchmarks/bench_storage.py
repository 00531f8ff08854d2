"""Storage and report speed: writing rows, loading a folder of runs, the terminal report.

Targets (issue 8), each under the stated time on the machine of docs/performance.md:
  writing one million rows                 < 2 s  (what a session of a million rounds
                                                  waits for at its end: its spilled parts
                                                  merged into one Parquet file)
  loading a folder of 100 runs             < 2 s  (``pytest_concur.load``), runs of
                                                  1,000 rows (100,000 rows in all)
  the report for 10,000 rows               < 1 s  (``report_lines`` of
                                                  ``pytest_concur._reporting.terminal``)

Rows are shaped like the plugin's: every column of the rounds schema, plain values
(timestamps as ISO strings, as rows travel from xdist workers), 100 experiments x 5
variants x rounds, with wall times spread as real rounds are. Each figure is the best
of a few repeats (the least disturbed run on a shared machine; all runs are printed).
For information: what spilling costs per round on the way (between rounds, not inside
one), ``write_rows`` of a million Python dicts in one call (a library call the plugin does
not make: it converts rows a part at a time as they arrive), 100 runs of 10,000 rows, and
peak memory.

Run: python benchmarks/bench_storage.py [--repeat K] [--json PATH]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from _bench import Report

import pytest_concur
from pytest_concur._reporting.terminal import report_lines
from pytest_concur._storing.files import write_rows
from pytest_concur._storing.schema import ROUNDS_SCHEMA

_VARIANTS = (("serial", 1), ("threads", 2), ("threads", 4), ("processes", 2), ("processes", 4))


def _template() -> dict[str, Any]:
    """One row with a plausible value in every column of the schema."""
    now = datetime.now(UTC).isoformat()
    row: dict[str, Any] = {}
    for column in ROUNDS_SCHEMA:
        kind = column.type
        if pa.types.is_timestamp(kind):
            row[column.name] = now
        elif pa.types.is_boolean(kind):
            row[column.name] = False
        elif pa.types.is_integer(kind):
            row[column.name] = 1
        elif pa.types.is_floating(kind):
            row[column.name] = 0.5
        else:
            row[column.name] = None
    row.update(
        host="bench", python="3.11.7", implementation="CPython", free_threaded=False,
        gil_enabled=True, cpu_model="AMD EPYC", logical_cpus=2, usable_cpus=2,
        platform="Linux", workload="cpu", outcome="passed", exclusive=True,
        session_complete=True, params="", params_json="{}",
    )  # fmt: skip
    return row


def make_rows(count: int, run: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` rounds of one run: experiments x variants x rounds, in that order."""
    rng = random.Random(seed + run)
    base = _template()
    base["run_id"] = f"20260101T000000-{run:08x}"
    rounds = max(1, count // (100 * len(_VARIANTS)))
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        experiment = f"experiments/test_bench.py::test_case_{len(rows) // (rounds * 5):04d}"
        for model, workers in _VARIANTS:
            speed = 1.0 if model == "serial" else workers * 0.8
            for index in range(rounds):
                if len(rows) == count:
                    break
                wall = rng.lognormvariate(0, 0.05) / speed
                cpu = wall * min(workers, 2) * 0.95
                row = dict(base)
                row.update(
                    experiment=experiment,
                    test_id=f"{experiment}[{model if model == 'serial' else f'{model}-{workers}'}]",
                    model=model, workers=workers, round=index, warmup=index == 0,
                    wall_s=wall, cpu_user_s=cpu * 0.9, cpu_sys_s=cpu * 0.1, cpu_s=cpu,
                    cores_used=cpu / wall, utilization=cpu / wall / 2,
                    ctx_voluntary=rng.randrange(100), max_rss_bytes=rng.randrange(1 << 20, 1 << 27),
                )  # fmt: skip
                rows.append(row)
    return rows


def _best(runs: int, action: Callable[[], object]) -> tuple[float, list[float]]:
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times), times


def _note(times: list[float]) -> str:
    return "best of " + ", ".join(f"{t:.2f}" for t in times)


def _session_path(report: Report, folder: Path, repeat: int) -> None:
    """A session of a million rounds: rows spilled in parts as they arrive (between
    rounds), then merged into one file at the end, through the plugin's own Spill."""
    from pytest_concur._storing.spill import Spill

    arriving: list[float] = []
    ending: list[float] = []
    for attempt in range(repeat):
        spill = Spill(folder / f"session-{attempt}", "20260101T000000-5e551011")
        spent = 0.0
        for chunk in range(500):
            rows = make_rows(2_000, run=chunk)
            started = time.perf_counter()
            for row in rows:  # one round at a time, as the plugin hands them over
                spill.add([row])
            spent += time.perf_counter() - started
        arriving.append(spent)
        started = time.perf_counter()
        written = spill.finish(complete=True)
        ending.append(time.perf_counter() - started)
        assert pq.read_metadata(written["rounds"]).num_rows == 1_000_000, written
    report.add(
        "session of 1,000,000 rounds: the write at its end",
        min(ending),
        "s",
        ("<=", 2.0),
        note=_note(ending) + " (500 parts merged into one Parquet file)",
    )
    report.add(
        "the same session: spilling, per round",
        min(arriving) / 1e6 * 1e6,
        "us",
        note=f"{min(arriving):.1f} s in all, spread between rounds",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repeats per figure")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    report = Report("storage and report speed")
    report.header()
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as temp:
        folder = Path(temp)

        _session_path(report, folder, args.repeat)
        million = make_rows(1_000_000, run=0)
        best, times = _best(args.repeat, partial(write_rows, million, folder / "million.parquet"))
        report.add("write_rows: 1,000,000 dicts in one call", best, "s", note=_note(times))
        million.clear()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report.add("peak memory of this process so far", peak, "MiB", note="rows in memory")

        for per_run, name, goal in ((1_000, "runs", 2.0), (10_000, "big-runs", None)):
            runs = folder / name
            runs.mkdir()
            for run in range(100):
                rows = make_rows(per_run, run=run)
                write_rows(rows, runs / f"{rows[0]['run_id']}.parquet", durable=False)
            best, times = _best(args.repeat, partial(pytest_concur.load, runs))
            report.add(
                f"load: folder of 100 runs x {per_run:,} rows",
                best,
                "s",
                ("<=", goal) if goal else None,
                note=_note(times),
            )

        ten_thousand = folder / "ten-thousand.parquet"
        write_rows(make_rows(10_000, run=7), ten_thousand)
        frame = pytest_concur.load(ten_thousand)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the report may warn about the synthetic spread
            best, times = _best(args.repeat, lambda: report_lines(frame))
            lines = report_lines(frame)
        report.add(
            "report_lines: 10,000 rows (500 variants)",
            best,
            "s",
            ("<=", 1.0),
            note=_note(times) + f"; {len(lines)} lines",
        )
        best, times = _best(args.repeat, lambda: report_lines(pytest_concur.load(ten_thousand)))
        report.add("load + report_lines: 10,000 rows", best, "s", note=_note(times))
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
