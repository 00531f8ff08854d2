"""What the per-core sampler costs: its own CPU, at its default interval and faster.

Target (issue 8): the per-core sampler costs at most 1% of one core at its default
interval (``--concur-sample-interval``, DEFAULT_SAMPLE_INTERVAL_S).

Method. The sampler is a separate process (pytest_concur/_measuring/sampler.py); its CPU time is
read from Linux's per-process CPU clock, in nanoseconds, before and after it samples
for a while. Cost = its CPU seconds / the seconds it sampled, in percent of one core.
Measured twice per interval: with this process idle, and with this process running a
busy loop (the case the sampler exists for: it must wake on time while the measured
code keeps a core busy). Samples taken against samples due show whether it kept up.
The sampler's cost between rounds is printed too (it samples on its schedule all
session long; rounds read its ring). The per-round cost of reading the ring, seen from
the measuring process, is in bench_overhead.py ("default sampling on").

Run: python benchmarks/bench_sampler.py [--seconds S] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time

from _bench import Report

from pytest_concur._measuring.sampler import CoreSampler
from pytest_concur._running.configuration import DEFAULT_SAMPLE_INTERVAL_S

TARGET_PERCENT = 1.0


def _busy(seconds: float) -> None:
    end = time.thread_time() + seconds
    total = 0
    while time.thread_time() < end:
        total += 1


def _sampler_cpu(sampler: CoreSampler) -> float:
    cpu = sampler.cpu_s()
    if cpu is None:
        raise SystemExit("cannot read the sampler's CPU clock")
    return cpu


def _sample_for(sampler: CoreSampler, seconds: float, *, busy: bool) -> tuple[float, float, int]:
    """(sampler CPU seconds, wall seconds, samples taken) over about ``seconds``."""
    before = _sampler_cpu(sampler)
    sampler.start()
    started = time.perf_counter()
    if busy:
        _busy(seconds)  # CPU seconds of this thread: longer in wall time on a busy machine
    else:
        time.sleep(seconds)
    samples = sampler.stop()
    wall = time.perf_counter() - started
    return _sampler_cpu(sampler) - before, wall, len(samples.times_ns) - 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="sampling time per figure")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    report = Report("per-core sampler cost")
    report.started["default_interval_s"] = DEFAULT_SAMPLE_INTERVAL_S
    report.header()
    seconds = args.seconds
    for interval in (DEFAULT_SAMPLE_INTERVAL_S, 0.01):
        sampler = CoreSampler(interval)
        try:
            sampler.start()  # the process is up and has read /proc/stat once
            sampler.stop()
            for busy in (False, True):
                cpu, wall, taken = _sample_for(sampler, seconds, busy=busy)
                due = int(wall / interval)
                default = interval == DEFAULT_SAMPLE_INTERVAL_S
                load = "busy measured process" if busy else "idle measured process"
                report.add(
                    f"sampler CPU at {interval * 1000:g} ms, {load}",
                    cpu / wall * 100,
                    "% core",
                    ("<=", TARGET_PERCENT) if default else None,
                    note=f"{taken} samples of {due} due; {cpu / max(taken, 1) * 1e6:.0f} us each",
                )
            before = _sampler_cpu(sampler)
            time.sleep(min(seconds, 5.0))
            idle = _sampler_cpu(sampler) - before
            report.add(
                f"sampler CPU at {interval * 1000:g} ms, between rounds",
                idle / min(seconds, 5.0) * 100,
                "% core",
                note="it samples all session long, into its ring (no rounds asked)",
            )
        finally:
            sampler.close()
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
