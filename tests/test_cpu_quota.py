"""The cgroup CPU quota: v1 and v2 files in fixtures, bad files, and a real v1 group."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd
import pytest
from helpers import read_results
from hypothesis import given
from hypothesis import strategies as st

# loaded before pytester snapshots sys.modules: re-imported after a test, it would
# register its pandas accessor again (a UserWarning under filterwarnings = error)
import pytest_concur.analysis  # noqa: F401
from pytest_concur import MeasurementWarning
from pytest_concur._measuring.cpu_quota import (
    cgroup_mounts,
    cgroup_paths,
    cpu_quota,
    parse_cfs,
    parse_cpu_max,
    usable_cores,
)
from pytest_concur._measuring.environment import usable_cpus
from pytest_concur._rounds.counting import crowded
from pytest_concur._rounds.counting import usable_cores_of as usable_cores_of_rows

V2_MOUNTINFO = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTINFO = (
    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "33 31 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
)


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _v2(root: Path, group: str = "/app/worker") -> Path:
    _write(root, "proc/self/cgroup", f"0::{group}\n")
    _write(root, "proc/self/mountinfo", V2_MOUNTINFO)
    return root / "sys/fs/cgroup"


def _v1(root: Path, group: str = "/docker/abc") -> Path:
    _write(root, "proc/self/cgroup", f"5:memory:{group}\n4:cpu,cpuacct:{group}\n0::/\n")
    _write(root, "proc/self/mountinfo", V1_MOUNTINFO)
    return root / "sys/fs/cgroup/cpu,cpuacct"


def test_v2_quota_of_the_process_group(tmp_path: Path) -> None:
    fs = _v2(tmp_path)
    _write(fs, "app/worker/cpu.max", "50000 100000\n")
    assert cpu_quota(tmp_path) == 0.5


def test_v2_the_smallest_limit_on_the_way_up_applies(tmp_path: Path) -> None:
    fs = _v2(tmp_path)
    _write(fs, "app/worker/cpu.max", "max 100000\n")
    _write(fs, "app/cpu.max", "150000 100000\n")
    _write(fs, "cpu.max", "max 100000\n")
    assert cpu_quota(tmp_path) == 1.5
    _write(fs, "app/worker/cpu.max", "20000 10000\n")  # 2 cores: the parent's 1.5 holds
    assert cpu_quota(tmp_path) == 1.5


def test_v2_without_limits_is_none(tmp_path: Path) -> None:
    fs = _v2(tmp_path)
    _write(fs, "app/worker/cpu.max", "max 100000\n")
    assert cpu_quota(tmp_path) is None


def test_v1_quota_and_period(tmp_path: Path) -> None:
    fs = _v1(tmp_path)
    _write(fs, "docker/abc/cpu.cfs_quota_us", "50000\n")
    _write(fs, "docker/abc/cpu.cfs_period_us", "100000\n")
    _write(fs, "docker/cpu.cfs_quota_us", "-1\n")
    _write(fs, "docker/cpu.cfs_period_us", "100000\n")
    assert cpu_quota(tmp_path) == 0.5


def test_v1_inside_a_container_whose_mount_root_is_its_group(tmp_path: Path) -> None:
    # a container sees its own group as the hierarchy's root: the files are at the top
    _write(tmp_path, "proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n")
    mountinfo = V1_MOUNTINFO.replace("0:29 / ", "0:29 /docker/abc ")
    _write(tmp_path, "proc/self/mountinfo", mountinfo)
    fs = tmp_path / "sys/fs/cgroup/cpu,cpuacct"
    _write(fs, "cpu.cfs_quota_us", "200000\n")
    _write(fs, "cpu.cfs_period_us", "100000\n")
    assert cpu_quota(tmp_path) == 2.0


def test_no_cgroup_files_means_no_quota(tmp_path: Path) -> None:
    assert cpu_quota(tmp_path) is None  # e.g. macOS: no /proc at all


def test_mountinfo_and_cgroup_parsing() -> None:
    mounts = cgroup_mounts(V1_MOUNTINFO + V2_MOUNTINFO)
    assert [(m.version, str(m.mount_point)) for m in mounts] == [
        (1, "/sys/fs/cgroup/cpu,cpuacct"),
        (2, "/sys/fs/cgroup"),
    ]
    paths = cgroup_paths("4:cpu,cpuacct:/a\n2:cpuacct:/b\n0::/c\nbroken\n")
    assert {version: str(path) for version, path in paths.items()} == {1: "/a", 2: "/c"}


def test_an_unparseable_file_warns_naming_it_and_the_value_used(tmp_path: Path) -> None:
    fs = _v2(tmp_path)
    bad = _write(fs, "app/worker/cpu.max", "half a core\n")
    _write(fs, "app/cpu.max", "300000 100000\n")
    with pytest.warns(MeasurementWarning, match=r"cpu\.max holds 'half a core'") as caught:
        assert cpu_quota(tmp_path) == 3.0  # the file is skipped, the parent's limit holds
    assert str(bad) in str(caught[0].message)
    assert "no CPU quota is taken from it" in str(caught[0].message)


def test_an_unreadable_file_warns_and_never_crashes(tmp_path: Path) -> None:
    fs = _v1(tmp_path)
    (fs / "docker/abc/cpu.cfs_quota_us").mkdir(parents=True)  # reading it fails: EISDIR
    _write(fs, "docker/abc/cpu.cfs_period_us", "100000\n")
    with pytest.warns(MeasurementWarning, match=r"cpu\.cfs_quota_us cannot be read"):
        assert cpu_quota(tmp_path) is None


def test_bad_v1_numbers_warn(tmp_path: Path) -> None:
    fs = _v1(tmp_path)
    _write(fs, "docker/abc/cpu.cfs_quota_us", "50000\n")
    _write(fs, "docker/abc/cpu.cfs_period_us", "0\n")
    with pytest.warns(MeasurementWarning, match="not microseconds"):
        assert cpu_quota(tmp_path) is None


@given(st.integers(1, 10**7), st.integers(1_000, 10**6))
def test_cpu_max_is_quota_over_period(quota: int, period: int) -> None:
    assert parse_cpu_max(f"{quota} {period}\n") == pytest.approx(quota / period)
    assert parse_cfs(f"{quota}\n", f"{period}\n") == pytest.approx(quota / period)


def test_usable_cpus_and_cores_under_a_quota() -> None:
    affinity = usable_cpus()
    assert usable_cpus(0.5) == 1
    assert usable_cpus(1.5) == min(affinity, 2)
    assert usable_cpus(1000.0) == affinity
    assert usable_cores(4, 0.5) == 0.5
    assert usable_cores(2, None) == 2.0
    assert usable_cores(2, 8.0) == 2.0


def test_crowding_counts_against_the_quota() -> None:
    rows = pd.DataFrame(
        {
            "cores_used": [0.4, 0.4],
            "system_cores_busy": [1.0, 1.0],
            "usable_cpus": [2, 2],
            "cpu_quota": [None, 1.0],
        }
    )
    assert list(usable_cores_of_rows(rows)) == [2.0, 1.0]
    # 0.6 cores of others on top of 0.4 fill a 1-core quota, not 2 CPUs
    assert list(crowded(rows)) == [False, True]


# -- a real cgroup v1 group limited to half a core ------------------------------------------

BUSY_EXPERIMENT = """
import time
import pytest

def spin(_):
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass

@pytest.mark.concur(workload="cpu", models=["serial"], rounds=2, warmup=0)
def test_spin(concur):
    concur.map(spin, range(1))
"""

CONFTEST_JOIN_GROUP = """
import os

def pytest_configure(config):
    with open(os.environ["CONCUR_TEST_CGROUP_PROCS"], "w") as procs:
        procs.write(str(os.getpid()))
"""


def _v1_cpu_mount() -> Path | None:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        fields = line.split()
        if len(fields) >= 4 and fields[2] == "cgroup" and "cpu" in fields[3].split(","):
            return Path(fields[1])
    return None


@pytest.fixture
def half_core_group() -> object:
    """A v1 ``cpu`` group of quota 50000/100000 us: half a core; removed afterwards."""
    mount = _v1_cpu_mount()
    if mount is None:
        pytest.skip("no cgroup v1 cpu controller is mounted here")
    if os.geteuid() != 0:
        pytest.skip("making a cgroup needs root")
    group = mount / f"pytest-concur-test-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("50000")
    except OSError as exc:
        if group.exists():
            group.rmdir()
        pytest.skip(f"cannot make a cpu cgroup under {mount}: {exc}")
    yield group
    # the test's processes have ended: move anything left to the parent, then remove it
    for pid in (group / "cgroup.procs").read_text().split():
        (mount / "cgroup.procs").write_text(pid)
    group.rmdir()


@pytest.mark.slow  # a real busy loop under a real quota
def test_utilisation_is_measured_against_a_real_half_core_quota(
    pytester: pytest.Pytester, half_core_group: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCUR_TEST_CGROUP_PROCS", str(half_core_group / "cgroup.procs"))
    pytester.makeconftest(CONFTEST_JOIN_GROUP)
    pytester.makepyfile(test_exp=BUSY_EXPERIMENT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0")
    result.assert_outcomes(passed=1)
    rows = read_results(pytester)
    assert set(rows["cpu_quota"]) == {0.5}
    assert set(rows["usable_cpus"]) == {1}
    # utilisation is cores used over the quota's 0.5 cores, not over the host's CPUs
    for cores, utilization in zip(rows["cores_used"], rows["utilization"], strict=True):
        assert math.isclose(utilization, cores / 0.5, rel_tol=1e-9)
    # the kernel holds the busy loop to half a core (less while others load the machine)
    assert (rows["cores_used"] <= 0.55).all(), rows["cores_used"].tolist()
    # against all CPUs a half-core loop could never pass 0.5 / usable: here it reads
    # close to 100% (about 0.6 or more even on a loaded 2-CPU machine)
    assert (rows["utilization"] > 0.5).all(), rows["utilization"].tolist()
