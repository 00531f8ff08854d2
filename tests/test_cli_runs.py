"""Named runs and provenance at the command line: ``list``, ``--version``, ``--format json``,
names in place of run ids, the report header, compare's warnings, ``--concur-check-system``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from concur_samples import scaling_rows, write, write_table
from helpers import concur_test, experiment_source

from pytest_concur._measuring.provenance import version_of
from pytest_concur._storing.layout import final_path
from pytest_concur.cli import main

OLD = "20260101T000000-aaaa1111"
NEW = "20260102T000000-bbbb2222"


def run_row(run_id: str, name: str | None, **facts: object) -> dict[str, object]:
    return {"run_id": run_id, "name": name, "python": "3.12.1", "gil_enabled": True,
            "git_commit": "c0ffee" * 7, "git_dirty": False, "rounds": 40,
            "governor": "performance", "cpu_model": "Test CPU", **facts}  # fmt: skip


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Two runs in the folder layout, named, with provenance; one flat run without."""
    folder = tmp_path / "results"
    write(final_path(folder, OLD), scaling_rows(run_id=OLD))
    write(final_path(folder, NEW), scaling_rows(run_id=NEW, parallel_fraction=0.5))
    write_table(final_path(folder, OLD, "runs"), [run_row(OLD, "base\x1bline")], "runs")
    write_table(final_path(folder, NEW, "runs"),
                [run_row(NEW, "candidate", python="3.13.0", git_dirty=True)], "runs")  # fmt: skip
    write(folder / "20250101T000000-cccc3333.parquet",
          scaling_rows(run_id="20250101T000000-cccc3333"))  # fmt: skip
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        status = main(list(args))
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"pytest-concur {version_of('pytest-concur')}"


def test_list_shows_every_run_oldest_first(
    capsys: pytest.CaptureFixture[str], results: Path
) -> None:
    status, out, _ = run(capsys, "list", str(results))
    assert status == 0
    header, flat, old, new = out.splitlines()
    assert header.split() == ["date", "name", "run_id", "commit", "python", "gil", "rounds"]
    # no runs row: the date from the run id, the rounds counted in the file
    assert flat.split() == ["2025-01-01", "00:00:00", "-", "20250101T000000-cccc3333", "-",
                            "-", "-", "20"]  # fmt: skip
    assert "base\\x1bline" in old  # the escape character is shown escaped, never sent
    assert "\x1b" not in out
    assert new.split()[-5:] == [NEW, "c0ffeec0ffee+", "3.13.0", "on", "40"]


def test_list_as_json(capsys: pytest.CaptureFixture[str], results: Path) -> None:
    status, out, _ = run(capsys, "list", str(results), "--format", "json")
    assert status == 0
    listed = json.loads(out)
    assert [entry["name"] for entry in listed] == [None, "base\x1bline", "candidate"]
    assert listed[2]["git_dirty"] is True
    assert listed[0]["rounds"] == 20
    assert listed[1]["rounds"] == 40


def test_list_takes_the_folder_as_every_command_does(
    capsys: pytest.CaptureFixture[str], results: Path
) -> None:
    by_position = run(capsys, "list", str(results))
    assert run(capsys, "list", "--results", str(results)) == by_position
    assert run(capsys, "list", str(results), "--results", str(results)) == by_position
    status, _, err = run(capsys, "list", str(results), "--results", str(results.parent))
    assert status == 2
    assert "the folder is given twice" in err


def test_list_of_a_missing_folder_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run(capsys, "list", str(tmp_path / "none"))
    assert status == 2
    assert "no results folder at" in err


def test_report_by_name_has_a_provenance_header(
    capsys: pytest.CaptureFixture[str], results: Path
) -> None:
    status, out, _ = run(capsys, "report", "candidate", "--results", str(results))
    assert status == 0
    first = out.splitlines()[0]
    assert first.startswith(f"run {NEW} 'candidate': commit c0ffeec0ffee (uncommitted changes)")
    assert "Python 3.13.0" in out
    assert f"1 run(s): {NEW}" in out


def test_report_as_json(capsys: pytest.CaptureFixture[str], results: Path) -> None:
    status, out, _ = run(capsys, "report", NEW, "--results", str(results), "--format", "json")
    assert status == 0
    document = json.loads(out)
    assert [run["run_id"] for run in document["runs"]] == [NEW]
    assert document["summary"]
    assert {"experiment", "model", "workers", "wall_median_s"} <= set(document["summary"][0])
    assert document["verdicts"] == []


def test_compare_by_names_warns_when_the_setups_differ(
    capsys: pytest.CaptureFixture[str], results: Path
) -> None:
    status, _, err = run(capsys, "compare", "base\x1bline", "candidate", "--results",
                         str(results))  # fmt: skip
    assert status == 0
    assert "pytest-concur: warning: the runs differ in Python version: 3.12.1 (baseline) vs " \
        "3.13.0 (candidate)" in err
    status, out, err = run(capsys, "compare", OLD, NEW, "--results", str(results),
                           "--format", "json")  # fmt: skip
    document = json.loads(out)
    assert document["failed"] is False
    assert len(document["warnings"]) == 1
    assert document["baseline_runs"][0]["name"] == "base\x1bline"
    assert {"experiment", "model", "workers", "metric"} <= set(document["table"][0])
    assert err == ""


def test_compare_with_a_run_without_provenance_says_so(
    capsys: pytest.CaptureFixture[str], results: Path
) -> None:
    status, _, err = run(capsys, "compare", "20250101T000000-cccc3333", NEW, "--results",
                         str(results))  # fmt: skip
    assert status == 0
    assert "the baseline has no provenance recorded" in err


# ---------------------------------------------------------------------------- the plugin

EXPERIMENT = experiment_source(concur_test(rounds=2))


def test_a_name_used_twice_never_overwrites_a_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-save", "nightly")
    first.assert_outcomes(passed=1)
    second = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-save", "nightly")
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(
        ["pytest-concur: the run name 'nightly' is already used by another run in *; this run "
         "is named 'nightly-2' (no run was overwritten)"]
    )  # fmt: skip
    results = pytester.path / "results"
    assert len(list((results / "rounds").glob("*.parquet"))) == 2
    assert len(list((results / "runs").glob("*.parquet"))) == 2


def test_save_and_no_save_together_are_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest("--concur-save", "x", "--concur-no-save")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--concur-save NAME and --concur-no-save contradict*"])
    result = pytester.runpytest("--concur-save", "rounds")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--concur-save: run name 'rounds' cannot be used*"])


def test_check_system_prints_and_exits_without_running(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess("--concur-check-system")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["pytest-concur system check", "*frequency governor: *", "*turbo/boost: *",
         "*virtualisation: *", "*CPU quota: *", "system check: *"]
    )  # fmt: skip
    assert "passed" not in result.stdout.str()
    assert not (pytester.path / "results").exists()


def test_concur_compare_warns_when_the_stored_runs_setup_differs(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    (runs_file,) = (pytester.path / "results" / "runs").glob("*.parquet")
    stored = pq.read_table(runs_file)
    older = stored.set_column(stored.schema.get_field_index("python"), "python",
                              pa.array(["2.7.18"]))  # fmt: skip
    pq.write_table(older, runs_file)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-compare")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["warning: the runs differ in Python version: 2.7.18 (baseline) vs * (candidate)*"]
    )


def test_under_xdist_the_workers_imports_are_recorded(pytester: pytest.Pytester) -> None:
    pytest.importorskip("duckdb", reason="DuckDB (the test extra) has no wheel for this Python")
    pytester.makepyfile(test_exp="import duckdb  # only the worker imports it\n" + EXPERIMENT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "1")
    result.assert_outcomes(passed=1)
    (runs_file,) = (pytester.path / "results" / "runs").glob("*.parquet")
    (row,) = pq.read_table(runs_file).to_pylist()
    assert json.loads(row["packages_json"])["duckdb"] == version_of("duckdb")
    assert row["rounds"] == 2


def test_the_system_checks_warning_heads_the_report(pytester: pytest.Pytester) -> None:
    # this machine may have nothing to warn about: the check's verdict is made to speak
    pytester.makeconftest(
        """
        import pytest_concur._running.run_record as run_record

        run_record.warning_line = lambda facts: "system check: turbo/boost is on: timings vary"
        """
    )
    pytester.makepyfile(test_exp=experiment_source())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-report")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*= pytest-concur report =*", "system check: turbo/boost is on: timings vary"]
    )
    quiet = pytester.runpytest_subprocess("-p", "no:cacheprovider")  # no report to head
    quiet.stdout.fnmatch_lines(["pytest-concur: system check: turbo/boost is on: timings vary"])
