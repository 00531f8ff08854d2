"""One folder per table: a real session's results read by DuckDB, polars, pandas and pyarrow;
the flat layout of older versions still loads; part files stay out of the table folders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from helpers import concur_test, experiment_source, shared_session

import pytest_concur
from pytest_concur._storing.catalog import find_runs, stored_runs
from pytest_concur._storing.layout import TABLES, companion, final_path, flat_path, parts_folder
from pytest_concur._storing.reading import expand_paths
from pytest_concur._storing.schema import provenance_of
from pytest_concur._storing.spill import Spill
from pytest_concur.analysis import load_companion

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "results" / "example"

EXPERIMENT = experiment_source(
    concur_test(
        models=["serial", "threads"], workers=[2], rounds=3, warmup=1,
        # 120 ms: longer than the 0.1 s sampling interval
        body="concur.map(time.sleep, [0.06] * 4)",
    )
)  # fmt: skip
#: 2 variants x (3 measured + 1 warm-up) rounds; each round spans a per-core sample, so the
#: session has a cores table too (a 10 ms round, shorter than the interval, often has none)
ROUNDS = 8


@pytest.fixture(scope="module")
def session_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real session's results folder, with a session's parts left beside the tables."""
    project = tmp_path_factory.mktemp("project")
    # as a pytester session: crowded rounds are not measured again (tests/conftest.py),
    # so the session has exactly ROUNDS rows however busy the machine is
    ran = shared_session(project, {"test_exp": EXPERIMENT}, "-p", "no:cacheprovider",
                         "--concur-save", "first")  # fmt: skip
    assert ran.result.ret == 0, ran.result.outlines + ran.result.errlines
    results = project / "results"
    # a running session's spilled rows: never in a table folder
    live = Spill(results, "29990101T000000-11111111", flush_rows=1)
    live.add([{"run_id": "29990101T000000-11111111", "round": 0, "wall_s": 99.0}])
    assert parts_folder(results, "29990101T000000-11111111").is_dir()
    yield results
    live.close()


def test_every_table_has_its_folder(session_folder: Path) -> None:
    kinds = {path.parent.name for path in session_folder.glob("*/*.parquet")}
    assert kinds == {"rounds", "tasks", "cores", "runs", "recommendations"}
    assert not list(session_folder.glob("*.parquet"))  # nothing flat beside them
    for path in session_folder.glob("*/*.parquet"):
        assert pq.read_schema(path).metadata[b"pytest_concur.table"] == path.parent.name.encode()


def query(sql: str) -> list[tuple[object, ...]]:
    # the test extra installs DuckDB; builds without its wheels (free-threaded) skip this
    duckdb = pytest.importorskip("duckdb", reason="DuckDB has no wheel for this Python")
    relation = duckdb.sql(sql)
    assert relation is not None
    rows: list[tuple[object, ...]] = relation.fetchall()
    return rows


def test_duckdb_reads_exactly_the_rounds(session_folder: Path) -> None:
    pattern = str(session_folder / "rounds" / "*.parquet")
    counts = query(
        f"select count(*), count(wall_s), count(distinct model) from read_parquet('{pattern}')"
    )
    assert counts == [(ROUNDS, ROUNDS, 2)]
    runs = query(
        f"select name, rounds from read_parquet('{session_folder / 'runs' / '*.parquet'}')"
    )
    assert runs == [("first", ROUNDS)]


def test_polars_reads_exactly_the_rounds(session_folder: Path) -> None:
    pl = pytest.importorskip("polars", reason="polars has no wheel for this Python")
    scanned = pl.scan_parquet(session_folder / "rounds" / "*.parquet").collect()
    assert scanned.height == ROUNDS
    assert scanned["wall_s"].null_count() == 0
    assert set(scanned["model"]) == {"serial", "threads"}


def test_pandas_and_pyarrow_read_the_rounds_folder(session_folder: Path) -> None:
    import pandas as pd

    folder = session_folder / "rounds"
    assert len(pd.read_parquet(folder)) == ROUNDS
    table = ds.dataset(folder, format="parquet").to_table()
    assert table.num_rows == ROUNDS
    assert table.column("wall_s").null_count == 0


def test_parts_of_a_running_session_are_outside_every_table_folder(session_folder: Path) -> None:
    assert [path.parent.name for path in session_folder.rglob("*.arrow")] == [
        ".29990101T000000-11111111.parts"
    ]
    parts = list(session_folder.rglob("*.arrow"))
    assert all(table not in path.parts for table in TABLES for path in parts)
    loaded = pytest_concur.load(session_folder)  # a live session's parts are not read
    assert len(loaded) == ROUNDS


def test_each_file_carries_the_runs_provenance(session_folder: Path) -> None:
    (rounds,) = (session_folder / "rounds").glob("*.parquet")
    facts = provenance_of(pq.read_schema(rounds).metadata)
    assert facts["run_id"] == rounds.stem
    assert facts["name"] == "first"
    assert facts["rounds"] == str(ROUNDS)
    assert facts["pytest_concur_version"]
    for kind in ("tasks", "cores", "runs", "recommendations"):
        assert provenance_of(pq.read_schema(companion(rounds, kind)).metadata) == facts


def test_a_table_folder_and_a_results_folder_load_the_same(session_folder: Path) -> None:
    whole = pytest_concur.load(session_folder)
    only = pytest_concur.load(session_folder / "rounds")
    assert len(whole) == len(only) == ROUNDS
    runs = load_companion(session_folder, "runs")
    assert list(runs["name"]) == ["first"]


def test_the_flat_layout_still_loads(tmp_path: Path) -> None:
    flat = tmp_path / "example"
    shutil.copytree(EXAMPLE, flat)
    rounds = pytest_concur.load(flat)
    assert len(rounds) == 144
    assert len(pytest_concur.load_verdicts(flat)) > 0
    assert len(load_companion(flat, "tasks")) > 0
    (first, second) = stored_runs(flat)
    assert first.rounds == flat_path(flat, first.run_id)
    assert find_runs(flat, second.run_id[:17]) == [second]
    # flat and foldered runs side by side: both read
    new = final_path(flat, "29990101T000000-22222222")
    new.parent.mkdir()
    shutil.copy(flat_path(flat, first.run_id), new)
    assert len(pytest_concur.load(flat)) == 144 + 72
    # flat files are told apart by their metadata; of the table folders only rounds/ is read
    assert len(expand_paths(flat, table="rounds")) == 8 + 1


def test_companion_paths_in_both_layouts(tmp_path: Path) -> None:
    new = final_path(tmp_path, "r1")
    assert companion(new, "verdicts") == tmp_path / "verdicts" / "r1.parquet"
    old = flat_path(tmp_path, "r1")
    assert companion(old, "tasks") == tmp_path / "r1.tasks.parquet"
    assert companion(flat_path(tmp_path, "r1", "cores"), "rounds") == old
