"""The system check: is this machine set up to give stable timings? (as ``pyperf system show``)

Pure functions over facts read elsewhere: one line per item for
``--concur-check-system``, and one warning line (or none) for the report header.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from .. import _format as fmt
from . import system
from .environment import cpu_model, usable_cpus
from .provenance import build_flags, cpu_quota

#: Steal below this fraction of CPU time is noise, not a neighbour taking our CPUs.
STEAL_WARN: Final = 0.001


@dataclass(frozen=True, slots=True)
class SystemFacts:
    governor: str | None
    boost: bool | None
    virtualization: str | None
    steal_fraction: float | None
    cpu_quota: float | None
    usable_cpus: int
    logical_cpus: int


@dataclass(frozen=True, slots=True)
class CheckItem:
    label: str
    value: str
    problem: str | None = None  # what is wrong, said short; None: fine or unknown


def read_facts() -> SystemFacts:
    """The machine as it is now; steal is the fraction since boot."""
    times = system.cpu_times()
    steal = times.steal / times.total if times is not None and times.total > 0 else None
    return SystemFacts(
        governor=system.governor(),
        boost=system.boost(),
        virtualization=system.virtualization(),
        steal_fraction=steal,
        cpu_quota=cpu_quota(),
        usable_cpus=usable_cpus(),
        logical_cpus=os.cpu_count() or 1,
    )


def _known(value: str | None) -> str:
    return "unknown" if value is None else value


def check_items(facts: SystemFacts) -> list[CheckItem]:
    """Each thing that moves timings, its value, and what is wrong with it."""
    items = [
        CheckItem(
            "frequency governor",
            _known(facts.governor),
            None
            if facts.governor in (None, "performance")
            else f"governor {facts.governor} (not performance)",
        ),
        CheckItem(
            "turbo/boost",
            _known(None if facts.boost is None else _on(facts.boost)),
            "boost on" if facts.boost else None,
        ),
    ]
    steal = facts.steal_fraction
    steal_text = "unknown" if steal is None else f"{fmt.percent(steal, 2)} of CPU time stolen"
    stolen = steal is not None and steal >= STEAL_WARN
    virtual = facts.virtualization not in (None, "none")
    items.append(
        CheckItem(
            "virtualisation",
            f"{_known(facts.virtualization)}; {steal_text}",
            f"{facts.virtualization if virtual else 'VM'} with {fmt.percent(steal, 2)} steal"
            if stolen and steal is not None
            else None,
        )
    )
    quota = facts.cpu_quota
    limited = quota is not None and quota < facts.logical_cpus
    items.append(
        CheckItem(
            "CPU quota",
            "none or unknown" if quota is None else f"{quota:g} CPUs",
            f"CPU quota of {quota:g} CPUs" if limited and quota is not None else None,
        )
    )
    items.append(
        CheckItem(
            "usable CPUs",
            f"{facts.usable_cpus} of {facts.logical_cpus}",
            f"only {facts.usable_cpus} of {facts.logical_cpus} CPUs usable (affinity)"
            if facts.usable_cpus < facts.logical_cpus
            else None,
        )
    )
    return items


def warning_line(facts: SystemFacts) -> str | None:
    """One line for the report header naming every problem; None when there is none."""
    problems = [item.problem for item in check_items(facts) if item.problem]
    if not problems:
        return None
    return (
        "system check: "
        + ", ".join(problems)
        + ": timings vary more than they need to (pytest --concur-check-system)"
    )


def report_lines(facts: SystemFacts) -> list[str]:
    """What ``--concur-check-system`` prints: the machine, each item, then the verdict."""
    pgo, lto, _ = build_flags()
    build = "unknown" if pgo is None else f"PGO {_on(pgo)}, LTO {_on(bool(lto))}"
    lines = [
        "pytest-concur system check",
        f"    CPU model: {cpu_model()}",
        f"    interpreter build: {build}",
    ]
    for item in check_items(facts):
        mark = "  ! " if item.problem else "    "
        lines.append(f"{mark}{item.label}: {item.value}")
    warning = warning_line(facts)
    lines.append(warning or "system check: nothing found that moves timings")
    return lines


def _on(flag: bool) -> str:
    return "on" if flag else "off"
