"""``pytest-concur`` / ``python -m pytest_concur``: report and compare stored results."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from concur_samples import rows, scaling_rows, write, write_table

from pytest_concur.cli import main

BASE = [1.00, 1.01, 0.99, 1.02, 1.00, 0.98]


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    write(
        folder / "20260101T000000-aaaa1111.parquet", scaling_rows(run_id="20260101T000000-aaaa1111")
    )
    write(
        folder / "20260102T000000-bbbb2222.parquet",
        scaling_rows(run_id="20260102T000000-bbbb2222", python="3.13.5t", gil_enabled=False,
                     parallel_fraction=0.5),
    )  # fmt: skip
    write_table(
        folder / "20260101T000000-aaaa1111.verdicts.parquet",
        [{"run_id": "20260101T000000-aaaa1111", "python": "3.11.7", "gil": "enabled",
          "claim": "processes scale", "claim_status": "confirmed",
          "expectation": "speedup of processes-4 over serial >= 2x", "status": "confirmed",
          "reason": "ratio 3.1x, p=0.004"}],
        "verdicts",
    )  # fmt: skip
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = int(exc.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_report_prints_a_table_per_experiment(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "report", str(results))
    assert status == 0
    assert "40 rounds from 2 run(s)" in out
    assert "grouped by python" in out  # two interpreters are never pooled unasked
    assert "test_exp.py::test_work  (workload: cpu)" in out
    assert "median CI" in out
    assert "Amdahl fit python=3.11.7, processes over 1,2,4 workers: parallel fraction 0.90" in out
    assert "Amdahl fit python=3.13.5t, processes over 1,2,4 workers: parallel fraction 0.50" in out
    assert "claims and verdicts" in out
    assert "CONFIRMED     processes scale" in out
    # the layout of the terminal's claims section: expectation, then the reason under it
    assert "confirmed     speedup of processes-4 over serial >= 2x\n" in out
    assert "ratio 3.1x, p=0.004" in out


def test_report_by_python_compares_the_versions(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "report", str(results), "--by", "python")
    assert status == 0
    assert "by python: each value against 3.11.7" in out
    assert "3.11.7 -> 3.13.5t" in out
    lines = [line for line in out.splitlines() if "processes-4" in line and "->" in line]
    assert len(lines) == 1
    assert "slower" in lines[0]  # p=0.5 at 4 workers is slower than p=0.9


def test_report_as_markdown_and_csv(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "report", str(results), "--format", "markdown", "--by", "python")
    assert status == 0
    assert out.startswith("## pytest-concur report")
    assert "| python | variant | rounds | wall median | median CI | spread |" in out
    assert "| :--- | :--- | ---: |" in out
    status, out, _ = run(capsys, "report", str(results), "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 8  # serial + processes at 1, 2, 4, per interpreter
    assert {"python", "experiment", "model", "workers", "wall_median_s", "wall_ci_low_s",
            "speedup"} <= set(table[0])  # fmt: skip


def test_report_says_when_hosts_are_pooled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "r.parquet", rows(BASE, host="a") + rows(BASE, host="b"))
    status, out, _ = run(capsys, "report", str(path))
    assert status == 0
    assert "rounds from 2 hosts are pooled per variant; --by host keeps them apart" in out
    assert "grouped by" not in out
    status, out, _ = run(capsys, "report", str(path), "--by", "host")
    assert "grouped by host" in out
    assert "pooled" not in out


def test_report_by_run_id_against_a_named_baseline(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "report", str(results), "--by", "run_id", "--baseline",
                         "processes-1")  # fmt: skip
    assert status == 0
    assert "speedup = baseline median / median" in out


def test_report_writes_html(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    status, _, err = run(capsys, "report", str(results), "--html", str(page))
    assert status == 0
    assert f"HTML report written to {page}" in err
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html
    assert "processes scale" in html


def test_a_single_rounds_file_brings_its_companion_tables(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "report", str(results / "20260101T000000-aaaa1111.parquet"))
    assert status == 0
    assert "CONFIRMED     processes scale" in out


def test_a_run_id_is_found_in_the_results_folder(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "report", "20260102T000000-bbbb2222", "--results", str(results))
    assert status == 0
    assert "20 rounds from 1 run(s): 20260102T000000-bbbb2222" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "{missing}"], "no results at"),
        (["report", "{results}", "--by", "nope"], "no column 'nope'"),
        (["report", "{results}", "--baseline", "gevent"], "baseline 'gevent' names no model"),
        (["report", "{results}", "--format", "xml"], "invalid choice: 'xml'"),
        (["report", "{empty}"], "no results files"),
        (["compare", "{results}", "{results}", "--threshold", "wall:ten"], "expected METRIC"),
        (["compare", "{results}", "{results}", "--alpha", "2"], "must be between 0 and 1"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_arguments_are_argparse_errors_without_a_traceback(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    values = {"missing": str(tmp_path / "nothing-*"), "results": str(results),
              "empty": str(tmp_path / "empty")}  # fmt: skip
    status, out, err = run(capsys, *(arg.format(**values) for arg in argv))
    assert status == 2
    assert message in err
    assert "usage: pytest-concur" in err
    assert "Traceback" not in out + err


def test_broken_files_are_named_on_stderr(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (results / "broken.parquet").write_bytes(b"PAR1 not really")
    status, out, err = run(capsys, "report", str(results))
    assert status == 0
    assert f"pytest-concur: warning: skipped {results / 'broken.parquet'}" in err
    assert "40 rounds" in out


def test_compare_exits_one_on_a_regression_beyond_the_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write(tmp_path / "base.parquet", rows(BASE) + rows(BASE, model="threads", workers=2))
    slow = write(
        tmp_path / "slow.parquet",
        rows([w * 1.25 for w in BASE]) + rows(BASE, model="threads", workers=2),
    )
    status, out, _ = run(capsys, "compare", str(base), str(slow), "--threshold", "wall:10%")
    assert status == 1
    assert "REGRESSION" in out
    assert "+25.0%" in out
    assert "threshold wall:10%: 1 variant(s) got significantly slower by more than 10%" in out
    status, out, _ = run(capsys, "compare", str(base), str(slow), "--threshold", "wall:30%")
    assert status == 0
    assert "threshold wall:30%: passed" in out
    status, out, _ = run(capsys, "compare", str(base), str(slow))
    assert status == 0  # without a threshold, compare only reports
    status, out, _ = run(capsys, "compare", str(base), str(slow), "--threshold", "wall:10%",
                         "--format", "csv")  # fmt: skip
    table = list(csv.DictReader(io.StringIO(out)))
    assert [row["threshold"] for row in table if row["model"] == "serial"] == ["wall:10%"]
    assert status == 1


def test_compare_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write(tmp_path / "base.parquet", rows(BASE))
    status, out, _ = run(capsys, "compare", str(base), str(base), "--format", "markdown")
    assert status == 0
    assert "| experiment | variant | metric |" in out
    assert "- medians of measured rounds" in out


def test_control_characters_in_ids_do_not_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "test_x.py::test_\x1b[31mred\x07"
    path = write(tmp_path / "h.parquet", rows(BASE, experiment=hostile, params="a=\n|b"))
    for fmt in ("table", "markdown"):
        status, out, _ = run(capsys, "report", str(path), "--format", fmt)
        assert status == 0
        assert "\x1b" not in out
        assert "\x07" not in out
        assert "\\x1b[31mred\\x07" in out


def test_python_dash_m_runs_the_same_command(results: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_concur", "report", str(results), "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("python,experiment,params,model,workers")
    bad = subprocess.run(
        [sys.executable, "-m", "pytest_concur", "report", str(results / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "pytest-concur: error: no results at" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_report_says_which_variant_to_use_per_python(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "report", str(results))
    assert status == 0
    # one decision per interpreter: rounds of two Pythons are never pooled into one
    assert "decisions for python 3.11.7 (docs/decisions.md):" in out
    assert "decisions for python 3.13.5t (docs/decisions.md):" in out
    first = out.split("decisions for python 3.11.7", 1)[1].split("decisions for python", 1)[0]
    assert "test_exp.py::test_work: use processes-4:" in first
