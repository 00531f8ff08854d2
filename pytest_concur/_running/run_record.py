"""The session's row of the runs table, and the same facts as key/values for file metadata."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._measuring.environment import Environment, gil_enabled
from .._measuring.provenance import Provenance, collect, imported_packages
from .._measuring.system import CpuTimes, cpu_times
from .._measuring.system_check import SystemFacts, warning_line
from .._storing.catalog import clean_name, free_name


@dataclass(slots=True)
class RunOrigin:
    """What the session knows of its run before it saves: set at configure and collection."""

    root: Path
    args: tuple[str, ...]
    name: str | None = None
    steal_start: CpuTimes | None = field(default_factory=cpu_times)
    #: module names after collection (None: not collected here, as on an xdist controller)
    modules: tuple[str, ...] | None = None
    notes: list[str] = field(default_factory=list)

    def collected(self) -> None:
        """After collection: the modules the experiments imported are loaded now."""
        self.modules = tuple(sys.modules)


def runs_row(
    origin: RunOrigin,
    environment: Environment,
    *,
    rounds: int,
    complete: bool,
    results_dir: Path | None,
    provenance: Provenance | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The runs-table row of this session, and notices for the user (renamed runs, ...)."""
    facts = provenance or collect(origin.root, ("pytest", *origin.args))
    notices: list[str] = []
    name = origin.name
    if name is not None and results_dir is not None:
        name, renamed = free_name(results_dir, name, environment.run_id)
        if renamed:
            notices.append(renamed)
    end = cpu_times()
    steal = (
        end.steal_since(origin.steal_start)
        if end is not None and origin.steal_start is not None
        else None
    )
    system = SystemFacts(
        governor=facts.governor,
        boost=facts.boost,
        virtualization=facts.virtualization,
        steal_fraction=steal,
        cpu_quota=facts.cpu_quota,
        usable_cpus=environment.usable_cpus,
        logical_cpus=environment.logical_cpus,
    )
    row: dict[str, Any] = {
        "run_id": environment.run_id,
        "name": name,
        "started_at": environment.started_at,
        "ended_at": datetime.now(UTC),
        "rounds": rounds,
        "session_complete": complete,
        "host": environment.host,
        "python": environment.python,
        "implementation": environment.implementation,
        "free_threaded": environment.free_threaded,
        "gil_enabled": gil_enabled(),
        "packages_json": json.dumps(imported_packages(origin.modules)),
        "platform": environment.platform,
        "cpu_model": environment.cpu_model,
        "logical_cpus": environment.logical_cpus,
        "usable_cpus": environment.usable_cpus,
        "steal_fraction": steal,
        "tox_env": environment.tox_env,
        "system_check": warning_line(system),
        "provenance_notes": "; ".join([*facts.notes, *origin.notes]) or None,
        **facts.as_row(),
    }
    return row, notices


def as_metadata(row: Mapping[str, Any]) -> dict[str, str]:
    """The row as text key/values for each file's metadata; unknown (null) facts left out."""
    out: dict[str, str] = {}
    for key, value in row.items():
        if value is None:
            continue
        out[key] = value.isoformat() if isinstance(value, datetime) else str(value)
    return out


def origin_for(root: Path, args: Sequence[str], name: str | None) -> RunOrigin:
    """The session's origin; a name with odd characters is escaped, and that is said."""
    origin = RunOrigin(root=root, args=tuple(args))
    if name is not None:
        origin.name, said = clean_name(name)
        origin.notes.extend(said)
    return origin
