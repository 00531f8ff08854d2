"""The marker is parsed once per test function; every stage reads it from the item."""

from __future__ import annotations

from pathlib import Path

import pytest

import pytest_concur.analysis as analysis

EXPERIMENTS = """
import pytest
import pytest_concur as pc

def work(x):
    return x

@pytest.mark.concur(workload="cpu", models=["serial", "threads"], workers=[1, 2],
                    rounds=2, warmup=0, claim="threads keep up",
                    expect=[pc.not_faster("serial", than="threads-2", by=100)])
@pytest.mark.parametrize("size", [1, 2])
def test_it(concur, size):
    concur.map(work, range(size))

def test_plain():
    pass
"""


COUNTING_CONFTEST = """
import pytest_concur._running.spec as spec

calls = []
parse_spec = spec.parse_spec


def counting(*args, **kwargs):
    calls.append(kwargs.get("known_models"))
    return parse_spec(*args, **kwargs)


spec.parse_spec = counting


def pytest_sessionfinish(session):
    with open("parse_calls.txt", "w") as out:
        out.write(str(len(calls)))
"""


def test_the_marker_is_parsed_once_per_test_function(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COUNTING_CONFTEST)
    pytester.makepyfile(test_exp=EXPERIMENTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-no-save", "--concur-report",
        "--concur-models", "serial,threads",
    )  # fmt: skip
    # 3 variants x 2 sizes measured, the plain test too; the claim judged at the end
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*pytest-concur claims*", "*threads keep up*"])
    assert Path(pytester.path, "parse_calls.txt").read_text() == "1"


def test_rows_and_verdicts_name_the_experiment_without_its_parameters(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_exp=EXPERIMENTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-models", "threads")
    result.assert_outcomes(passed=5, deselected=2)
    rows = analysis.load(pytester.path / "results")
    assert sorted(set(rows["experiment"])) == ["test_exp.py::test_it"]
    assert sorted(set(rows["test_id"])) == [
        f"test_exp.py::test_it[threads-{workers}-{size}]" for workers in (1, 2) for size in (1, 2)
    ]
    verdicts = analysis.load_verdicts(pytester.path / "results")
    assert list(verdicts["experiment"]) == ["test_exp.py::test_it"]
    assert list(verdicts["claim"]) == ["threads keep up"]
