"""The cost of moving work to a process pool: the figures behind transfer_bound.

Sets the thresholds of ``transfer_bound`` in ``_advice/codes.py`` (MOVE_SHARE,
BATCH_OVERHEAD, DATA_BYTES) and checks its ``chunksize`` suggestion. Three experiments run
under serial and processes-2 in one pytest session (results in a temporary folder):

- tiny: 20,000 tasks of about a microsecond each (the first common pool mistake);
- small: 5,000 tasks of about 50 microseconds of arithmetic each (the same mistake, where
  batching can help);
- big: six 24 MiB arguments whose task only takes their length (the second mistake);
- healthy: eight tasks of about 50 ms of the same arithmetic each.

For each, it prints the processes-2 / serial ratio of median wall times, the moving share
the diagnosis measures (``_advice/moving.py``), and the diagnosis. Then small runs again
with the ``chunksize`` the diagnosis suggested, and the moving share and the ratio are
printed again: the suggestion should bring moving near BATCH_OVERHEAD.

Targets: tiny, small and big are transfer_bound (share >= MOVE_SHARE), healthy is not
(share under 0.2); small batched as suggested is not (under MOVE_SHARE). Run under the
exclusive lock on the shared development machine: ``flock -x /work/machine.lock python
benchmarks/bench_transfer.py [--json PATH] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pandas as pd
from _bench import Report

import pytest_concur as pc
from pytest_concur._advice.codes import MOVE_SHARE
from pytest_concur._advice.moving import moving_by_variant
from pytest_concur._rounds.counting import measured, quiet_rounds
from pytest_concur._rounds.variant import keyed
from pytest_concur.analysis import load_companion

EXPERIMENTS = '''
import pytest

MODELS = ["serial", "processes"]


def tiny(x):
    return x + 1


def length(block):
    return len(block)


def arithmetic(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


@pytest.fixture(scope="module")
def blocks():
    return [bytes(24 * 2**20) for _ in range(6)]


@pytest.mark.concur(workload="cpu", models=MODELS, workers=[2], rounds=ROUNDS, warmup=1)
def test_tiny(concur):
    assert concur.map(tiny, range(20_000))[-1] == 20_000


@pytest.mark.concur(workload="cpu", models=MODELS, workers=[2], rounds=ROUNDS, warmup=1)
def test_small(concur):
    assert len(concur.map(arithmetic, [800] * 5_000, chunksize=CHUNKSIZE)) == 5_000


@pytest.mark.concur(workload="cpu", models=MODELS, workers=[2], rounds=ROUNDS, warmup=1)
def test_big(concur, blocks):
    assert concur.map(length, blocks) == [24 * 2**20] * 6


@pytest.mark.concur(workload="cpu", models=MODELS, workers=[2], rounds=ROUNDS, warmup=1)
def test_healthy(concur):
    assert len(concur.map(arithmetic, [300_000] * 8)) == 8
'''


def _session(folder: Path, rounds: int, chunksize: int | None, select: str) -> None:
    folder.mkdir(parents=True)
    source = EXPERIMENTS.replace("ROUNDS", str(rounds)).replace("CHUNKSIZE", repr(chunksize))
    (folder / "test_moving.py").write_text(textwrap.dedent(source))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", select,
               "-W", "ignore::pytest_concur.ConcurWarning", "test_moving.py"]  # fmt: skip
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the session failed:\n{done.stdout}\n{done.stderr}")


def _figures(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    df = pc.load(folder / "results")
    tasks = load_companion(folder / "results", "tasks")
    return df, tasks, pc.diagnose(df, tasks)


def _ratio(df: pd.DataFrame, experiment: str) -> float:
    mine = measured(keyed(df))
    mine = mine[mine["experiment"].str.endswith(experiment)]
    walls = mine.groupby("model", observed=True)["wall_s"].median()
    return float(walls["processes"] / walls["serial"])


def _report(
    report: Report,
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    experiment: str,
    label: str,
    target: tuple[str, float] | None = None,
) -> str:
    df, tasks, found = frames
    judged = quiet_rounds(measured(keyed(df))).rows  # the rounds the diagnosis judges on
    moving = {key[0]: m for key, m in moving_by_variant(judged, tasks).items()}
    share = next(m.share for name, m in moving.items() if name.endswith(experiment))
    text = str(found[found["experiment"].str.endswith(experiment)
                     & (found["model"] == "processes")]["text"].iloc[0])  # fmt: skip
    if target is None:
        target = (">=", MOVE_SHARE) if experiment != "healthy" else ("<=", 0.2)
    report.add(f"{label}: processes-2 / serial wall", _ratio(df, experiment), "x")
    report.add(f"{label}: moving share", share, "", target, note=text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per variant")
    args = parser.parse_args()
    report = Report("the cost of moving work to a process pool (transfer_bound)")
    report.header()
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as temp:
        first = Path(temp, "first")
        _session(first, args.rounds, None, "tiny or small or big or healthy")
        df, tasks, found = _figures(first)
        for experiment in ("tiny", "big", "healthy"):
            _report(report, (df, tasks, found), experiment, experiment)
        small = _report(report, (df, tasks, found), "small", "small")
        suggested = re.search(r"chunksize=(\d+)", small)
        if suggested is not None:
            batched = Path(temp, "batched")
            _session(batched, args.rounds, int(suggested.group(1)), "small")
            df, tasks, found = _figures(batched)
            label = f"small, chunksize={suggested.group(1)}"
            _report(report, (df, tasks, found), "small", label, ("<=", MOVE_SHARE))
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
