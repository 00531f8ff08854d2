"""The one factory of rounds rows for tests: every column of ROUNDS_SCHEMA, values chosen.

``round_row(**overrides)`` is a plain-valued row as the plugin makes one (a measured,
passed serial round on a quiet 4-core Linux machine, sampling and task spans off);
``variants_rows`` / ``variants_frame`` give several variants' rounds at once. A column
the schema gains must be added to ``DEFAULTS`` (tests/test_test_helpers.py fails until
it is), so no test builds rows the plugin could not write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pytest_concur._rounds.variant import variant_label
from pytest_concur._storing.frames import rows_frame

#: Every rounds column with the value a row has unless a test says otherwise. ``test_id``
#: and ``free_threaded`` are derived (see ``round_row``); None is the schema's null.
DEFAULTS: Mapping[str, Any] = {
    "run_id": "20260101T000000-aaaaaaaa",
    "started_at": "2026-01-01T00:00:00+00:00",
    "host": "host-a",
    "python": "3.11.7",
    "implementation": "CPython",
    "free_threaded": None,  # derived: not gil_enabled
    "gil_enabled": True,
    "tox_env": None,
    "cpu_model": "Test CPU",
    "logical_cpus": 4,
    "usable_cpus": 4,
    "cpu_quota": None,
    "accounting": "rusage",
    "platform": "Linux",
    "xdist_worker": None,
    "test_id": None,  # derived: experiment[variant-params]
    "experiment": "test_exp.py::test_work",
    "params": "",
    "params_json": "{}",
    "workload": "cpu",
    "model": "serial",
    "workers": 1,
    "start_method": None,
    "round": 0,
    "warmup": False,
    "wall_s": 1.0,
    "cpu_user_s": 1.0,
    "cpu_sys_s": 0.0,
    "cpu_s": 1.0,
    "cores_used": 1.0,
    "utilization": 0.25,
    "ctx_voluntary": 1,
    "ctx_involuntary": 0,
    "max_rss_bytes": 50_000_000,
    "startup_s": 0.001,
    "shutdown_s": 0.001,
    "descendants": 0,
    "load_avg_1m": 0.5,
    "exclusive": True,
    "lock_wait_s": None,
    "round_started_at": None,
    "timeout_s": None,
    "executor_address": None,
    "sample_interval_s": None,
    "system_cores_busy": None,
    "sampler_cpu_s": None,
    "other_cores_busy": None,
    "crowded": None,
    "repeat_of": None,
    "quiet_wait_s": None,
    "rel_half_width": None,
    "stop_reason": None,
    "tasks": None,
    "transfer_bytes": None,
    "transfer_s": None,
    "chunksize": None,
    "outcome": "passed",
    "error": None,
    "session_complete": True,
}


def item_id(experiment: str, model: str, workers: int, params: str = "") -> str:
    """The item id the plugin gives a variant of ``experiment`` (its parameters last)."""
    return f"{experiment}[{variant_label(model, workers)}{'-' + params if params else ''}]"


def round_row(**overrides: Any) -> dict[str, Any]:
    """One full rounds row: DEFAULTS with ``overrides``; an unknown column is an error.

    Unless given, ``test_id`` follows experiment, model, workers and params, and
    ``free_threaded`` is the opposite of ``gil_enabled``.
    """
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise KeyError(f"not rounds columns: {unknown}")
    row = {**DEFAULTS, **overrides}
    if "test_id" not in overrides:
        row["test_id"] = item_id(row["experiment"], row["model"], row["workers"], row["params"])
    if "free_threaded" not in overrides:
        row["free_threaded"] = not row["gil_enabled"]
    return row


def variants_rows(
    variants: Mapping[tuple[str, int], Sequence[float] | Mapping[str, Any]],
    *,
    metric: str = "wall_s",
    also: Sequence[str] = (),
    warmup: int = 0,
    **common: Any,
) -> list[dict[str, Any]]:
    """Rounds of each (model, workers): one row per value of ``metric`` (and of the
    columns in ``also``), numbered from 0.

    A variant maps to its values, or to ``{"values": [...], column: value, ...}`` for
    columns of its own; ``common`` holds columns every row shares. The first ``warmup``
    rounds of each variant are warm-up rounds.
    """
    rows: list[dict[str, Any]] = []
    for (model, workers), spec in variants.items():
        own = dict(spec) if isinstance(spec, Mapping) else {"values": spec}
        values = own.pop("values")
        for index, value in enumerate(values):
            columns = {"round": index, "warmup": index < warmup, **common, **own}
            measured = dict.fromkeys([metric, *also], value)
            rows.append(round_row(model=model, workers=workers, **{**columns, **measured}))
    return rows


def variants_frame(
    variants: Mapping[tuple[str, int], Sequence[float] | Mapping[str, Any]], **options: Any
) -> pd.DataFrame:
    """``variants_rows`` as pytest_concur.load gives rounds: the schema's dtypes."""
    return rounds_frame(variants_rows(variants, **options))


def rounds_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows as pytest_concur.load gives them: the schema's dtypes and categories."""
    return rows_frame(rows)
