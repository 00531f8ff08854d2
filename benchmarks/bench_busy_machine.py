"""Verdicts that survive a busy machine: the quick suite quiet, then beside a busy core.

Target (issue 15): every verdict of the loaded run equals the quiet run's or is
inconclusive (crowded rounds are measured again after a wait for a quiet machine; a
comparison that still rests on crowded rounds is "inconclusive: machine busy", never
confirmed or refuted on them). How much longer the loaded run took is printed.

Method. ``pytest experiments/ --concur-quick`` runs twice in fresh sessions, results in
temporary folders: first on the machine as it is (run it on a quiet machine: the quiet
run is the reference), then beside one process that keeps one core busy for the whole
session (a pure-Python loop, started before and killed after). Each claim's status is
read back from the verdicts file. Crowded rounds and repeats of the loaded run are
counted from its rounds file.

Run: python benchmarks/bench_busy_machine.py [--json PATH] [-- extra pytest args]
(extra args go to both sessions, e.g. ``-- -k coroutines`` for a short trial.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _bench import Report
from _verdict_runs import SuiteRun, print_statuses, run_suite

# keeps one core busy until its parent ends (a killed benchmark leaves no busy loop behind)
BUSY_CORE = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"


def _disagreements(quiet: SuiteRun, loaded: SuiteRun) -> list[str]:
    """Claims whose loaded verdict is neither the quiet one nor inconclusive."""
    wrong = []
    for key, status in loaded.statuses.items():
        reference = quiet.statuses.get(key)
        if status != "inconclusive" and status != reference:
            wrong.append(f"{key[0]} ({key[1]}): quiet {reference}, loaded {status}")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument("pytest_args", nargs="*", help="passed to both sessions")
    args = parser.parse_args()
    report = Report("verdicts beside a busy core (quick suite)")
    report.header()
    extra = ["--concur-quick", *args.pytest_args]
    with tempfile.TemporaryDirectory(prefix="bench-busy-") as temp:
        quiet = run_suite(extra, Path(temp, "quiet"))
        neighbour = subprocess.Popen([sys.executable, "-c", BUSY_CORE])
        try:
            loaded = run_suite(extra, Path(temp, "loaded"))
        finally:
            neighbour.kill()
            neighbour.wait()
    print_statuses({"quiet": quiet, "busy core": loaded})
    for name, run in (("quiet", quiet), ("loaded", loaded)):
        print(f"  {name}: exit {run.returncode}: {run.last_line}")
    wrong = _disagreements(quiet, loaded)
    for line in wrong:
        print(f"  DISAGREES  {line}")
    report.add("quiet run", quiet.wall_s, "s", note=f"{len(quiet.statuses)} claim verdicts")
    report.add("loaded run", loaded.wall_s, "s", note="beside one busy core")
    report.add("loaded / quiet time", loaded.wall_s / quiet.wall_s, "x")
    report.add(
        "loaded verdicts neither the quiet one nor inconclusive", len(wrong), "claims", ("<=", 0)
    )
    report.add(
        "loaded verdicts inconclusive",
        sum(1 for status in loaded.statuses.values() if status == "inconclusive"),
        "claims",
        note=f"quiet run: {sum(1 for s in quiet.statuses.values() if s == 'inconclusive')}",
    )
    report.add("loaded run: crowded measured rounds", loaded.crowded_rounds, "rounds",
               note=f"of {loaded.measured_rounds}; {loaded.repeats} repeats")  # fmt: skip
    report.add("verdicts read back", min(len(quiet.statuses), len(loaded.statuses)), "claims",
               (">=", 1))  # fmt: skip
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
