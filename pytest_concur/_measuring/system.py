"""What the machine does to timings: frequency governor, boost, virtualisation, steal.

Every reader returns None for what it cannot read (no such file, no permission, another
OS): an unknown is recorded as unknown, never guessed and never an error. Paths are
parameters so tests can point them at a fake ``/sys``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

SYS_CPU: Final = Path("/sys/devices/system/cpu")
PROC_STAT: Final = Path("/proc/stat")
PROC_CPUINFO: Final = Path("/proc/cpuinfo")
DMI: Final = Path("/sys/class/dmi/id")
#: Vendors and products DMI names for virtual machines, as systemd-detect-virt knows them.
_DMI_VMS: Final = (
    ("kvm", "kvm"), ("qemu", "qemu"), ("vmware", "vmware"), ("virtualbox", "oracle"),
    ("xen", "xen"), ("microsoft", "microsoft"), ("amazon ec2", "amazon"),
    ("google compute engine", "google"), ("openstack", "openstack"), ("bochs", "bochs"),
)  # fmt: skip


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except (OSError, ValueError):
        return None


def governor(cpu_root: Path = SYS_CPU) -> str | None:
    """The CPU frequency governor; ``mixed (a, b)`` when CPUs differ; None: unreadable."""
    found = {
        value
        for path in sorted(cpu_root.glob("cpu[0-9]*/cpufreq/scaling_governor"))
        if (value := _read(path))
    }
    if not found:
        return None
    return found.pop() if len(found) == 1 else f"mixed ({', '.join(sorted(found))})"


def boost(cpu_root: Path = SYS_CPU) -> bool | None:
    """Whether turbo/boost is on (acpi-cpufreq ``boost`` or intel_pstate ``no_turbo``)."""
    value = _read(cpu_root / "cpufreq" / "boost")
    if value in ("0", "1"):
        return value == "1"
    no_turbo = _read(cpu_root / "intel_pstate" / "no_turbo")
    if no_turbo in ("0", "1"):
        return no_turbo == "0"
    return None


def virtualization(
    *, cpuinfo: Path = PROC_CPUINFO, dmi: Path = DMI, detect: Sequence[str] | None = None
) -> str | None:
    """``none``, or the hypervisor this runs under (kvm, xen, ...); None: cannot tell.

    ``systemd-detect-virt`` where it is installed (``detect`` overrides the command),
    else the DMI vendor, else the ``hypervisor`` CPU flag (``vm``).
    """
    command = list(detect) if detect is not None else _detect_virt_command()
    if command:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=2, check=False)
        except (OSError, subprocess.SubprocessError):
            pass
        else:
            answer = done.stdout.strip()
            if answer and done.returncode in (0, 1):  # 1 with "none": not virtualised
                return answer
    vendor = " ".join(filter(None, (_read(dmi / "sys_vendor"), _read(dmi / "product_name"))))
    for needle, name in _DMI_VMS:
        if needle in vendor.lower():
            return name
    flags = _cpu_flags(cpuinfo)
    if flags is None:
        return None
    if "hypervisor" in flags:
        return "vm"
    return "none" if vendor else None


def _detect_virt_command() -> list[str]:
    found = shutil.which("systemd-detect-virt")
    return [found] if found else []


def _cpu_flags(cpuinfo: Path) -> set[str] | None:
    text = _read(cpuinfo)
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """The machine-wide ``cpu`` line of /proc/stat: stolen and total ticks."""

    steal: int
    total: int

    def steal_since(self, earlier: CpuTimes) -> float | None:
        """Fraction of the CPU time between ``earlier`` and this that the hypervisor took."""
        total = self.total - earlier.total
        return (self.steal - earlier.steal) / total if total > 0 else None


def cpu_times(stat: Path = PROC_STAT) -> CpuTimes | None:
    text = _read(stat)
    if text is None:
        return None
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            try:
                ticks = [int(value) for value in fields[1:]]
            except ValueError:
                return None
            # user nice system idle iowait irq softirq steal [guest guest_nice, in user]
            return CpuTimes(steal=ticks[7] if len(ticks) > 7 else 0, total=sum(ticks[:8]))
    return None
