"""Nothing lost, nothing crashes: bad markers, bad options, bad results folders, failing
and hostile experiments (docs/guarantees.md). Signals, crashes and concurrent sessions
are in test_faults_processes.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from faults_helpers import finish, load_quietly, rounds_files, start_pytest
from helpers import concur_test, experiment_source

from pytest_concur._storing.files import write_rows

SMALL = experiment_source(
    concur_test(
        "test_small", workload="cpu", models=["serial", "threads"], workers=[2], rounds=2,
        body='open("ran", "w").close()\nconcur.map(abs, [1, 2])',
    ),
    imports=["pytest"],
    after="\ndef test_plain():\n    pass\n",
)  # fmt: skip


def no_plugin_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert "INTERNALERROR" not in text
    assert "pytest_concur/" not in text, text  # no frame of the plugin's own files


# ---------------------------------------------------------------------------- 1. markers


MISUSES = [
    ('workload="gpu"', "unknown workload 'gpu'; choose one of: cpu, io, memory, mixed, switch"),
    ('workload="cpu", models=["threads", "fibers"]', "unknown model 'fibers'; choose from: *"),
    ('workload="cpu", workers=[2, 0]', "workers must be a positive integer, got 0"),
    ('workload="cpu", workers=["2"]', "workers must be a positive integer, got '2'"),
    ('workload="cpu", workers=1.5', "workers must be a positive integer, got 1.5"),
    ('workload="cpu", models=[]', "models must not be empty"),
    ('workload="cpu", workers=[]', "workers must not be empty"),
    ('workload="cpu", worker=2', "unknown keyword(s) worker; valid keywords: *workers*"),
    ('"cpu"', "takes keyword arguments only (workload=..., *"),
    ('workload="cpu", rounds=0', "rounds must be a positive integer or 'auto', got 0"),
]


def test_marker_misuse_is_a_collection_error_naming_test_value_and_choices(
    pytester: pytest.Pytester,
) -> None:
    # one module per misuse, one session for all: each is its own collection error
    for index, (marker, _) in enumerate(MISUSES):
        pytester.makepyfile(
            **{
                f"test_bad_{index:02d}": f"""
                import pytest

                @pytest.mark.concur({marker})
                def test_exp(concur):
                    pass
                """
            }
        )
    pytester.makepyfile(test_good=SMALL)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest's own for collection errors
    result.assert_outcomes(errors=len(MISUSES))
    result.stdout.fnmatch_lines(
        [
            line
            for index, (_, says) in enumerate(MISUSES)
            for line in (
                f"*ERROR collecting test_bad_{index:02d}.py*",
                f"test_bad_{index:02d}.py::test_exp: invalid concur marker: {says}",
            )
        ]
    )
    no_plugin_traceback(result.stdout.str())
    assert not Path(pytester.path, "ran").exists()  # collection errors: nothing ran


def test_the_fixture_without_the_marker_says_how_to_add_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="def test_exp(concur):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["test_bad.py::test_exp: the `concur` fixture needs the experiment marker, e.g. *"]
    )
    no_plugin_traceback(result.stdout.str())


def test_the_marker_without_the_fixture_says_to_take_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.concur(workload="cpu")
        def test_exp():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["test_bad.py::test_exp: a concur experiment must take the `concur` fixture*"]
    )
    no_plugin_traceback(result.stdout.str())


def test_one_bad_marker_does_not_hide_the_others_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a='import pytest\n@pytest.mark.concur(workload="gpu")\ndef test_a(concur): pass\n',
        test_b='import pytest\n@pytest.mark.concur(workload="cpu", workers=[-1])\n'
        "def test_b(concur): pass\n",
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["test_a.py::test_a: *'gpu'*", "test_b.py::test_b: *got -1"])


# ---------------------------------------------------------------------------- 2. options


@pytest.mark.parametrize(
    ("args", "ini", "says"),
    [
        (["--concur-rounds", "0"], "", "*--concur-rounds: must be at least 1, got 0"),
        (["--concur-rounds", "many"], "",
         "*--concur-rounds: expected a number of rounds or 'auto', got 'many'"),
        (["--concur-warmup", "-1"], "", "*--concur-warmup: must be at least 0, got -1"),
        (["--concur-models", "nope"], "", "*--concur-models: unknown value 'nope'; choose from: *"),
        (["--concur-models", ","], "", "*--concur-models: expected a comma-separated list*"),
        (["--concur-workers", "2,0"], "", "*worker counts must be positive integers, got '0'"),
        (["--concur-workload", "gpu"], "", "*--concur-workload: unknown value 'gpu'; choose *"),
        (["--concur-start-method", "clone"], "", "*invalid choice: 'clone'*"),
        ([], "concur_rounds = x", "*ini option concur_rounds: expected an integer, got 'x'"),
        ([], "concur_rounds = 0", "*ini option concur_rounds: must be at least 1, got 0"),
        ([], "concur_warmup = -1", "*ini option concur_warmup: must be at least 0, got -1"),
    ],
)
def test_bad_options_and_ini_values_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], ini: str, says: str
) -> None:
    pytester.makepyfile(test_exp=SMALL)
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([says])
    no_plugin_traceback(result.stderr.str() + result.stdout.str())
    assert not Path(pytester.path, "ran").exists()


# ---------------------------------------------------------------------------- 3. results folder


@pytest.mark.parametrize("where", ["results", "blocker/results"])
def test_a_results_folder_that_cannot_be_made_is_said_before_anything_runs(
    pytester: pytest.Pytester, where: str
) -> None:
    pytester.makepyfile(test_exp=SMALL)
    Path(pytester.path, where.split("/")[0]).write_text("a file where the folder should be")
    result = pytester.runpytest("--concur-results", where)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: pytest-concur cannot save results in *{where}: *"
            f"{where.split('/')[0]} is a file, not a folder. "
            f"*--concur-results DIR*--concur-no-save."
        ]
    )
    no_plugin_traceback(result.stderr.str() + result.stdout.str())
    assert not Path(pytester.path, "ran").exists()  # not one experiment ran


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_results_folder_is_said_before_anything_runs(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_exp=SMALL)
    folder = Path(pytester.path, "results")
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = pytester.runpytest()
    finally:
        folder.chmod(0o755)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot save results in*is not writable*"])


def test_an_unwritable_folder_does_not_matter_when_no_experiment_runs(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_exp=SMALL)
    Path(pytester.path, "results").write_text("not a folder")
    pytester.runpytest("-k", "plain").assert_outcomes(passed=1, deselected=2)
    pytester.runpytest("--concur-no-save").assert_outcomes(passed=3)
    pytester.runpytest("--collect-only").assert_outcomes()


def test_under_xdist_rows_go_to_the_fallback_folder_that_the_message_names(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the controller collects nothing: it says so at the start and keeps the rows
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    pytester.makepyfile(test_exp=SMALL)
    Path(pytester.path, "results").write_text("not a folder")
    result = pytester.runpytest_subprocess("-n", "1", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    fallback = temp / "pytest-concur"
    result.stdout.fnmatch_lines(
        [
            f"pytest-concur: results folder */results cannot be written (*is a file, not a "
            f"folder); rows will be kept in {fallback} instead",
            f"pytest-concur: 4 rows written to {fallback}/rounds/*.parquet",
        ]
    )
    assert len(load_quietly(fallback)) == 4
    no_plugin_traceback(result.stdout.str())


FULL_DISK = """
import errno
from pathlib import Path
import pytest_concur._storing.spill as spill

BLOCKED = [Path("{blocked}").resolve()]

def refuse(write):
    def guarded(*args, **kwargs):
        target = Path(args[1]).resolve()
        if any(target.is_relative_to(folder) for folder in BLOCKED):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return write(*args, **kwargs)
    return guarded

spill.write_part = refuse(spill.write_part)
spill.write_tables = refuse(spill.write_tables)
"""


def test_a_full_disk_mid_session_keeps_every_row_in_the_fallback(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    results = Path(pytester.path, "results")
    pytester.makeconftest(FULL_DISK.format(blocked=results))
    pytester.makepyfile(test_exp=SMALL)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-report")
    assert result.ret == pytest.ExitCode.OK
    fallback = temp / "pytest-concur"
    result.stdout.fnmatch_lines(
        [
            "*pytest-concur report*",
            f"pytest-concur: could not write to {results} (*No space left on device*); "
            f"the rows are kept in {fallback} instead",
            f"pytest-concur: 4 rows written to {fallback}/rounds/*.parquet",
        ]
    )
    assert len(load_quietly(fallback)) == 4
    assert not list(results.glob("*/*.parquet"))
    no_plugin_traceback(result.stdout.str())


def test_when_no_folder_takes_the_rows_the_session_says_so_and_still_reports(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    pytester.makeconftest(FULL_DISK.format(blocked=pytester.path).replace(
        "BLOCKED = [", f"BLOCKED = [Path({str(temp)!r}), "
    ))  # fmt: skip
    pytester.makepyfile(test_exp=SMALL)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-report")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*pytest-concur report*",
            "test_exp.py::test_small  (workload: cpu)",
            "*serial*2*",
            "pytest-concur: could not write to *No space left on device*",
            "pytest-concur: 4 measured rounds not yet spilled could not be written anywhere "
            "and are lost when this session ends",
        ]
    )
    no_plugin_traceback(result.stdout.str())


# ---------------------------------------------------------------------------- 7. bad files


def test_the_report_command_skips_bad_files_naming_each(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_exp=SMALL)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    results = Path(pytester.path, "results")
    good = rounds_files(results)
    (results / "empty.parquet").write_bytes(b"")
    (results / "truncated.parquet").write_bytes(good[0].read_bytes()[:300])
    (results / "text.parquet").write_text("not parquet at all")
    done = subprocess.run(
        [sys.executable, "-m", "pytest_concur", "report", str(results)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in ("empty", "truncated", "text"):
        assert f"skipped {results / name}.parquet" in done.stderr
    assert "test_exp.py::test_small" in done.stdout
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------------------- 8. failures

FAILING = """
import pytest

ROUNDS = []

@pytest.mark.concur(workload="cpu", models=["serial", "threads"], workers=[2], rounds=3, warmup=0)
def test_breaks(concur):
    ROUNDS.append(concur.model)
    if concur.model == "threads" and ROUNDS.count("threads") == 3:
        raise ValueError("boom <b>&\\nsecond line")
    concur.map(abs, [1])

@pytest.mark.concur(workload="io", models=["serial", "threads"], workers=[2], rounds=2, warmup=0)
def test_fine(concur):
    concur.map(abs, [1])
"""


def test_a_failing_experiment_keeps_its_rounds_and_spares_the_others(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_exp=FAILING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-report")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-concur report*",
            "test_exp.py::test_breaks  (workload: cpu)",
            "*threads*2*2*",
            "  ! threads-2: failed after 2 round(s): ValueError: boom <b>&\\nsecond line",
        ]
    )
    rows = load_quietly(Path(pytester.path, "results"))
    breaks = rows[rows["test_id"] == "test_exp.py::test_breaks[threads-2]"].sort_values("round")
    assert list(breaks["outcome"]) == ["passed", "passed", "failed"]
    assert breaks["error"].iloc[2] == "ValueError: boom <b>&\nsecond line"
    others = rows[rows["test_id"] != "test_exp.py::test_breaks[threads-2]"]
    assert len(others) == 3 + 2 + 2
    assert set(others["outcome"]) == {"passed"}
    assert others["error"].isna().all()
    assert rows["session_complete"].all()


# ---------------------------------------------------------------------------- 10. hostile text

HOSTILE = """
import pytest

VALUES = ["<script>alert(1)</script>", "q\\"uo'te`", "line\\nbreak", "ansi\\x1b[31mred",
          "lone \\udcff", b"\\xff\\xfe", "中文 🐍"]

@pytest.mark.parametrize("text", VALUES, ids=[str(v) for v in VALUES])
@pytest.mark.concur(workload="cpu", models=["serial"], rounds=1, warmup=0)
def test_hostile(concur, text):
    raise ValueError(f"bad {text}")
"""
VALUES = [
    "<script>alert(1)</script>",
    "q\"uo'te`",
    "line\nbreak",
    "ansi\x1b[31mred",
    "lone \udcff",
    b"\xff\xfe",
    "中文 🐍",
]


def report_section(output: str) -> str:
    start = output.index("pytest-concur report")
    return output[start : output.index("wall median over measured rounds", start)]


def test_hostile_text_is_stored_faithfully_and_shown_escaped(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=HOSTILE)
    # pytest prints the lone surrogate of an error message as a raw byte: read leniently
    result = finish(start_pytest(pytester.path, ["--concur-report"]))
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.output
    rows = load_quietly(Path(pytester.path, "results"))
    assert len(rows) == len(VALUES)
    by_value = {json.loads(row["params_json"])["text"]: row for _, row in rows.iterrows()}
    for value in VALUES:
        key = value if isinstance(value, str) else repr(value)
        assert key in by_value, key  # params_json gives back the exact value, surrogates too
        row = by_value[key]
        shown = value if isinstance(value, str) else str(value)
        stored = shown.encode("utf-8", "backslashreplace").decode("utf-8")
        assert row["error"] == f"ValueError: bad {stored}"
        assert row["params"] == f"text={stored}"
    # pytest escapes ids itself; the stored ids are exactly pytest's node ids
    assert all(test_id.startswith("test_exp.py::test_hostile[") for test_id in rows["test_id"])
    section = report_section(result.output)
    assert "\x1b" not in section
    assert "ansi\\x1b[31mred" in section
    assert "line\\nbreak" in section
    assert "lone \\udcff" in section
    assert "<script>alert(1)</script>" in section  # plain text in a terminal: nothing to escape
    assert "中文 🐍" in section


def test_surrogates_in_a_stored_file_read_back_without_error(tmp_path: Path) -> None:
    write_rows([{"run_id": "r", "test_id": "t[\udcff]", "round": 0}], tmp_path / "r.parquet")
    frame = pd.read_parquet(tmp_path / "r.parquet")
    assert frame["test_id"].iloc[0] == "t[\\udcff]"
