"""Shared by the benchmark scripts: the machine's facts, figures against targets, exit status.

Every script prints the machine (CPU, interpreter, load average before and after) and one
line per figure with its target; it exits 1 when any target is missed, 0 otherwise. A
figure without a target is printed for information and never fails the run.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pytest_concur._measuring.environment import cpu_model

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, object]:
    """Who ran it: enough to tell whether two result sets can be compared."""
    build = "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") == 1 else "GIL"
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "python": f"{platform.python_version()} ({build}) {sys.executable}",
        "load_avg": [round(value, 2) for value in os.getloadavg()],
    }


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number, its unit, and the target it must meet (if any)."""

    name: str
    value: float
    unit: str
    #: "<=" or ">=" and the bound; None for information only
    target: tuple[str, float] | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        op, bound = self.target
        return self.value <= bound if op == "<=" else self.value >= bound


@dataclass(slots=True)
class Report:
    """Figures of one script, printed as a table; ``finish`` gives the exit status."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    started: dict[str, object] = field(default_factory=machine)

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        target: tuple[str, float] | None = None,
        note: str = "",
    ) -> Figure:
        figure = Figure(name, value, unit, target, note)
        self.figures.append(figure)
        verdict = {None: "info", True: "ok", False: "MISSED"}[figure.met]
        bound = f"{figure.target[0]} {_fmt(figure.target[1])}" if figure.target else ""
        print(
            f"  {name:<52} {_fmt(value):>10} {unit:<7} {bound:<12} {verdict}"
            + (f"  ({note})" if note else ""),
            flush=True,
        )
        return figure

    def header(self) -> None:
        print(f"== {self.title}")
        for key, value in self.started.items():
            print(f"  {key}: {value}")
        print(f"  {'figure':<52} {'value':>10} {'unit':<7} {'target':<12} verdict", flush=True)

    def finish(self, json_path: str | None = None) -> int:
        missed = [f.name for f in self.figures if f.met is False]
        load = [round(value, 2) for value in os.getloadavg()]
        print(f"  load average at the end: {load}")
        if json_path:
            payload = {
                "title": self.title,
                "machine": self.started,
                "load_avg_end": load,
                "figures": [asdict(f) for f in self.figures],
            }
            Path(json_path).write_text(json.dumps(payload, indent=2) + "\n")
        if missed:
            print(f"MISSED {len(missed)} target(s): {', '.join(missed)}")
            return 1
        print("all targets met")
        return 0


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "nan"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def json_arg(argv: Sequence[str]) -> str | None:
    """``--json PATH`` anywhere in argv: where to write the figures as well."""
    if "--json" in argv:
        at = list(argv).index("--json")
        if at + 1 < len(argv):
            return argv[at + 1]
    return None


def run_experiments(extra: list[str], results: str | Path) -> tuple[float, int, str]:
    """``pytest experiments/`` in a fresh session into ``results``: wall seconds, exit
    status, and its last line (the summary, or the end of stderr when it printed none)."""
    command = [
        sys.executable, "-m", "pytest", "experiments/", "-q", "-p", "no:cacheprovider",
        f"--concur-results={results}", *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, env=dict(os.environ)
    )
    elapsed = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return elapsed, done.returncode, lines[-1] if lines else done.stderr.strip()[-300:]
