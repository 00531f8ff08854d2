"""Regression checks: thresholds, comparing two sets of runs, and the plugin's --concur-compare."""

from __future__ import annotations

from pathlib import Path

import pytest
from concur_samples import rows, write, write_table
from helpers import NAP_SOURCE, concur_test, experiment_source
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._reporting.compare import (
    compare_frames,
    comparison_notes,
    comparison_rows,
    flagged_keys,
    resolve_source,
)
from pytest_concur._reporting.thresholds import Threshold, parse_thresholds
from pytest_concur._storing.catalog import newest_run
from pytest_concur.analysis import rows_frame

# ---------------------------------------------------------------------------- thresholds


@given(percent=st.integers(0, 10_000))
def test_percent_thresholds_parse(percent: int) -> None:
    (threshold,) = parse_thresholds(f"wall:{percent}%")
    assert threshold == Threshold("wall", "wall_s", percent / 100)
    assert str(threshold) == f"wall:{percent:g}%"


def test_several_thresholds_ratios_and_column_names() -> None:
    assert parse_thresholds("wall:10%, cpu:2.5%,rss:1.5x,startup_s:0%") == (
        Threshold("wall", "wall_s", 0.10),
        Threshold("cpu", "cpu_s", 0.025),
        Threshold("rss", "max_rss_bytes", 0.5),
        Threshold("startup_s", "startup_s", 0.0),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "got nothing"),
        ("wall", "expected METRIC:PERCENT"),
        ("wall:10", "expected METRIC:PERCENT"),
        ("wall:-5%", "expected METRIC:PERCENT"),
        ("speed:10%", "unknown metric 'speed'"),
        ("cores:10%", "unknown metric 'cores'"),  # more cores is not worse
        ("wall:0.5x", "zero or more growth"),
    ],
)
def test_bad_thresholds_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_thresholds(text)


# ---------------------------------------------------------------------------- comparing

BASE = [1.00, 1.01, 0.99, 1.02, 1.00, 0.98]


def test_a_significant_slowdown_beyond_the_threshold_is_a_regression() -> None:
    baseline = rows_frame(rows(BASE) + rows(BASE, model="threads", workers=2))
    slower = [w * 1.3 for w in BASE]
    candidate = rows_frame(rows(slower) + rows(BASE, model="threads", workers=2))
    result = compare_frames(baseline, candidate, thresholds=parse_thresholds("wall:10%"))
    assert result.failed
    assert result.regressions[["model", "threshold"]].values.tolist() == [["serial", "wall:10%"]]
    lines = comparison_rows(result.table, flagged_keys(result))
    assert any("REGRESSION" in " ".join(line) and "serial" in line for line in lines)
    assert "+30.0%" in [cell for line in lines for cell in line]
    notes = comparison_notes(result)
    assert "threshold wall:10%: 1 variant(s) got significantly slower by more than 10%" in notes


def test_a_slowdown_inside_the_threshold_or_noise_passes() -> None:
    baseline = rows_frame(rows(BASE))
    bit_slower = rows_frame(rows([w * 1.05 for w in BASE]))
    assert not compare_frames(baseline, bit_slower, thresholds=parse_thresholds("wall:10%")).failed
    shuffled = rows_frame(rows(list(reversed(BASE))))
    result = compare_frames(baseline, shuffled, thresholds=parse_thresholds("wall:0%"))
    assert not result.failed
    assert result.table["change"].tolist() == ["no change"]


def test_too_few_rounds_cannot_fail_and_say_so() -> None:
    baseline = rows_frame(rows([1.0, 1.0]))
    candidate = rows_frame(rows([3.0, 3.0]))
    result = compare_frames(baseline, candidate, thresholds=parse_thresholds("wall:10%"))
    assert not result.failed
    assert any("could not be judged: too few rounds" in note for note in comparison_notes(result))


def test_a_slowdown_measured_on_a_busy_machine_is_not_a_regression() -> None:
    # the candidate's rounds were crowded (too few quiet ones): the quiet-round rule of
    # the claims and the advice holds here too, and the change is not judged
    baseline = rows_frame(rows(BASE))
    crowded = rows([w * 1.3 for w in BASE])
    for row in crowded[1:]:
        row["crowded"] = True
    result = compare_frames(baseline, rows_frame(crowded), thresholds=parse_thresholds("wall:10%"))
    assert not result.failed
    assert result.table["change"].tolist() == ["machine busy"]
    assert any("not judged: machine busy" in note for note in comparison_notes(result))
    # with enough quiet rounds, the crowded ones are left out and the change is judged
    quiet = rows([w * 1.3 for w in BASE] * 2)
    for row in quiet[:3]:
        row["crowded"] = True
    judged = compare_frames(baseline, rows_frame(quiet), thresholds=parse_thresholds("wall:10%"))
    assert judged.failed
    assert judged.table["candidate_rounds"].tolist() == [len(quiet) - 3]


def test_thresholds_on_other_metrics() -> None:
    baseline = rows_frame(rows(BASE, cores_used=1.0))
    candidate = rows_frame(rows(BASE, cores_used=1.5))  # same wall, 50% more CPU time
    result = compare_frames(baseline, candidate, thresholds=parse_thresholds("wall:10%,cpu:20%"))
    assert result.regressions["threshold"].tolist() == ["cpu:20%"]
    assert set(result.table["metric"]) == {"wall_s", "cpu_s"}


def test_variants_on_one_side_only_are_counted_not_compared() -> None:
    baseline = rows_frame(rows(BASE) + rows(BASE, model="threads", workers=2))
    candidate = rows_frame(rows(BASE) + rows(BASE, model="processes", workers=2))
    result = compare_frames(baseline, candidate)
    assert result.table["model"].tolist() == ["serial"]
    assert (result.only_baseline, result.only_candidate) == (1, 1)
    notes = comparison_notes(result)
    assert "1 variant(s) only in the baseline" in notes
    assert "1 variant(s) only in the candidate" in notes


# ---------------------------------------------------------------------------- sources


def test_resolve_source_takes_paths_globs_and_stored_run_ids(tmp_path: Path) -> None:
    results = tmp_path / "results"
    first = write(results / "20260101T000000-aaaa1111.parquet", rows([1.0]))
    second = write(results / "20260102T000000-bbbb2222.parquet", rows([1.0]))
    write_table(results / "20260102T000000-bbbb2222.tasks.parquet", [{"x": 1}], "tasks")
    assert resolve_source(str(first), results) == [first]
    assert resolve_source("results", results, base=tmp_path) == sorted(results.glob("*.parquet"))
    assert resolve_source("20260101T000000-aaaa1111", results) == [first]
    assert resolve_source("20260102", results) == [second]  # a unique prefix
    with pytest.raises(FileNotFoundError, match="matches several stored runs"):
        resolve_source("2026010", results)
    with pytest.raises(FileNotFoundError, match="neither a file, folder or glob, nor a run id"):
        resolve_source("nothing-like-this", results)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no results files"):
        resolve_source(str(tmp_path / "empty"), results)


def test_newest_run_skips_companions_junk_and_the_current_run(tmp_path: Path) -> None:
    assert newest_run(tmp_path) is None
    old = write(tmp_path / "20260101T000000-aaaa1111.parquet", rows([1.0]))
    new = write(tmp_path / "20260102T000000-bbbb2222.parquet", rows([1.0]))
    write_table(tmp_path / "20260103T000000-cccc3333.tasks.parquet", [{"x": 1}], "tasks")
    (tmp_path / "20260104T000000-junk.parquet").write_bytes(b"not parquet")
    assert newest_run(tmp_path) == new
    assert newest_run(tmp_path, exclude="20260102T000000-bbbb2222") == old


# ---------------------------------------------------------------------------- plugin

EXPERIMENT = experiment_source(
    concur_test(rounds=6, body='concur.map(nap, [float(os.environ.get("NAP", "0.01"))])'),
    imports=["os", "time", "pytest"],
    before=NAP_SOURCE,
)


def _rounds_files(pytester: pytest.Pytester) -> list[Path]:
    """The sessions' rounds files (each table has its folder)."""
    return sorted((pytester.path / "results" / "rounds").glob("*.parquet"))


def _run(pytester: pytest.Pytester, *args: str, nap: str = "0.01") -> pytest.RunResult:
    pytester.makepyfile(test_exp=EXPERIMENT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAP", nap)
        # no sampler, so no round is crowded: the verdicts here must not hang on the load
        # of the machine (tests/test_compare.py's unit tests hold the busy case)
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--concur-sample-interval=0", *args
        )


def test_compare_sessions_with_stored_runs(pytester: pytest.Pytester) -> None:
    first = _run(pytester, "--concur-compare", nap="0.03")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*pytest-concur compare*", "no stored run in *results*"])
    (stored,) = _rounds_files(pytester)

    # faster than the newest stored run: passes, and says so
    faster = _run(pytester, "--concur-compare-fail=wall:10%", nap="0.01")
    assert faster.ret == pytest.ExitCode.OK
    faster.stdout.fnmatch_lines(
        [
            "*pytest-concur compare*",
            f"compared with {stored}",
            "*experiment*variant*metric*baseline*candidate*change*p(slower)*",
            "*test_exp.py::test_nap*serial*wall_s*faster",
            "threshold wall:10%: passed",
        ]
    )

    # slower than a run named by its id: the session fails with a message, no traceback
    run_id = stored.name.split(".")[0]
    slower = _run(pytester, f"--concur-compare={run_id}", "--concur-compare-fail=wall:10%",
                  nap="0.05")  # fmt: skip
    slower.assert_outcomes(passed=1)
    assert slower.ret == pytest.ExitCode.TESTS_FAILED
    slower.stdout.fnmatch_lines(
        [
            f"compared with {stored}",
            "*serial*wall_s*slower  REGRESSION*",
            "threshold wall:10%: 1 variant(s) got significantly slower by more than 10%",
            "FAIL pytest-concur: 1 variant(s) got slower than --concur-compare-fail=wall:10%*",
        ]
    )
    assert "Traceback" not in slower.stdout.str() + slower.stderr.str()


def test_bad_compare_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    missing = pytester.runpytest("--concur-compare=no-such-run")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*--concur-compare: no results at 'no-such-run'*"])
    bad = pytester.runpytest("--concur-compare-fail=wall:ten")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--concur-compare-fail*expected METRIC:PERCENT*"])
    for result in (missing, bad):
        assert "Traceback" not in result.stdout.str() + result.stderr.str()
