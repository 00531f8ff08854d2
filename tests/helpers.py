"""Shared test helpers: write the experiment files pytester sessions run, read what they wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd
import pytest

import pytest_concur

#: Experiment-file source (needs ``import time``): ``busy(seconds)`` spins on its thread's
#: CPU clock, so it is busy for that much CPU however the machine is shared.
BUSY_SOURCE = """
def busy(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return seconds
"""

#: Experiment-file source: a last test (``zz`` sorts it last) that fails when an earlier
#: one left a process running; the session's own helper processes aside.
NOTHING_LEFT_BEHIND_SOURCE = """
def test_zz_nothing_left_behind():
    from pytest_concur._measuring.timeout import live_descendants

    def command(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                return handle.read()
        except OSError:
            return b""

    helpers = (
        b"_measuring/sampler.py",
        b"multiprocessing.resource_tracker",
        b"multiprocessing.forkserver",
    )
    left = [(pid, command(pid)) for pid in live_descendants()]
    assert [(pid, cmd) for pid, cmd in left if cmd and not any(h in cmd for h in helpers)] == []
"""


#: Experiment-file source (needs ``import time``): ``nap(seconds)`` waits and returns it.
NAP_SOURCE = """
def nap(seconds):
    time.sleep(seconds)
    return seconds
"""


class Code(str):
    """A marker argument written into the source as it is (``expect=Code("[pc...]")``)."""


def _argument(value: object) -> str:
    return str(value) if isinstance(value, Code) else repr(value)


def concur_test(
    name: str = "test_nap",
    *,
    body: str = "concur.map(time.sleep, [0.001])",
    workload: str = "io",
    models: Sequence[str] | None = ("serial",),
    workers: Sequence[int] | None = None,
    rounds: int | None = 1,
    warmup: int | None = 0,
    fixtures: str = "concur",
    decorators: Sequence[str] = (),
    **marker: object,
) -> str:
    """One experiment test: the concur marker (None leaves an argument out, so the plugin's
    default applies), any further ``decorators``, and ``body`` (lines, any indentation)."""
    arguments = {"workload": workload, "models": None if models is None else list(models),
                 "workers": None if workers is None else list(workers), "rounds": rounds,
                 "warmup": warmup, **marker}  # fmt: skip
    given = ", ".join(f"{key}={_argument(value)}" for key, value in arguments.items()
                      if value is not None)  # fmt: skip
    lines = [f"@pytest.mark.concur({given})", *decorators, f"def {name}({fixtures}):"]
    lines += ["    " + line for line in textwrap.dedent(body).strip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def experiment_source(
    *tests: str, imports: Sequence[str] = ("time", "pytest"), before: str = "", after: str = ""
) -> str:
    """An experiment file: ``import`` lines, ``before`` (helpers such as NAP_SOURCE), the
    tests (``concur_test``, or a default nap test when none is given) and ``after``."""
    head = "".join(
        f"{line}\n" if line.startswith(("import ", "from ")) else f"import {line}\n"
        for line in imports
    )
    body = "\n".join(tests or (concur_test(),))
    return f"{head}{before}\n{body}{after}"


@dataclass(frozen=True)
class SharedSession:
    """A pytest session run once for a whole test module: its folder and its result."""

    path: Path
    result: pytest.RunResult


def shared_session(
    folder: Path,
    files: Mapping[str, str],
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> SharedSession:
    """Write ``files`` (name without ``.py``: source) into ``folder`` and run pytest there
    once, as pytester.runpytest_subprocess would (its environment, the conftest's
    PYTEST_ADDOPTS; ``env`` on top), for a module-scoped fixture: several tests then
    read one session."""
    for name, source in files.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    environ = {key: value for key, value in os.environ.items()
               if key not in ("TOX_ENV_DIR", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}  # fmt: skip
    environ.update(
        HOME=str(folder), USERPROFILE=str(folder), PY_COLORS="0",
        PYTEST_ADDOPTS="--concur-crowded-retries=0",  # as tests/conftest.py sets it
        PYTHONPATH=os.pathsep.join(filter(None, [str(folder), environ.get("PYTHONPATH", "")])),
        **(env or {}),
    )  # fmt: skip
    command = [sys.executable, "-m", "pytest", f"--basetemp={folder / 'basetemp'}", *args]
    started = time.monotonic()
    done = subprocess.run(command, cwd=folder, env=environ, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip
    result = pytest.RunResult(done.returncode, done.stdout.splitlines(),
                              done.stderr.splitlines(), time.monotonic() - started)  # fmt: skip
    return SharedSession(folder, result)


class _HasPath(Protocol):
    @property
    def path(self) -> Path: ...


def read_results(pytester: _HasPath, folder: str = "results") -> pd.DataFrame:
    """The rounds a pytester (or shared) session wrote under ``folder``, as
    pytest_concur.load sees them."""
    files = sorted(Path(pytester.path, folder).glob("rounds/*.parquet"))
    assert files, f"no results in {folder}"
    return pytest_concur.load(Path(pytester.path, folder))


def windows(rows: pd.DataFrame) -> pd.DataFrame:
    """Each round's timed window as [start, end) in seconds since the epoch, by start."""
    start = rows["round_started_at"].map(pd.Timestamp.timestamp)
    frame = pd.DataFrame(
        {"worker": rows["xdist_worker"].astype(str), "start": start, "end": start + rows["wall_s"]}
    )
    return frame.sort_values("start", ignore_index=True)


def overlaps(frame: pd.DataFrame) -> int:
    """How many rounds start before the round before them has ended."""
    return int((frame["start"].iloc[1:].to_numpy() < frame["end"].iloc[:-1].to_numpy()).sum())
