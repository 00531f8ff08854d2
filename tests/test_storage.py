"""Results files: atomic writes, faithful strings, and reading a folder with bad files in it."""

from __future__ import annotations

import ast
import fcntl
import json
import os
import warnings
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from round_rows import round_row

import pytest_concur
from pytest_concur._running.rounds import describe_params
from pytest_concur._storing import files as _storage
from pytest_concur._storing.files import rows_to_table, storable_text, write_part, write_rows
from pytest_concur._storing.layout import OWNER_LOCK, PART_SUFFIX, final_path, parts_folder
from pytest_concur._storing.reading import ResultsFileWarning, expand_paths, read_tables
from pytest_concur._storing.schema import ROUNDS_SCHEMA, SCHEMA_VERSION, tagged_schema

PACKAGE = Path(pytest_concur.__file__).parent

HOSTILE = [
    "<script>alert('x')</script>",
    "quotes \" ' ` and \\ backslash",
    "new\nline\r\nand\ttab",
    "nul \x00 and escape \x1b[31mred\x1b[0m",
    "bidi \u202e reversed and zero\u200bwidth",
    "emoji 🐍 and 中文",
    "",
]


def row(test_id: str = "t.py::test_a[serial]", **changes: Any) -> dict[str, Any]:
    """One plain-valued rounds row, as the plugin makes them."""
    facts = {"run_id": "20260101T000000-abcd0123", "test_id": test_id,
             "experiment": test_id.split("[", 1)[0], "wall_s": 0.5, "cpu_s": 0.5}  # fmt: skip
    return round_row(**{**facts, **changes})


def with_files(examples: int) -> settings:
    """Hypothesis settings for tests that write files into the test's own tmp_path."""
    # tmp_path is reused across examples on purpose: each example overwrites its file
    return settings(
        deadline=None,
        max_examples=examples,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


def quiet_read(paths: Any) -> tuple[list[pa.Table], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tables = read_tables(paths)
    messages = [str(w.message) for w in caught if issubclass(w.category, ResultsFileWarning)]
    assert len(messages) == len(caught), [str(w.message) for w in caught]
    return tables, messages


# ---------------------------------------------------------------------------- writing


_TIMES = st.one_of(
    st.none(),
    st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat()),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes().map(lambda t: t.isoformat()),  # naive: Arrow refuses, Python takes as UTC
)
_ROW_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "test_id": st.one_of(st.none(), st.text()),
        "started_at": _TIMES,
        "round_started_at": _TIMES,
        "wall_s": st.one_of(st.none(), st.floats(allow_nan=False), st.integers(-10, 10)),
        "workers": st.one_of(st.none(), st.integers(0, 64)),
        "warmup": st.one_of(st.none(), st.booleans()),
    },
)


@given(st.lists(_ROW_VALUES, max_size=5))
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # slow free-threaded
def test_the_fast_conversion_agrees_with_the_careful_one(rows: list[dict[str, Any]]) -> None:
    """Arrow's own conversion is tried first; whatever it accepts, it stores as the
    column-by-column path would, and what it refuses goes down that path."""
    schema = tagged_schema(ROUNDS_SCHEMA, "rounds")
    careful = _storage._converted_by_column(rows, schema)
    assert rows_to_table(rows).equals(careful)
    try:
        fast = _storage._converted_by_arrow(rows, schema)
    except (pa.ArrowException, TypeError, ValueError):
        return
    assert fast.equals(careful)


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "run.parquet"
    write_rows([row(round=i) for i in range(3)], path)
    write_rows([row(round=9)], path)  # a second write replaces the file whole
    assert [p.name for p in tmp_path.iterdir()] == ["run.parquet"]
    assert pq.read_table(path).column("round").to_pylist() == [9]


def test_failed_write_keeps_the_old_file_and_removes_its_temp(tmp_path: Path) -> None:
    path = tmp_path / "run.parquet"
    write_rows([row()], path)
    with pytest.raises(pa.ArrowException):
        write_rows([row(workers="not a number")], path)
    assert [p.name for p in tmp_path.iterdir()] == ["run.parquet"]
    assert pq.read_table(path).num_rows == 1


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_exactly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "run.parquet"
    write_rows([row(f"t.py::test_a[{text}]", params=text, error=text)], path)
    stored = pq.read_table(path).to_pylist()[0]
    assert stored["test_id"] == f"t.py::test_a[{text}]"
    assert stored["params"] == text
    assert stored["error"] == text


def test_lone_surrogates_are_stored_as_backslash_escapes(tmp_path: Path) -> None:
    # what os.fsdecode gives for the undecodable bytes of a file name
    undecodable = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    path = tmp_path / "run.parquet"
    write_rows([row(params=undecodable, error="lone \ud800")], path)
    stored = pq.read_table(path).to_pylist()[0]
    assert stored["params"] == "caf\\udce9 \\udcff"
    assert stored["error"] == "lone \\ud800"


def test_params_json_keeps_surrogates_exactly() -> None:
    params = {"name": "\udcff<b>", "raw": b"\xff\x00", "text": "中文\n"}
    readable, as_json = describe_params(params)
    assert json.loads(as_json) == {"name": "\udcff<b>", "raw": repr(b"\xff\x00"), "text": "中文\n"}
    as_json.encode("utf-8")  # storable as it is
    # without surrogates the JSON stays readable, not \u-escaped
    assert describe_params({"text": "中文"})[1] == '{"text": "中文"}'
    assert "\udcff" in readable  # the readable key is escaped only when written


@settings(deadline=None)  # a busy machine is not a slow parser
@given(st.text())
def test_storable_text_is_utf8_and_changes_only_what_utf8_cannot_hold(text: str) -> None:
    stored = storable_text(text)
    stored.encode("utf-8")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        assert stored == text.encode("utf-8", "backslashreplace").decode("utf-8")
    else:
        assert stored == text


@with_files(50)
@given(st.text(), st.text())
def test_any_text_round_trips_through_a_file(tmp_path: Path, test_id: str, error: str) -> None:
    path = tmp_path / "any.parquet"
    write_rows([row(test_id, error=error)], path)
    stored = pq.read_table(path).to_pylist()[0]
    assert stored["test_id"] == storable_text(test_id)
    assert stored["error"] == storable_text(error)


# ---------------------------------------------------------------------------- reading


def write_bad_files(folder: Path) -> dict[str, str]:
    """Every kind of file a results folder may hold besides good ones: name -> why skipped."""
    good = folder / "good.parquet"
    write_rows([row(round=i) for i in range(4)], good)
    data = good.read_bytes()
    (folder / "truncated.parquet").write_bytes(data[: len(data) // 2])
    (folder / "empty.parquet").write_bytes(b"")
    (folder / "corrupt.parquet").write_bytes(b"PAR1" + os.urandom(200) + b"PAR1")
    pq.write_table(pa.table({"x": [1, 2]}), folder / "foreign.parquet")
    newer = tagged_schema(ROUNDS_SCHEMA, "rounds").with_metadata(
        {b"pytest_concur.schema_version": str(SCHEMA_VERSION + 1).encode(),
         b"pytest_concur.table": b"rounds"}
    )  # fmt: skip
    pq.write_table(ROUNDS_SCHEMA.empty_table().cast(newer), folder / "newer.parquet")
    odd = ROUNDS_SCHEMA.with_metadata(
        {b"pytest_concur.schema_version": b"one", b"pytest_concur.table": b"rounds"}
    )
    pq.write_table(ROUNDS_SCHEMA.empty_table().cast(odd), folder / "oddversion.parquet")
    (folder / "folder.parquet").mkdir()  # not a file: passed over, without a word
    return {
        "truncated.parquet": "not a readable Parquet file",
        "empty.parquet": "not a readable Parquet file",
        "corrupt.parquet": "not a readable Parquet file",
        "foreign.parquet": "not a pytest-concur results file",
        "newer.parquet": "newer than this pytest-concur",
        "oddversion.parquet": "not a readable Parquet file",
    }


def test_bad_files_are_skipped_each_named_and_the_rest_loads(tmp_path: Path) -> None:
    expected = write_bad_files(tmp_path)
    tables, messages = quiet_read(tmp_path)
    assert [t.num_rows for t in tables] == [4]
    assert len(messages) == len(expected)
    for name, why in expected.items():
        matching = [m for m in messages if str(tmp_path / name) in m]
        assert len(matching) == 1, (name, messages)
        assert why in matching[0]


def test_load_skips_bad_files_with_warnings(tmp_path: Path) -> None:
    expected = write_bad_files(tmp_path)
    with pytest.warns(ResultsFileWarning) as caught:
        frame = pytest_concur.load(tmp_path)
    assert len(frame) == 4
    named = {name for name in expected for w in caught if name in str(w.message)}
    assert named == set(expected)


def test_companion_tables_are_not_reported_as_bad(tmp_path: Path) -> None:
    write_rows([row()], tmp_path / "run.parquet")
    tasks = pa.schema([("run_id", pa.string()), ("task", pa.int64())])
    write_rows([{"run_id": "r", "task": 1}], tmp_path / "run.tasks.parquet", schema=tasks,
               table="tasks")  # fmt: skip
    tables, messages = quiet_read(tmp_path)
    assert messages == []
    assert [t.num_rows for t in tables] == [1]
    assert [t.num_rows for t in read_tables(tmp_path, table="tasks")] == [1]


@with_files(60)
@given(st.binary(max_size=2048), st.sampled_from([b"", b"PAR1"]))
def test_random_bytes_never_raise(tmp_path: Path, noise: bytes, magic: bytes) -> None:
    path = tmp_path / "noise.parquet"
    path.write_bytes(magic + noise + magic)
    tables, messages = quiet_read([path])
    assert tables == []
    assert len(messages) == 1
    assert str(path) in messages[0]


@with_files(40)
@given(st.data())
def test_damaged_good_file_never_raises(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "damaged.parquet"
    write_rows([row(round=i) for i in range(20)], path)
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(raw))
    tables, messages = quiet_read([path])
    # damage may land where nothing checks it: then the file loads; otherwise it is named
    assert len(tables) + len(messages) == 1
    assert all(str(path) in m for m in messages)


def test_a_path_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no results at"):
        expand_paths(tmp_path / "missing" / "*.parquet")


# ---------------------------------------------------------------------------- parts of sessions


def make_parts(folder: Path, run_id: str, rounds: int) -> Path:
    parts = parts_folder(folder, run_id)
    parts.mkdir(parents=True)
    (parts / OWNER_LOCK).write_text("pid 1\n")
    rows = [row(run_id=run_id, round=i) for i in range(rounds)]
    write_part(rows_to_table(rows), parts / f"rounds-000001{PART_SUFFIX}")  # as Spill writes it
    return parts


@pytest.fixture
def held_lock(tmp_path: Path) -> Iterator[Path]:
    """A parts folder whose owner is alive: its lock is held."""
    parts = make_parts(tmp_path, "live", 2)
    with open(parts / OWNER_LOCK, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield parts


def test_orphaned_parts_are_read_with_a_warning_and_marked_incomplete(tmp_path: Path) -> None:
    make_parts(tmp_path, "killed", 3)
    tables, messages = quiet_read(tmp_path)
    assert [t.num_rows for t in tables] == [3]
    assert tables[0].column("session_complete").to_pylist() == [False] * 3
    assert len(messages) == 1
    assert ".killed.parts" in messages[0]
    assert "killed.parquet" in messages[0]  # where the next session merges them


def test_parts_of_a_running_session_are_left_alone(tmp_path: Path, held_lock: Path) -> None:
    tables, messages = quiet_read(tmp_path)
    assert tables == []
    assert messages == []


def test_parts_already_merged_are_not_read_twice(tmp_path: Path) -> None:
    make_parts(tmp_path, "merged", 3)
    write_rows([row(run_id="merged", round=i) for i in range(3)], final_path(tmp_path, "merged"))
    tables, messages = quiet_read(tmp_path)
    assert [t.num_rows for t in tables] == [3]
    assert messages == []


# ---------------------------------------------------------------------------- no pickle


READERS = ["_storing/files.py", "_storing/spill.py", "_running/session.py",
           "_storing/reading.py", "_storing/recovery.py", "_storing/catalog.py",
           "_storing/journal.py", "analysis.py", "cli.py", "_reporting/terminal.py",
           "_stats/summary.py"]  # fmt: skip
UNSAFE = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


@pytest.mark.parametrize("name", READERS)
def test_results_are_never_loaded_with_pickle(name: str) -> None:
    path = PACKAGE / name
    assert path.exists(), f"{name} moved: keep this list true"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {alias.name.split(".")[0] for alias in node.names} & UNSAFE, name
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in UNSAFE, name
        elif isinstance(node, ast.Attribute):
            assert node.attr not in {"read_pickle", "loads_pickle"}, name
