"""Provenance as a report shows it: a header per run, and what differs between two runs."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd

from .. import _format as fmt
from .._format import escape

#: Facts that move the numbers: two runs that differ in one are not like for like.
COMPARED: Final = (
    ("python", "Python version"),
    ("implementation", "implementation"),
    ("python_compiler", "compiler"),
    ("python_pgo", "PGO"),
    ("python_lto", "LTO"),
    ("free_threaded", "free-threaded build"),
    ("gil_enabled", "GIL"),
    ("cpu_model", "CPU model"),
    ("governor", "frequency governor"),
    ("cpu_quota", "CPU quota"),
    ("usable_cpus", "usable CPUs"),
    ("git_commit", "commit"),
)


def _known(value: Any) -> bool:
    if value is None or value is pd.NA:
        return False
    return not (isinstance(value, float) and math.isnan(value))


def _text(value: Any, unknown: str = "unknown") -> str:
    if not _known(value):
        return unknown
    if isinstance(value, bool):
        return "on" if value else "off"
    return escape(str(value))


def run_records(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """The runs table as plain records (None for nulls, ISO text for times), for JSON too."""
    if runs.empty:
        return []
    records: list[dict[str, Any]] = json.loads(runs.to_json(orient="records", date_format="iso"))
    for record in records:
        packages = record.get("packages_json")
        if isinstance(packages, str):
            try:
                record["packages"] = json.loads(packages)
            except ValueError:
                record["packages"] = None
    return records


def header_lines(runs: Sequence[Mapping[str, Any]], run_ids: Sequence[str]) -> list[str]:
    """A few lines per run: where it came from, and the system check's warning."""
    by_id = {str(run.get("run_id")): run for run in runs}
    lines: list[str] = []
    for run_id in run_ids:
        run = by_id.get(run_id)
        if run is None:
            lines.append(
                f"run {escape(run_id)}: no provenance recorded (stored by an older pytest-concur)"
            )
            continue
        name = f" '{_text(run.get('name'))}'" if _known(run.get("name")) else ""
        commit = run.get("git_commit")
        where = (
            f"commit {str(commit)[:12]}"
            + (f" on {_text(run.get('git_branch'))}" if _known(run.get("git_branch")) else "")
            + (" (uncommitted changes)" if run.get("git_dirty") is True else "")
            if _known(commit)
            else "commit unknown"
        )
        lines.append(f"run {escape(run_id)}{name}: {where}; {_text(run.get('command_line'))}")
        lines.append(
            f"  Python {_text(run.get('python'))} {_text(run.get('implementation'), '')} "
            f"({_text(run.get('python_compiler'))}, PGO {_text(run.get('python_pgo'))}, "
            f"LTO {_text(run.get('python_lto'))}), GIL {_text(run.get('gil_enabled'))}; "
            f"pytest-concur {_text(run.get('pytest_concur_version'))}, "
            f"pytest {_text(run.get('pytest_version'))}"
        )
        steal = run.get("steal_fraction")
        lines.append(
            f"  {_text(run.get('cpu_model'))}, {_text(run.get('usable_cpus'))} usable CPUs, "
            f"governor {_text(run.get('governor'))}, boost {_text(run.get('boost'))}, "
            f"virtualisation {_text(run.get('virtualization'))}, "
            f"steal {fmt.percent(steal, 2) if _known(steal) else 'unknown'}; "
            f"kernel {_text(run.get('kernel'))}"
        )
        if _known(run.get("system_check")):
            lines.append(f"  ! {_text(run.get('system_check'))}")
    return lines


def differences(
    baseline: Sequence[Mapping[str, Any]], candidate: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Warnings for each fact that moves the numbers and differs between the two sides.

    A side of several runs shows each of its values; a fact unknown on a side is not
    compared (and a side without provenance is said once).
    """
    out: list[str] = []
    for label, side in (("baseline", baseline), ("candidate", candidate)):
        if not side:
            out.append(f"the {label} has no provenance recorded: its setup cannot be compared")
    if not baseline or not candidate:
        return out
    for column, label in COMPARED:
        base = {_text(run.get(column)) for run in baseline if _known(run.get(column))}
        cand = {_text(run.get(column)) for run in candidate if _known(run.get(column))}
        if base and cand and base != cand:
            out.append(
                f"the runs differ in {label}: {', '.join(sorted(base))} (baseline) vs "
                f"{', '.join(sorted(cand))} (candidate); the numbers may differ for that reason"
            )
    return out
