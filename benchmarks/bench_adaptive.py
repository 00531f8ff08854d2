"""Adaptive rounds against fixed ones: the full suite with ``--concur-rounds auto`` and
with 10 fixed rounds.

Target (issue 15): auto mode reaches the same verdict for every claim as 10 fixed rounds,
in at most 60% of the time.

Method. ``pytest experiments/`` runs twice in fresh sessions, results in temporary
folders: ``--concur-rounds=10``, then ``--concur-rounds=auto`` (the stopping rule of
docs/adaptive-rounds.md with its defaults: 5 to 10 rounds, +-3%, 120 s per variant).
Each claim's status is read back from the verdicts file; each session is timed from
start to exit. Run it on a quiet machine: crowded rounds are measured again in both
sessions, which makes their times depend on the load.

Run: python benchmarks/bench_adaptive.py [--json PATH] [-- extra pytest args]
(extra args go to both sessions, e.g. ``-- -k coroutines`` for a short trial.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _bench import Report
from _verdict_runs import print_statuses, run_suite

TARGET_SHARE = 0.60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument("pytest_args", nargs="*", help="passed to both sessions")
    args = parser.parse_args()
    report = Report("adaptive rounds against 10 fixed rounds (full suite)")
    report.header()
    with tempfile.TemporaryDirectory(prefix="bench-adaptive-") as temp:
        fixed = run_suite(["--concur-rounds=10", *args.pytest_args], Path(temp, "fixed"))
        auto = run_suite(["--concur-rounds=auto", *args.pytest_args], Path(temp, "auto"))
    print_statuses({"10 rounds": fixed, "auto": auto})
    for name, run in (("10 rounds", fixed), ("auto", auto)):
        print(f"  {name}: exit {run.returncode}: {run.last_line}")
    differ = [key for key in fixed.statuses if auto.statuses.get(key) != fixed.statuses[key]]
    print(f"  auto: why the variants stopped: {auto.stop_reasons}")
    for key in differ:  # the numbers behind a verdict that differs, in both sessions
        for name, run in (("10 rounds", fixed), ("auto", auto)):
            for line in run.details.get(key, []):
                print(f"  {name}: {line}")
    report.add("10 fixed rounds", fixed.wall_s, "s", note=f"{fixed.measured_rounds} rounds")
    report.add("auto", auto.wall_s, "s", note=f"{auto.measured_rounds} rounds")
    report.add("auto / fixed time", auto.wall_s / fixed.wall_s, "x", ("<=", TARGET_SHARE))
    report.add("claims whose verdict differs", len(differ), "claims", ("<=", 0),
               note="; ".join(f"{claim[:40]} ({python})" for claim, python in differ))  # fmt: skip
    report.add("verdicts read back", len(fixed.statuses), "claims", (">=", 1))
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
