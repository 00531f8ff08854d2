"""How well the fitted scaling laws predict speedup at more workers than they were fitted on.

Target (issue 14): fitted on 1, 2 and 4 workers, the prediction at 8 and 16 workers is
within 25% of the measured speedup (a machine with 16 usable CPUs).

Method. One pytest session (a subprocess, the plugin as users load it) measures a
CPU-bound experiment (zlib compression of 32 chunks of 1 MB, ``processes`` model) at
serial and at every worker count needed: the fit counts and the check counts. The
fit uses only the fit counts' rounds (USL with three or more counts, else Amdahl, as
``pc.scaling`` does); each check count's measured median speedup is compared with the
prediction and its bootstrap interval. Check counts above the usable CPUs are not
measured (a prediction for cores the machine lacks cannot be checked here) unless
``--check`` names them.

Defaults: fit on 1, 2, 4, ... up to a quarter of the usable CPUs (at least 1, 2), check
at 2x and 4x the largest fit count, where the machine has the CPUs. On 16 CPUs: fit on
1, 2, 4; check 8 and 16. On 2 CPUs: fit on 1, 2; predict 4 and 8, nothing to check.

Run: python benchmarks/bench_scaling.py [--fit 1,2,4] [--check 8,16] [--rounds 5]
     [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from _bench import Report, json_arg

import pytest_concur as pc
from pytest_concur._advice.scaling import scaling_of

EXPERIMENT = """
import zlib
import pytest

CHUNK = bytes(range(256)) * 4096  # 1 MB

def squeeze(seed):
    return len(zlib.compress(CHUNK + bytes([seed % 256]), 6))

@pytest.mark.concur(workload="cpu", models=["serial", "processes"], workers={workers},
                    rounds={rounds}, warmup=1)
def test_squeeze(concur):
    concur.map(squeeze, range(32))
"""


def _counts(text: str | None) -> list[int] | None:
    return None if text is None else [int(part) for part in text.split(",") if part]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", help="worker counts to fit on, e.g. 1,2,4")
    parser.add_argument("--check", help="worker counts to measure and compare, e.g. 8,16")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    usable = len(os.sched_getaffinity(0))
    fit = _counts(args.fit)
    if fit is None:
        fit = [1, 2]
        while fit[-1] * 2 <= usable // 4:
            fit.append(fit[-1] * 2)
    predicted = [fit[-1] * 2, fit[-1] * 4]
    check = _counts(args.check)
    if check is None:
        check = [n for n in predicted if n <= usable]
    report = Report("bench_scaling: USL/Amdahl predictions against measured speedups")
    report.header()
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_scaling.py").write_text(
            textwrap.dedent(EXPERIMENT).format(workers=sorted({*fit, *check}), rounds=args.rounds)
        )
        results = Path(folder, "results")
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             f"--concur-results={results}", "test_scaling.py"],
            cwd=folder, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if run.returncode != 0:
            print(run.stdout[-3000:], run.stderr[-3000:])
            return 2
        rows = pc.load(results)
    good = rows[(~rows["warmup"].astype(bool)) & (rows["outcome"] == "passed")]
    serial = good.loc[good["model"] == "serial", "wall_s"].astype(float).tolist()
    walls = {
        int(n): group["wall_s"].astype(float).tolist()
        for n, group in good[good["model"] == "processes"].groupby("workers")
    }
    scaling = scaling_of({n: walls[n] for n in fit if n in walls}, serial)
    if scaling is None:
        print("nothing could be fitted")
        return 2
    law = scaling.fit
    print(f"  fitted on {fit}: {law.law} sigma={law.sigma:.4f} kappa={law.kappa:.5f}")
    base = float(np.median(serial))
    for n in fit:
        report.add(f"measured speedup at {n} workers (fit)", base / float(np.median(walls[n])), "x")
    for n in sorted({*predicted, *check}):
        value = law.predict(n)
        interval = next(((p.low, p.high) for p in scaling.predictions if p.workers == n), None)
        note = f"interval {interval[0]:.2f}-{interval[1]:.2f}" if interval else ""
        report.add(f"predicted speedup at {n} workers", value, "x", note=note)
        if n in walls:
            measured = base / float(np.median(walls[n]))
            report.add(f"measured speedup at {n} workers", measured, "x")
            report.add(
                f"prediction error at {n} workers",
                abs(value - measured) / measured * 100,
                "%",
                ("<=", 25.0) if usable >= n else None,
            )
        else:
            print(f"  {n} workers not measured: this machine has {usable} usable CPUs")
    if scaling.stops_paying_at is not None:
        print(f"  more workers stop paying past {scaling.stops_paying_at} (doubling adds <10%)")
    return report.finish(args.json or json_arg(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
