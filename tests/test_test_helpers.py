"""The test factories themselves: rows match the rounds schema, sources are what they say."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import concur_test, experiment_source, shared_session
from round_rows import DEFAULTS, round_row, variants_frame, variants_rows

import pytest_concur
from pytest_concur._storing.files import write_rows
from pytest_concur._storing.schema import ROUNDS_SCHEMA


def test_the_row_factory_knows_every_rounds_column_and_no_other() -> None:
    # a column added to ROUNDS_SCHEMA fails here until DEFAULTS gives it a value
    assert list(DEFAULTS) == ROUNDS_SCHEMA.names
    assert list(round_row()) == ROUNDS_SCHEMA.names


def test_a_row_is_stored_and_loaded_as_the_plugin_s_rows_are(tmp_path: Path) -> None:
    row = round_row(model="threads", workers=2, params="n=1", gil_enabled=False, crowded=True)
    path = write_rows([row], tmp_path / "rounds" / "r.parquet")
    assert pq.read_schema(path).remove_metadata() == ROUNDS_SCHEMA.remove_metadata()
    (loaded,) = pytest_concur.load(tmp_path).to_dict("records")
    assert loaded["test_id"] == "test_exp.py::test_work[threads-2-n=1]"
    assert loaded["free_threaded"] == True  # noqa: E712 (a nullable boolean)
    assert loaded["crowded"] == True  # noqa: E712 (a nullable boolean)
    assert loaded["wall_s"] == 1.0


def test_overrides_win_and_unknown_columns_are_errors() -> None:
    assert round_row(test_id="x.py::y", free_threaded=True)["test_id"] == "x.py::y"
    assert round_row(test_id="x.py::y", free_threaded=True)["free_threaded"] is True
    assert round_row(model="serial", workers=1)["test_id"] == "test_exp.py::test_work[serial]"
    with pytest.raises(KeyError, match="walls"):
        round_row(walls=[1.0])


def test_variants_rows_number_rounds_per_variant_with_their_own_columns() -> None:
    rows = variants_rows(
        {("serial", 1): [3.0, 2.0], ("threads", 2): {"values": [1.0], "outcome": "failed"}},
        metric="cpu_s",
        warmup=1,
        experiment="e.py::test_e",
    )
    assert [(r["model"], r["round"], r["warmup"], r["cpu_s"], r["outcome"]) for r in rows] == [
        ("serial", 0, True, 3.0, "passed"),
        ("serial", 1, False, 2.0, "passed"),
        ("threads", 0, True, 1.0, "failed"),
    ]
    assert {r["experiment"] for r in rows} == {"e.py::test_e"}


def test_variants_frame_has_the_loaded_dtypes(tmp_path: Path) -> None:
    frame = variants_frame({("serial", 1): [1.0, 1.1], ("processes", 4): [0.3, 0.31]})
    write_rows(variants_rows({("serial", 1): [1.0, 1.1], ("processes", 4): [0.3, 0.31]}),
               tmp_path / "rounds" / "r.parquet")  # fmt: skip
    loaded = pytest_concur.load(tmp_path)
    assert list(frame.columns) == list(loaded.columns)
    assert frame.dtypes.to_dict() == loaded.dtypes.to_dict()
    assert frame["wall_s"].tolist() == [1.0, 1.1, 0.3, 0.31]


def test_experiment_sources_compile_and_carry_the_marker() -> None:
    nap = concur_test(models=["serial", "threads"], workers=[2], rounds=2)
    assert nap == (
        "@pytest.mark.concur(workload='io', models=['serial', 'threads'], workers=[2], "
        "rounds=2, warmup=0)\n"
        "def test_nap(concur):\n"
        "    concur.map(time.sleep, [0.001])\n"
    )
    source = experiment_source(
        nap, concur_test("test_other", workload="cpu", body="pass", claim="c")
    )
    compile(source, "test_exp.py", "exec")
    assert source.startswith("import time\nimport pytest\n")
    assert "claim='c'" in source


def test_a_shared_session_runs_where_and_as_pytester_would(tmp_path: Path) -> None:
    probe = """
    import os

    def test_environment():
        assert os.getcwd() == os.environ["HOME"]
        assert os.environ["PYTEST_ADDOPTS"] == "--concur-crowded-retries=0"
        assert os.environ["EXTRA"] == "given"
    """
    ran = shared_session(tmp_path, {"test_probe": probe}, "-p", "no:cacheprovider",
                         env={"EXTRA": "given"})  # fmt: skip
    ran.result.assert_outcomes(passed=1)
    assert ran.path == tmp_path
