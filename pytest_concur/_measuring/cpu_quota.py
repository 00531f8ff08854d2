"""The CPU quota of this process's cgroup: how many cores' worth of time it may use.

A container limited with Docker's ``--cpus`` or a Kubernetes CPU limit sees every CPU
of the host in its affinity mask, but the kernel throttles it to ``quota / period``
cores: cgroup v2 writes both in ``cpu.max`` ("50000 100000", or "max 100000" for no
limit), cgroup v1 in ``cpu.cfs_quota_us`` (-1 for none) and ``cpu.cfs_period_us``.
Every group between this process's and the hierarchy's root may set one; the smallest
applies, so the walk reads each of them and keeps the minimum.

Where this process's group is found: ``/proc/self/cgroup`` names its path in each
hierarchy, ``/proc/self/mountinfo`` where (and from which root) each hierarchy is
mounted. Everything is read below ``root``, so tests point it at a folder of fixtures.
A file that exists but cannot be read or parsed is reported as a
:class:`~pytest_concur.MeasurementWarning` naming the file and the value used instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .._warning_types import MeasurementWarning


@dataclass(frozen=True, slots=True)
class CgroupMount:
    """One mounted cgroup hierarchy: v2, or a v1 hierarchy holding the ``cpu`` controller."""

    version: int
    mount_point: PurePosixPath
    mount_root: PurePosixPath


def _read(path: Path) -> str | None:
    """A file's text; None when it does not exist; a warning when it exists but fails."""
    try:
        return path.read_text(encoding="ascii", errors="strict")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        _warn(path, f"cannot be read ({exc})")
        return None


def _warn(path: Path, problem: str) -> None:
    warnings.warn(
        MeasurementWarning(
            f"{path} {problem}; no CPU quota is taken from it (usable CPUs come from the "
            f"affinity mask and the other cgroup files)"
        ),
        stacklevel=4,
    )


def cgroup_mounts(mountinfo: str) -> list[CgroupMount]:
    """The cgroup v2 mount and the v1 mounts of the ``cpu`` controller in a mountinfo text."""
    mounts: list[CgroupMount] = []
    for line in mountinfo.splitlines():
        # id parent major:minor root mount-point options [optional...] - fstype source super
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or not tail:
            continue
        root, mount_point, fstype = fields[3], fields[4], tail[0]
        if fstype == "cgroup2":
            version = 2
        elif fstype == "cgroup" and len(tail) >= 3 and "cpu" in tail[2].split(","):
            version = 1
        else:
            continue
        mounts.append(CgroupMount(version, PurePosixPath(_unescape(mount_point)),
                                  PurePosixPath(_unescape(root))))  # fmt: skip
    return mounts


def _unescape(text: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        text = text.replace(code, char)
    return text


def cgroup_paths(proc_cgroup: str) -> dict[int, PurePosixPath]:
    """This process's group per version: v2's from ``0::``, v1's from the ``cpu`` line."""
    paths: dict[int, PurePosixPath] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if parts[0] == "0" and controllers == "":
            paths[2] = PurePosixPath(path)
        elif "cpu" in controllers.split(","):
            paths[1] = PurePosixPath(path)
    return paths


def group_folder(mount: CgroupMount, group: PurePosixPath) -> PurePosixPath:
    """Where a group's files are: the group's path made relative to the mount's root."""
    try:
        relative = group.relative_to(mount.mount_root)
    except ValueError:  # the group lies outside what is mounted (a container's view)
        return mount.mount_point
    return mount.mount_point / relative


def _ancestors(folder: PurePosixPath, top: PurePosixPath) -> Iterator[PurePosixPath]:
    """``folder`` and each parent up to and including ``top``."""
    yield folder
    for parent in folder.parents:
        if parent != top and top not in parent.parents:
            return
        yield parent


def parse_cpu_max(text: str) -> float | None:
    """cgroup v2 ``cpu.max``: cores of quota, None for "max"; ValueError if malformed."""
    parts = text.split()
    if len(parts) not in (1, 2):
        raise ValueError(text)
    period = float(parts[1]) if len(parts) == 2 else 100_000.0
    if parts[0] == "max":
        return None
    return _cores(float(parts[0]), period)


def parse_cfs(quota_text: str, period_text: str) -> float | None:
    """cgroup v1 ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``: cores, None for -1."""
    quota = float(quota_text.strip())
    if quota < 0:
        return None
    return _cores(quota, float(period_text.strip()))


def _cores(quota: float, period: float) -> float:
    if not (math.isfinite(quota) and math.isfinite(period)) or quota <= 0 or period <= 0:
        raise ValueError(f"{quota} / {period}")
    return quota / period


def _group_quota(folder: Path, version: int) -> float | None:
    if version == 2:
        path = folder / "cpu.max"
        text = _read(path)
        if text is None:
            return None
        try:
            return parse_cpu_max(text)
        except ValueError:
            _warn(path, f"holds {text.strip()!r}, not 'QUOTA PERIOD' or 'max PERIOD'")
            return None
    quota_path, period_path = folder / "cpu.cfs_quota_us", folder / "cpu.cfs_period_us"
    quota_text, period_text = _read(quota_path), _read(period_path)
    if quota_text is None or period_text is None:
        return None
    try:
        return parse_cfs(quota_text, period_text)
    except ValueError:
        _warn(quota_path, f"and {period_path.name} hold {quota_text.strip()!r} and "
                          f"{period_text.strip()!r}, not microseconds")  # fmt: skip
        return None


def cpu_quota(root: Path = Path("/")) -> float | None:
    """Cores of CPU time this process may use under its cgroup quota; None where unlimited."""
    cgroup_text = _read(root / "proc/self/cgroup")
    mountinfo = _read(root / "proc/self/mountinfo")
    if cgroup_text is None or mountinfo is None:
        return None  # not Linux, or no cgroups: nothing limits the process this way
    paths = cgroup_paths(cgroup_text)
    limits: list[float] = []
    for mount in cgroup_mounts(mountinfo):
        group = paths.get(mount.version)
        if group is None:
            continue
        folder = group_folder(mount, group)
        for ancestor in _ancestors(folder, mount.mount_point):
            limit = _group_quota(root / ancestor.relative_to("/"), mount.version)
            if limit is not None:
                limits.append(limit)
    return min(limits) if limits else None


def usable_cores(affinity: int, quota: float | None) -> float:
    """What the process can use at once: its CPUs, or fewer cores' worth under a quota."""
    return float(affinity) if quota is None else min(float(affinity), quota)
