"""The accounting backends: choosing one, the portable psutil meter, and a system without
``fcntl``, ``resource`` and ``os.sched_getaffinity``."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest
from helpers import read_results

# loaded before pytester snapshots sys.modules: re-imported after a test, it would
# register its pandas accessor again (a UserWarning under filterwarnings = error)
import pytest_concur.analysis  # noqa: F401
from pytest_concur._measuring.accounting import choose_backend, proc_unavailable
from pytest_concur._measuring.accounting_psutil import PsutilMeter


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_proc_is_the_default_on_linux() -> None:
    assert proc_unavailable() is None
    backend = choose_backend(None)
    assert (backend.name, backend.uses_subreaper, backend.samples_cores) == ("proc", True, True)
    portable = choose_backend("psutil")
    assert portable.name == "psutil"
    # on Linux the subreaper and the sampler (/proc/stat) still work beside psutil
    assert portable.uses_subreaper
    assert portable.samples_cores


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown accounting backend 'perf'"):
        choose_backend("perf")


def test_psutil_meter_counts_own_and_child_cpu() -> None:
    with PsutilMeter() as meter:
        own = meter.measure(lambda: _spin(0.2)).usage
        context = multiprocessing.get_context("fork")

        def in_child() -> None:
            child = context.Process(target=_spin, args=(0.3,))
            child.start()
            child.join()

        tree = meter.measure(in_child).usage
    # CPU times come in clock ticks (10 ms): the bounds allow a few of them
    assert 0.17 <= own.cpu_s <= 0.35
    assert 0.27 <= tree.cpu_s <= 0.5, tree
    assert tree.descendants_seen <= 1


def test_psutil_meter_hands_back_the_error() -> None:
    with PsutilMeter() as meter:
        measured = meter.measure(lambda: 1 / 0)
    assert isinstance(measured.error, ZeroDivisionError)
    assert measured.usage.wall_s >= 0


BUSY_PROCESSES = """
import time
import pytest

def spin(_):
    end = time.process_time() + 0.4
    while time.process_time() < end:
        pass

@pytest.mark.concur(workload="cpu", models=["processes"], workers=[2], rounds=2, warmup=0)
def test_spin(concur):
    concur.map(spin, range(2))
"""


@pytest.mark.parametrize("how", ["option", "env", "ini"])
def test_psutil_can_be_forced_on_linux(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    pytester.makepyfile(test_exp=BUSY_PROCESSES)
    args = ["-p", "no:cacheprovider"]
    if how == "option":
        args.append("--concur-accounting=psutil")
    elif how == "env":
        monkeypatch.setenv("CONCUR_ACCOUNTING", "psutil")
    else:
        pytester.makeini("[pytest]\nconcur_accounting = psutil\n")
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
    rows = read_results(pytester)
    assert set(rows["accounting"]) == {"psutil"}
    # two workers each spun 0.4 s of CPU: the tree's CPU is counted, whatever the load
    assert rows["cpu_s"].between(0.7, 1.2).all(), rows["cpu_s"].tolist()


def test_the_default_backend_is_recorded(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONCUR_ACCOUNTING", raising=False)  # CI sets it for a second pass
    pytester.makepyfile(test_exp=BUSY_PROCESSES)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert set(read_results(pytester)["accounting"]) == {"proc"}


def test_a_bad_backend_name_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_exp=BUSY_PROCESSES)
    monkeypatch.setenv("CONCUR_ACCOUNTING", "perf")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*CONCUR_ACCOUNTING: unknown value 'perf'; choose from: proc, "
                                 "psutil*"])  # fmt: skip


# Loaded by the interpreter before pytest and its plugins: a system like Windows (no
# fcntl, no resource) with macOS's missing os.sched_getaffinity. psutil alone may still
# import them: on Linux its platform module needs resource, on Windows it has its own.
SITECUSTOMIZE = """
import os
import sys

class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name not in ("fcntl", "resource"):
            return None
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__name__", "").startswith("psutil"):
                return None
            frame = frame.f_back
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, _Missing())
for _name in ("fcntl", "resource"):
    sys.modules.pop(_name, None)
del os.sched_getaffinity
if hasattr(os, "process_cpu_count"):  # 3.13+: where affinity is missing, it is cpu_count
    os.process_cpu_count = os.cpu_count
"""


@pytest.fixture
def without_posix_extras(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = pytester.mkdir("site")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site),
                       os.environ.get("PYTHONPATH")])))  # fmt: skip
    return site


def test_a_plain_run_passes_without_fcntl_resource_and_affinity(
    pytester: pytest.Pytester, without_posix_extras: Path
) -> None:
    pytester.makepyfile(
        test_plain="""
import os, sys

def test_the_system_looks_like_windows_and_macos():
    assert not hasattr(os, "sched_getaffinity")
    for name in ("fcntl", "resource"):
        try:
            __import__(name)
        except ImportError:
            continue
        raise AssertionError(name + " is importable")
"""
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.slow  # real timing: two cores need a machine that has them free
def test_an_experiment_measures_two_cores_through_psutil_there(
    pytester: pytest.Pytester, without_posix_extras: Path
) -> None:
    pytester.makepyfile(test_exp=BUSY_PROCESSES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["pytest-concur: rows measured with the portable psutil "
                                 "backend (the resource module is missing): coarser*"])  # fmt: skip
    rows = read_results(pytester)
    assert set(rows["accounting"]) == {"psutil"}  # chosen: the /proc backend cannot work
    assert rows["cpu_s"].between(0.7, 1.2).all(), rows["cpu_s"].tolist()
    # two busy workers at once: about two cores (more than one, so both were counted); the
    # sampler is off here, so only the load average can say others took the cores
    two = rows["cores_used"].between(1.2, 2.2).all()
    if not two and os.getloadavg()[0] > len(os.sched_getaffinity(0)) + 1:
        pytest.skip(f"machine busy (load {os.getloadavg()[0]:.1f}): {rows['cores_used'].tolist()}")
    assert two, rows["cores_used"].tolist()
    assert rows["system_cores_busy"].isna().all()  # the sampler stays off there
