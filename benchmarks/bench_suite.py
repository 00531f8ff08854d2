"""How long the experiment suite takes: quick mode and the full run.

Targets (issue 4 and 8), on the 2-CPU machine of docs/performance.md:
  pytest experiments/ --concur-quick     < 2 minutes
  pytest experiments/                    < 15 minutes

Each is one pytest session in a fresh subprocess, results written to a temporary folder
(the user's results/ is left alone), timed from start to exit. The exit status of each
session and its last summary line are printed: a suite that fails is reported as such,
whatever its time. The load average before and after is printed with the machine: the
suite measures real concurrency, so a machine busy with other work makes it slower.

Run: python benchmarks/bench_suite.py [--quick-only] [--json PATH] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from _bench import ROOT, Report, run_experiments

QUICK_TARGET_S = 120.0
FULL_TARGET_S = 15 * 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick-only", action="store_true", help="skip the full run")
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument("pytest_args", nargs="*", help="passed to both sessions")
    args = parser.parse_args()
    if not (ROOT / "experiments").is_dir():
        print("no experiments/ folder: nothing to time")
        return 1
    report = Report("experiment suite time")
    report.header()
    runs = [("quick", ["--concur-quick"], QUICK_TARGET_S)]
    if not args.quick_only:
        runs.append(("full", [], FULL_TARGET_S))
    for name, extra, target in runs:
        with tempfile.TemporaryDirectory(prefix="bench-suite-") as results:
            elapsed, status, summary = run_experiments(extra + args.pytest_args, results)
        report.add(
            f"pytest experiments/ ({name})",
            elapsed,
            "s",
            ("<=", target),
            note=f"exit status {status}: {summary}",
        )
        report.add(f"{name} run exit status", status, "", ("<=", 0))
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
