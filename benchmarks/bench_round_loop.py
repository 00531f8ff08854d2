"""The round loop alone: CPU per round of ``run_rounds`` over an empty body, in-process.

What ``bench_overhead.py`` measures through a whole pytest session, less pytest, the
session's spill of rows to disk and the GIL watch: the round loop of
``_running/rounds.py`` with its measurement (``Meter``), its watch (time limit, per-core
sampling), the row (``RowBuilder``) and the schedule, each row handed to a list. Useful to
see what a change to the round path costs without a session's noise. No target of its
own: the per-round targets are bench_overhead.py's (50 us sampling off, 60 us on).

Run: python benchmarks/bench_round_loop.py [--rounds N] [--repeat K] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time

from _bench import Report, json_arg, median

from pytest_concur._measuring.environment import current_environment
from pytest_concur._measuring.sampler import CoreSampling
from pytest_concur._running.configuration import DEFAULT_SAMPLE_INTERVAL_S, RoundPlan
from pytest_concur._running.fixture import Concur
from pytest_concur._running.rounds import run_rounds
from pytest_concur._running.row import ItemFacts, RoundRow
from pytest_concur.models import ModelOptions, SerialModel

FACTS = ItemFacts(
    test_id="bench.py::test_empty[serial]",
    experiment="bench.py::test_empty",
    params="",
    params_json="{}",
    workload="cpu",
    model="serial",
    workers=1,
    start_method=None,
)


def _nothing() -> None:
    pass


def _cpu_us_per_round(rounds: int, sampling: CoreSampling | None) -> float:
    environment = current_environment()
    runner = Concur(SerialModel(), 1, ModelOptions(), trace=True)
    rows: list[RoundRow] = []
    started = time.process_time()
    run_rounds(
        _nothing,
        runner,
        RoundPlan(warmup=0, rounds=rounds),
        FACTS,
        environment,
        exclusive=True,
        skip_types=(),
        on_round=rows.append,
        sampling=sampling,
        on_timeline=lambda tasks, cores: None,
    )
    spent = time.process_time() - started
    assert len(rows) == rounds
    return spent / rounds * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000, help="rounds per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    report = Report("the round loop alone, CPU per round of an empty body")
    report.header()
    off = [_cpu_us_per_round(args.rounds, None) for _ in range(args.repeat)]
    sampling = CoreSampling(DEFAULT_SAMPLE_INTERVAL_S)
    try:
        on = [_cpu_us_per_round(args.rounds, sampling) for _ in range(args.repeat)]
    finally:
        sampling.close()
    for label, runs in (("sampling off", off), ("default per-core sampling on", on)):
        note = f"median of {len(runs)} runs, {min(runs):.1f}..{max(runs):.1f}"
        report.add(f"run_rounds, {label} (CPU)", median(runs), "us", note=note)
    return report.finish(args.json or json_arg(sys.argv))


if __name__ == "__main__":
    sys.exit(main())
