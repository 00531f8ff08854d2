"""The versioned Parquet schemas of the five tables, and the metadata every file carries.

Schema history (bump SCHEMA_VERSION when a column changes meaning or type; adding a
column is backward compatible and readers fill it with nulls for older files):
  1: first release.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pyarrow as pa

SCHEMA_VERSION: Final = 1
META_VERSION: Final = b"pytest_concur.schema_version"
META_TABLE: Final = b"pytest_concur.table"
#: Each file's metadata also holds its run's provenance, one key per runs-table column.
META_RUN_PREFIX: Final = "pytest_concur.run."

_STRING = pa.string()
_TIME = pa.timestamp("us", tz="UTC")

#: One row per measured round. The names listed in docs/results.md as the public
#: contract never change; new columns may be added.
ROUNDS_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("started_at", _TIME),
        ("host", _STRING),
        ("python", _STRING),
        ("implementation", _STRING),
        ("free_threaded", pa.bool_()),
        ("gil_enabled", pa.bool_()),
        ("tox_env", _STRING),
        ("cpu_model", _STRING),
        ("logical_cpus", pa.int64()),
        ("usable_cpus", pa.int64()),
        ("cpu_quota", pa.float64()),
        ("accounting", _STRING),
        ("platform", _STRING),
        ("xdist_worker", _STRING),
        ("test_id", _STRING),
        ("experiment", _STRING),
        ("params", _STRING),
        ("params_json", _STRING),
        ("workload", _STRING),
        ("model", _STRING),
        ("workers", pa.int64()),
        ("start_method", _STRING),
        ("round", pa.int64()),
        ("warmup", pa.bool_()),
        ("wall_s", pa.float64()),
        ("cpu_user_s", pa.float64()),
        ("cpu_sys_s", pa.float64()),
        ("cpu_s", pa.float64()),
        ("cores_used", pa.float64()),
        ("utilization", pa.float64()),
        ("ctx_voluntary", pa.int64()),
        ("ctx_involuntary", pa.int64()),
        ("max_rss_bytes", pa.int64()),
        ("startup_s", pa.float64()),
        ("shutdown_s", pa.float64()),
        ("descendants", pa.int64()),
        ("load_avg_1m", pa.float64()),
        ("exclusive", pa.bool_()),
        # seconds this xdist worker waited for the session's measure lock; null: no lock
        ("lock_wait_s", pa.float64()),
        # wall-clock time the test body started in this round (the timed window's start)
        ("round_started_at", _TIME),
        # the round's time limit in seconds; null: none (docs/models.md, Faults)
        ("timeout_s", pa.float64()),
        # where the work ran when the model says (dask: the scheduler's address)
        ("executor_address", _STRING),
        # per-core sampling of this round (docs/timelines.md); null: sampling off
        ("sample_interval_s", pa.float64()),
        ("system_cores_busy", pa.float64()),
        ("sampler_cpu_s", pa.float64()),
        # cores other processes kept busy, and whether that crowded the round
        # (_rounds/counting.py); null: sampling off
        ("other_cores_busy", pa.float64()),
        ("crowded", pa.bool_()),
        # a crowded round measured again: the round it repeats, and the seconds waited
        # for a quiet machine before it (docs/adaptive-rounds.md); null otherwise
        ("repeat_of", pa.int64()),
        ("quiet_wait_s", pa.float64()),
        # --concur-rounds auto: the rule's relative half-width at its latest look, and on
        # the item's last round why it stopped (docs/adaptive-rounds.md); null otherwise
        ("rel_half_width", pa.float64()),
        ("stop_reason", _STRING),
        # rows this round has in the tasks table; null: task spans off
        ("tasks", pa.int64()),
        # pickled bytes and pickling seconds of the round's tasks (process models with task
        # spans on; docs/decisions.md); null: no task crossed processes
        ("transfer_bytes", pa.int64()),
        ("transfer_s", pa.float64()),
        # concur.map(..., chunksize=N): the batch size tasks were shipped in (the largest
        # where the round's calls differ); null: unbatched, or a model that cannot batch
        ("chunksize", pa.int64()),
        ("outcome", _STRING),
        ("error", _STRING),
        ("session_complete", pa.bool_()),
    ],
    metadata={META_VERSION: str(SCHEMA_VERSION).encode(), META_TABLE: b"rounds"},
)


#: One row per task per round: where and when it ran (docs/timelines.md). Folder
#: ``tasks/<run_id>.parquet``; joins the rounds on run_id, test_id, round.
TASKS_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("test_id", _STRING),
        ("round", pa.int64()),
        ("model", _STRING),
        ("workers", pa.int64()),
        ("map_index", pa.int64()),
        ("task", pa.int64()),
        ("host", _STRING),
        ("pid", pa.int64()),
        ("thread_id", pa.int64()),
        ("interpreter_id", pa.int64()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("wall_s", pa.float64()),
        ("cpu_s", pa.float64()),
        ("suspensions", pa.int64()),
        ("transfer_bytes", pa.int64()),
        ("transfer_s", pa.float64()),
        # when the task's concur.map call began, seconds since the round started (the
        # window of the moving share, docs/decisions.md); null in files written before it
        ("map_start_s", pa.float64()),
    ],
    metadata={META_VERSION: str(SCHEMA_VERSION).encode(), META_TABLE: b"tasks"},
)

#: One row per CPU per sampling interval of a round (docs/timelines.md). Folder
#: ``cores/<run_id>.parquet``; joins the rounds on run_id, test_id, round.
CORES_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("test_id", _STRING),
        ("round", pa.int64()),
        ("model", _STRING),
        ("workers", pa.int64()),
        ("cpu", pa.int64()),
        ("sample", pa.int64()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("ticks", pa.int64()),
        ("busy", pa.float64()),
        ("user", pa.float64()),
        ("system", pa.float64()),
        ("iowait", pa.float64()),
        ("steal", pa.float64()),
    ],
    metadata={META_VERSION: str(SCHEMA_VERSION).encode(), META_TABLE: b"cores"},
)

#: One row per expectation of a claim, per interpreter (docs/claims.md). Folder
#: ``verdicts/<run_id>.parquet``; joins the rounds on run_id and experiment.
VERDICTS_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("started_at", _TIME),
        ("host", _STRING),
        ("python", _STRING),
        ("free_threaded", pa.bool_()),
        ("gil", _STRING),  # enabled, disabled, mixed (changed during the rounds) or unknown
        ("experiment", _STRING),
        ("claim", _STRING),
        ("claim_status", _STRING),  # all expectations of the claim, on this interpreter
        ("expectation", _STRING),
        ("status", _STRING),  # confirmed, refuted or inconclusive
        ("reason", _STRING),
        ("metric", _STRING),
        ("subject", _STRING),
        ("baseline", _STRING),
        ("n_subject", pa.int64()),
        ("n_baseline", pa.int64()),
        ("median_subject", pa.float64()),
        ("median_baseline", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("ci_confidence", pa.float64()),
        ("ratio", pa.float64()),
        ("threshold", pa.float64()),
        ("p_value", pa.float64()),
        ("p_opposite", pa.float64()),
        ("alpha", pa.float64()),
        ("other_cores_busy", pa.float64()),
        ("crowded", pa.bool_()),
    ],
    metadata={META_VERSION: str(SCHEMA_VERSION).encode(), META_TABLE: b"verdicts"},
)


#: One row per session: who ran it, with what, on what (docs/results.md, Provenance).
#: Folder ``runs/``; joins every other table on run_id. Unknown facts are null.
RUNS_SCHEMA: Final = pa.schema(
    [
        ("run_id", _STRING),
        ("name", _STRING),  # --concur-save NAME; null: unnamed
        ("started_at", _TIME),
        ("ended_at", _TIME),
        ("rounds", pa.int64()),
        ("session_complete", pa.bool_()),
        ("command_line", _STRING),
        ("host", _STRING),
        ("python", _STRING),
        ("implementation", _STRING),
        ("free_threaded", pa.bool_()),
        ("gil_enabled", pa.bool_()),  # at the end of the session
        ("python_compiler", _STRING),
        ("python_pgo", pa.bool_()),
        ("python_lto", pa.bool_()),
        ("python_config_args", _STRING),
        ("pytest_concur_version", _STRING),
        ("pytest_version", _STRING),
        ("pytest_xdist_version", _STRING),
        ("pandas_version", _STRING),
        ("pyarrow_version", _STRING),
        # JSON object: distribution -> version, of the top-level packages the tests imported
        ("packages_json", _STRING),
        ("git_commit", _STRING),
        ("git_branch", _STRING),  # null: detached HEAD or no repository
        ("git_dirty", pa.bool_()),
        ("kernel", _STRING),
        ("platform", _STRING),
        ("cpu_model", _STRING),
        ("logical_cpus", pa.int64()),
        ("usable_cpus", pa.int64()),
        ("cpu_quota", pa.float64()),  # CPUs the cgroup quota allows; null: none or unknown
        ("governor", _STRING),  # e.g. performance, powersave; "mixed (...)" when CPUs differ
        ("boost", pa.bool_()),  # turbo/boost on
        ("virtualization", _STRING),  # none, kvm, xen, ...
        ("steal_fraction", pa.float64()),  # CPU time stolen by the hypervisor over the run
        ("tox_env", _STRING),
        ("system_check", _STRING),  # the system check's warning; null: nothing to say
        ("provenance_notes", _STRING),  # why facts above are unknown, "; "-separated
    ],
    metadata={META_VERSION: str(SCHEMA_VERSION).encode(), META_TABLE: b"runs"},
)

#: Each table's schema by its name, which is also its folder's name.
SCHEMAS: Final[Mapping[str, pa.Schema]] = {
    "rounds": ROUNDS_SCHEMA,
    "tasks": TASKS_SCHEMA,
    "cores": CORES_SCHEMA,
    "verdicts": VERDICTS_SCHEMA,
    "runs": RUNS_SCHEMA,
}


def tagged_schema(
    schema: pa.Schema, table: str, provenance: Mapping[str, str] | None = None
) -> pa.Schema:
    """``schema`` with the schema version, table kind and run provenance in its metadata."""
    metadata = dict(schema.metadata or {})
    metadata[META_VERSION] = str(SCHEMA_VERSION).encode()
    metadata[META_TABLE] = table.encode()
    for key, value in (provenance or {}).items():
        metadata[(META_RUN_PREFIX + key).encode()] = value.encode("utf-8", "backslashreplace")
    return schema.with_metadata(metadata)


def provenance_of(metadata: Mapping[bytes, bytes] | None) -> dict[str, str]:
    """The run provenance a file's metadata holds (empty for files that carry none)."""
    prefix = META_RUN_PREFIX.encode()
    return {
        key[len(prefix) :].decode(): value.decode("utf-8", "replace")
        for key, value in (metadata or {}).items()
        if key.startswith(prefix)
    }
