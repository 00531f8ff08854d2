"""The pandas API: loading (dtypes, old schemas, bad files) and the analysis functions."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from concur_samples import rows, scaling_rows, write, write_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest_concur as pc
from pytest_concur._stats.samples import median_ci
from pytest_concur._storing.reading import ResultsFileWarning
from pytest_concur._storing.schema import ROUNDS_SCHEMA
from pytest_concur.analysis import ConcurAccessor, load_companion, natural_key, rows_frame

# ---------------------------------------------------------------------------- loading


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "20260101T000000-aaaaaaaa.parquet", scaling_rows(run_id="run-a"))
    write(
        tmp_path / "20260102T000000-bbbbbbbb.parquet",
        scaling_rows(run_id="run-b", python="3.13.0", parallel_fraction=0.5),
    )
    return tmp_path


def test_load_a_folder_gives_one_tidy_frame_with_proper_dtypes(folder: Path) -> None:
    df = pc.load(folder)
    assert len(df) == 2 * 4 * 5
    assert list(df.columns[: len(ROUNDS_SCHEMA)]) == ROUNDS_SCHEMA.names
    for name in ("run_id", "host", "python", "experiment", "model", "workload", "outcome"):
        assert isinstance(df[name].dtype, pd.CategoricalDtype), name
    assert str(df["started_at"].dtype) == "datetime64[us, UTC]"
    for name in ("wall_s", "cpu_s", "cores_used", "utilization", "startup_s"):
        assert df[name].dtype == np.float64, name
    for name in ("workers", "round", "usable_cpus", "max_rss_bytes"):
        assert df[name].dtype == pd.Int64Dtype(), name
    for name in ("warmup", "gil_enabled", "free_threaded", "session_complete"):
        assert df[name].dtype == pd.BooleanDtype(), name
    assert set(df["run_id"]) == {"run-a", "run-b"}


def test_load_a_file_a_glob_and_several_paths(folder: Path) -> None:
    files = sorted(folder.glob("*.parquet"))
    assert len(pc.load(files[0])) == 20
    assert len(pc.load(str(folder / "2026*.parquet"))) == 40
    assert len(pc.load([files[0], files[1]])) == 40
    assert len(pc.load([str(files[0]), folder / "20260102*"])) == 40


def test_load_of_nothing_raises_and_an_empty_folder_gives_an_empty_typed_frame(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError, match="no results at"):
        pc.load(tmp_path / "missing-*.parquet")
    empty = pc.load(tmp_path)
    assert empty.empty
    assert list(empty.columns) == ROUNDS_SCHEMA.names
    assert isinstance(empty["model"].dtype, pd.CategoricalDtype)


def test_rows_frame_has_the_dtypes_load_gives(tmp_path: Path) -> None:
    data = scaling_rows()
    stored = pc.load(write(tmp_path / "r.parquet", data))
    direct = rows_frame(data)
    assert direct.dtypes.astype(str).to_dict() == stored.dtypes.astype(str).to_dict()
    pd.testing.assert_frame_equal(direct, stored)


def _old_file(path: Path, version: bytes, drop: list[str]) -> None:
    """A file as an older pytest-concur wrote it: fewer columns, narrower types."""
    table = pa.Table.from_pylist(rows([0.5, 0.6, 0.7], model="threads", workers=2))
    table = table.drop_columns(drop)
    table = table.set_column(
        table.schema.get_field_index("workers"),
        "workers",
        table.column("workers").cast(pa.int32()),
    )
    started = table.schema.get_field_index("started_at")
    table = table.set_column(
        started,
        pa.field("started_at", pa.timestamp("ms")),  # no time zone, coarser unit
        pa.array([pd.Timestamp("2025-05-01T12:00:00")] * 3, pa.timestamp("ms")),
    )
    table = table.replace_schema_metadata(
        {b"pytest_concur.schema_version": version, b"pytest_concur.table": b"rounds"}
    )
    pq.write_table(table, path)


@pytest.mark.parametrize("version", [b"0", b"1"])
def test_files_of_older_schema_versions_load_with_nulls_for_missing_columns(
    tmp_path: Path, version: bytes
) -> None:
    dropped = ["ctx_voluntary", "ctx_involuntary", "startup_s", "session_complete", "platform"]
    _old_file(tmp_path / "old.parquet", version, dropped)
    write(tmp_path / "new.parquet", rows([0.4, 0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an old file is not a problem to warn about
        df = pc.load(tmp_path)
    old = df[df["model"] == "threads"]
    assert len(old) == 3
    for name in dropped:
        assert old[name].isna().all(), name
    assert old["workers"].tolist() == [2, 2, 2]
    assert df["workers"].dtype == pd.Int64Dtype()
    assert old["started_at"].iloc[0] == pd.Timestamp("2025-05-01T12:00:00", tz="UTC")
    assert isinstance(df["model"].dtype, pd.CategoricalDtype)
    summary = pc.summarize(df)
    assert summary.set_index("model").loc["threads", "rounds"] == 3


def test_columns_unknown_to_this_version_are_kept(tmp_path: Path) -> None:
    table = pa.Table.from_pylist(rows([0.5]))
    table = table.append_column("future_measure", pa.array([1.5]))
    table = table.replace_schema_metadata(
        {b"pytest_concur.schema_version": b"1", b"pytest_concur.table": b"rounds"}
    )
    pq.write_table(table, tmp_path / "future.parquet")
    df = pc.load(tmp_path / "future.parquet")
    assert df["future_measure"].tolist() == [1.5]


def _expect_skipped(folder: Path, bad: Path, reason: str) -> pd.DataFrame:
    with pytest.warns(ResultsFileWarning) as caught:
        df = pc.load(folder)
    messages = [str(w.message) for w in caught]
    assert any(str(bad) in m and reason in m for m in messages), messages
    return df


def test_truncated_file_is_skipped_with_a_warning_naming_it(tmp_path: Path) -> None:
    good = write(tmp_path / "a-good.parquet", rows([0.1, 0.2]))
    whole = write(tmp_path / "b-cut.parquet", rows([0.3, 0.4])).read_bytes()
    bad = tmp_path / "b-cut.parquet"
    bad.write_bytes(whole[: len(whole) // 2])
    df = _expect_skipped(tmp_path, bad, "skipped")
    assert len(df) == 2
    assert good.exists()


def test_empty_foreign_newer_and_mistyped_files_are_each_skipped(tmp_path: Path) -> None:
    write(tmp_path / "good.parquet", rows([0.1, 0.2]))
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), foreign)
    newer = tmp_path / "newer.parquet"
    pq.write_table(
        pa.Table.from_pylist(rows([0.5])).replace_schema_metadata(
            {b"pytest_concur.schema_version": b"999", b"pytest_concur.table": b"rounds"}
        ),
        newer,
    )
    mistyped = tmp_path / "mistyped.parquet"
    table = pa.Table.from_pylist(rows([0.5]))
    table = table.set_column(
        table.schema.get_field_index("wall_s"), "wall_s", pa.array(["half a second"])
    )
    pq.write_table(
        table.replace_schema_metadata(
            {b"pytest_concur.schema_version": b"1", b"pytest_concur.table": b"rounds"}
        ),
        mistyped,
    )
    with pytest.warns(ResultsFileWarning) as caught:
        df = pc.load(tmp_path)
    messages = " | ".join(str(w.message) for w in caught)
    for path, reason in [
        (empty, "not a readable Parquet file"),
        (foreign, "not a pytest-concur results file"),
        (newer, "schema version 999 is newer"),
        (mistyped, "its columns do not match the rounds schema"),
    ]:
        assert f"skipped {path}: {reason}" in messages
    assert len(df) == 2


def test_a_hostile_pandas_metadata_key_is_ignored(tmp_path: Path) -> None:
    table = pa.Table.from_pylist(rows([0.5, 0.6]))
    table = table.replace_schema_metadata(
        {
            b"pytest_concur.schema_version": b"1",
            b"pytest_concur.table": b"rounds",
            b"pandas": b'{"index_columns": ["no_such_column"], "columns": 7}',
        }
    )
    pq.write_table(table, tmp_path / "odd.parquet")
    assert len(pc.load(tmp_path / "odd.parquet")) == 2


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(junk=st.binary(max_size=2048), prefix=st.sampled_from([b"", b"PAR1", b"PAR1\x15\x04"]))
def test_junk_bytes_are_skipped_with_a_warning_and_never_crash(
    tmp_path_factory: pytest.TempPathFactory, junk: bytes, prefix: bytes
) -> None:
    folder = tmp_path_factory.mktemp("junk")
    write(folder / "good.parquet", rows([0.1, 0.2, 0.3]))
    bad = folder / "junk.parquet"
    bad.write_bytes(prefix + junk + (b"PAR1" if junk else b""))
    with pytest.warns(ResultsFileWarning) as caught:
        df = pc.load(folder)
    assert any(f"skipped {bad}" in str(w.message) for w in caught)
    assert len(df) == 3


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.floats(0.0, 0.999))
def test_any_truncation_of_a_real_file_is_skipped(
    tmp_path_factory: pytest.TempPathFactory, cut: float
) -> None:
    folder = tmp_path_factory.mktemp("cut")
    source = write(folder / "whole.parquet", rows([0.1, 0.2, 0.3]))
    data = source.read_bytes()
    source.unlink()
    bad = folder / "cut.parquet"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.warns(ResultsFileWarning, match="skipped"):
        assert pc.load(folder).empty


# ---------------------------------------------------------------------------- summaries


def test_summarize_gives_medians_spread_and_an_interval_per_variant() -> None:
    data = rows([9.0, 1.0, 2.0, 3.0, 4.0, 5.0], warmup=1) + rows(
        [1.0, 1.0, 1.0], model="threads", workers=2
    )
    data += rows([7.0], model="threads", workers=2, outcome="failed", error="boom")
    summary = pc.summarize(rows_frame(data))
    serial = summary.set_index("model").loc["serial"]
    assert serial["rounds"] == 5  # the warm-up round is left out
    assert serial["wall_median_s"] == 3.0
    assert serial["wall_q25_s"] == 2.0
    assert serial["wall_q75_s"] == 4.0
    assert serial["wall_ci_low_s"] <= 3.0 <= serial["wall_ci_high_s"]
    assert 0 < serial["wall_ci_level"] <= 1
    threads = summary.set_index("model").loc["threads"]
    assert threads["failed"] == 1
    assert threads["error"] == "boom"
    assert threads["speedup"] == pytest.approx(3.0)
    assert threads["efficiency"] == pytest.approx(1.5)
    assert threads["baseline"] == "serial"
    assert summary["wall_median_s"].dtype == np.float64
    assert summary["workers"].dtype == np.int64


@given(walls=st.lists(st.floats(1e-4, 1e3), min_size=1, max_size=30))
@settings(max_examples=60, deadline=None)
def test_summarize_median_and_interval_agree_with_numpy(walls: list[float]) -> None:
    summary = pc.summarize(rows_frame(rows(walls)))
    line = summary.iloc[0]
    assert line["wall_median_s"] == pytest.approx(float(np.median(walls)))
    assert line["wall_ci_low_s"] <= line["wall_median_s"] <= line["wall_ci_high_s"]
    assert min(walls) <= line["wall_ci_low_s"]
    assert line["wall_ci_high_s"] <= max(walls)


@given(walls=st.lists(st.floats(1e-4, 1e3), min_size=1, max_size=60))
@settings(max_examples=40, deadline=None)
def test_summarize_interval_is_the_one_median_ci_gives(walls: list[float]) -> None:
    line = pc.summarize(rows_frame(rows(walls))).iloc[0]
    expected = median_ci(walls)
    assert (line["wall_ci_low_s"], line["wall_ci_high_s"]) == (expected.low, expected.high)
    assert line["wall_ci_level"] == pytest.approx(expected.confidence)


def test_summarize_by_a_column_keeps_groups_apart() -> None:
    data = scaling_rows(python="3.11.7", parallel_fraction=0.0) + scaling_rows(
        python="3.13.5t", parallel_fraction=1.0, gil_enabled=False
    )
    summary = pc.summarize(rows_frame(data), by="python")
    speedups = summary.set_index(["python", "model", "workers"])["speedup"]
    assert speedups[("3.11.7", "processes", 4)] == pytest.approx(1.0, rel=0.02)
    assert speedups[("3.13.5t", "processes", 4)] == pytest.approx(4.0, rel=0.02)
    assert list(summary.columns[:5]) == ["python", "experiment", "params", "model", "workers"]


def test_speedup_and_efficiency_against_serial_or_a_named_variant() -> None:
    df = rows_frame(scaling_rows(parallel_fraction=1.0, jitter=0.0))
    speedup = pc.speedup(df)
    assert speedup.index.names == ["experiment", "params", "model", "workers"]
    assert speedup.xs("processes", level="model").tolist() == pytest.approx([1, 2, 4])
    assert pc.efficiency(df).xs("processes", level="model").tolist() == pytest.approx([1, 1, 1])
    against_two = pc.speedup(df, baseline="processes-2").xs("processes", level="model")
    assert against_two.tolist() == pytest.approx([0.5, 1, 2])
    eff = pc.efficiency(df, baseline="processes-2").xs("processes", level="model")
    assert eff.tolist() == pytest.approx([1, 1, 1])
    # a model without a count means its fewest workers
    assert pc.speedup(df, baseline="processes").equals(pc.speedup(df, baseline="processes-1"))


def test_speedup_is_nan_where_the_baseline_did_not_run() -> None:
    df = rows_frame(rows([1.0, 1.1], model="threads", workers=2))
    assert np.isnan(pc.speedup(df).iloc[0])


def test_bad_baseline_and_bad_columns_are_clear_errors() -> None:
    df = rows_frame(scaling_rows())
    with pytest.raises(ValueError, match="baseline 'gevent' names no model"):
        pc.speedup(df, baseline="gevent")
    with pytest.raises(KeyError, match="no column 'nope'"):
        pc.summarize(df, by="nope")
    with pytest.raises(KeyError, match="no column 'nope'"):
        pc.compare(df, by="nope")


def test_rows_without_a_variant_are_left_out_with_a_warning() -> None:
    df = rows_frame(rows([1.0, 2.0]))
    df.loc[0, "model"] = None
    with pytest.warns(pc.ConcurWarning, match="1 round"):
        summary = pc.summarize(df)
    assert summary["rounds"].tolist() == [1]


def test_amdahl_fit_per_model_recovers_the_parallel_fraction() -> None:
    df = rows_frame(scaling_rows(parallel_fraction=0.8, counts=(1, 2, 4, 8), jitter=0.0))
    fits = pc.amdahl(df)
    assert fits["model"].tolist() == ["processes"]
    fit = fits.iloc[0]
    assert fit["parallel_fraction"] == pytest.approx(0.8, abs=1e-6)
    assert fit["ceiling"] == pytest.approx(5.0, rel=1e-4)
    assert fit["worker_counts"] == "1,2,4,8"
    assert fit["points"] == 4


def test_amdahl_needs_two_worker_counts() -> None:
    df = rows_frame(scaling_rows(counts=(2,)))
    assert pc.amdahl(df).empty


# ---------------------------------------------------------------------------- compare


def test_compare_by_python_finds_the_faster_interpreter() -> None:
    slow = [1.00, 1.02, 1.01, 0.99, 1.03, 1.00, 1.01]
    fast = [0.50, 0.52, 0.51, 0.49, 0.53, 0.50, 0.51]
    same = [1.01, 0.98, 1.02, 1.00, 0.99, 1.00, 1.01]
    data = rows(slow, python="3.11.7") + rows(fast, python="3.13.5t", gil_enabled=False)
    data += rows(same, python="3.9.18")  # natural order: 3.9 comes first
    table = pc.compare(rows_frame(data), by="python")
    assert table["baseline"].unique().tolist() == ["3.9.18"]
    result = table.set_index("candidate")
    assert result.loc["3.13.5t", "change"] == "faster"
    assert result.loc["3.13.5t", "ratio"] == pytest.approx(0.51 / 1.00, rel=0.02)
    assert result["p_faster"]["3.13.5t"] < 0.01
    assert result.loc["3.11.7", "change"] == "no change"
    against = pc.compare(rows_frame(data), by="python", baseline="3.13.5t").set_index("candidate")
    assert against.loc["3.11.7", "change"] == "slower"


def test_compare_says_when_there_are_too_few_rounds_to_judge() -> None:
    data = rows([1.0, 1.0], run_id="a") + rows([2.0, 2.0], run_id="b")
    table = pc.compare(rows_frame(data), by="run_id")
    assert table["change"].tolist() == ["too few rounds"]


def test_compare_other_metrics_and_columns() -> None:
    data = rows([1.0] * 5, gil_enabled=True, cores_used=1.0) + rows(
        [1.0] * 5, gil_enabled=False, cores_used=2.0
    )
    table = pc.compare(rows_frame(data), by="gil_enabled", baseline=True, metric="cpu")
    assert table["metric"].tolist() == ["cpu_s"]
    assert table["ratio"].tolist() == pytest.approx([2.0])
    with pytest.raises(ValueError, match="is not a value of 'gil_enabled'"):
        pc.compare(rows_frame(data), by="gil_enabled", baseline="maybe")


def test_natural_key_orders_versions_as_people_do() -> None:
    values = ["3.13.5t", "3.9.18", "3.11.7", None, "3.13.0"]
    assert sorted(values, key=natural_key) == ["3.9.18", "3.11.7", "3.13.0", "3.13.5t", None]


# ---------------------------------------------------------------------------- accessor, verdicts


def test_the_accessor_reads_like_the_free_functions() -> None:
    df = rows_frame(scaling_rows())
    pd.testing.assert_frame_equal(df.concur.summarize(), pc.summarize(df))
    pd.testing.assert_series_equal(df.concur.speedup(), pc.speedup(df))
    pd.testing.assert_series_equal(df.concur.efficiency(), pc.efficiency(df))
    pd.testing.assert_frame_equal(df.concur.amdahl(), pc.amdahl(df))
    assert len(df.concur.measured()) == len(df)
    two = pd.concat([df, df.assign(python="3.12.1")], ignore_index=True)
    accessor = getattr(two, "concur")  # noqa: B009 - the stubs cannot know accessors
    assert isinstance(accessor, ConcurAccessor)
    pd.testing.assert_frame_equal(accessor.compare("python"), pc.compare(two, "python"))


def test_load_verdicts_reads_the_verdicts_table_and_tolerates_its_absence(tmp_path: Path) -> None:
    write(tmp_path / "run-a.parquet", rows([1.0]))
    assert pc.load_verdicts(tmp_path).empty
    write_table(
        tmp_path / "run-a.verdicts.parquet",
        [
            {"run_id": "run-a", "claim": "processes beat threads", "verdict": "confirmed"},
            {"run_id": "run-a", "claim": "coroutines scale", "verdict": "inconclusive"},
        ],
        "verdicts",
    )
    verdicts = pc.load_verdicts(tmp_path)
    assert verdicts["verdict"].tolist() == ["confirmed", "inconclusive"]
    assert isinstance(verdicts["run_id"].dtype, pd.CategoricalDtype)
    # the rounds are unaffected by the companion file
    assert len(pc.load(tmp_path)) == 1


def test_load_companion_tables(tmp_path: Path) -> None:
    write(tmp_path / "r.parquet", rows([1.0]))
    assert load_companion(tmp_path, "tasks").empty
    write_table(tmp_path / "r.tasks.parquet", [{"run_id": "r", "start_s": 0.0}], "tasks")
    assert load_companion(tmp_path, "tasks")["start_s"].tolist() == [0.0]


def test_public_names_are_exported() -> None:
    for name in ("load", "load_verdicts", "summarize", "speedup", "efficiency", "compare",
                 "amdahl"):  # fmt: skip
        assert name in pc.__all__
        assert callable(getattr(pc, name))
    assert os.path.basename(pc.analysis.__file__) == "analysis.py"
