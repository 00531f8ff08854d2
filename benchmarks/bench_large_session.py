"""A large session: 100,000 measured rounds, memory bounded, the report within seconds.

A real pytest session in a process of its own runs one experiment of 100,000 rounds
(serial, an empty body) and saves and reports them (``--concur-report``), with the
development environment's other plugins (hypothesis, pytest-benchmark) off. A conftest
in the session notes when the last round's call ended and when the terminal summary
was printed; the session's peak RSS comes from ``getrusage(RUSAGE_CHILDREN)``. The
same session with 1,000 rounds gives the baseline RSS.

Targets (issue 7, docs/guarantees.md):
  end of the last round -> report printed      <= 5 s
  peak RSS, 100,000 rounds minus 1,000 rounds  <= 150 MB  (held as row dicts, as the
                                                 plugin did before spilling, the rows
                                                 alone took about 100 MB more)
For information: the session's wall time and its rows per second.

Run: python benchmarks/bench_large_session.py [--rounds N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
from _bench import Report

EXPERIMENT = """
import pytest

@pytest.mark.concur(workload="cpu", models=["serial"], rounds={rounds}, warmup=0)
def test_empty(concur):
    pass
"""

# plugins of this project's development environment, not of pytest-concur: their own
# end-of-session work (hypothesis prints its statistics) is not what is measured here
OTHER_PLUGINS_OFF = ("-p", "no:hypothesispytest", "-p", "no:benchmark")

# notes the moments that matter, in the session's own clock
CONFTEST = """
import json
import time

import pytest

MOMENTS = {}

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call":
        MOMENTS["last_round_end"] = time.monotonic()
    return report

@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    MOMENTS["report_printed"] = time.monotonic()

def pytest_unconfigure(config):
    with open("moments.json", "w") as handle:
        json.dump(MOMENTS, handle)
"""


def run_session(rounds: int) -> dict[str, float]:
    """One session in a fresh process; its moments, wall time, peak RSS and rows."""
    with tempfile.TemporaryDirectory(prefix="bench-large-") as folder:
        root = Path(folder)
        (root / "test_large.py").write_text(textwrap.dedent(EXPERIMENT.format(rounds=rounds)))
        (root / "conftest.py").write_text(CONFTEST)
        (root / "pytest.ini").write_text("[pytest]\n")
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *OTHER_PLUGINS_OFF,
             "--concur-report", "--concur-results", "results", "test_large.py"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"the session failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        moments = json.loads((root / "moments.json").read_text())
        [results] = [
            path
            for path in (root / "results" / "rounds").glob("*.parquet")
            if pq.read_schema(path).metadata[b"pytest_concur.table"] == b"rounds"
        ]
        return {
            "wall_s": wall,
            "report_s": moments["report_printed"] - moments["last_round_end"],
            # the largest child so far: run the small session first
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
            "rows": pq.read_metadata(results).num_rows,
        }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100_000)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    report = Report(f"a large session: {args.rounds:,} rounds")
    report.header()
    small = run_session(1_000)
    large = run_session(args.rounds)
    if large["rows"] != args.rounds:
        raise SystemExit(f"{large['rows']} rows stored, {args.rounds} measured")
    report.add("rows stored", large["rows"], "rows")
    report.add("session wall time", large["wall_s"], "s")
    report.add("rounds per second, all in", args.rounds / large["wall_s"], "1/s")
    report.add("end of the last round -> report printed", large["report_s"], "s", ("<=", 5.0))
    report.add("the same, 1,000 rounds", small["report_s"], "s")
    report.add("peak RSS of the session", large["peak_rss_bytes"] / 2**20, "MiB")
    report.add("peak RSS, 1,000 rounds", small["peak_rss_bytes"] / 2**20, "MiB")
    growth = (large["peak_rss_bytes"] - small["peak_rss_bytes"]) / 2**20
    report.add(f"peak RSS growth for {args.rounds - 1_000:,} more rounds", growth, "MiB",
               ("<=", 150.0))  # fmt: skip
    return report.finish(args.json)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
