"""Third-party models, end to end: through the hook in a conftest.py, and an entry point."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import concur_test, experiment_source

#: the example of docs/models.md, nearly word for word
THIRD_PARTY_MODEL = """
import itertools
from concurrent.futures import ThreadPoolExecutor

class _Pool:
    def __init__(self, workers):
        self._executor = ThreadPoolExecutor(max_workers=workers)

    def map(self, fn, items):
        return list(self._executor.map(fn, items))

    def close(self):
        self._executor.shutdown(wait=True)

class ThreadMapModel:
    name = "thread-map"
    summary = "ThreadPoolExecutor.map: the standard library's own way"

    def unavailable(self):
        return None

    def start(self, workers, options):
        return _Pool(workers)
"""

EXPERIMENT = experiment_source(
    concur_test(
        "test_double", workload="cpu", models=["serial", "thread-map"], workers=[2],
        body="assert concur.map(double, [1, 2, 3]) == [2, 4, 6]",
    ),
    imports=["pytest"],
    before="\ndef double(item):\n    return item * 2\n",
)  # fmt: skip


def rounds_and_tasks(pytester: pytest.Pytester) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = Path(pytester.path, "results")
    (rounds,) = folder.glob("rounds/*.parquet")
    (tasks,) = folder.glob("tasks/*.parquet")
    return (pd.DataFrame(pq.read_table(rounds).to_pydict()),
            pd.DataFrame(pq.read_table(tasks).to_pydict()))  # fmt: skip


def test_a_conftest_registers_a_model_through_the_hook(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(thirdparty=THIRD_PARTY_MODEL)
    pytester.makeconftest(
        """
        from thirdparty import ThreadMapModel

        def pytest_concur_register_models():
            return [ThreadMapModel()]
        """
    )
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0")
    result.assert_outcomes(passed=2)
    rounds, tasks = rounds_and_tasks(pytester)
    assert sorted(rounds["model"]) == ["serial", "thread-map"]
    assert sorted(tasks[tasks["model"] == "thread-map"]["task"]) == [0, 1, 2]
    # the name is known to the options too
    result = pytester.runpytest_subprocess("--collect-only", "-q", "--concur-models=thread-map")
    result.stdout.fnmatch_lines(["test_exp.py::test_double[[]thread-map-2]", "1/2 tests *"])


def test_an_entry_point_registers_a_model(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = Path(pytester.path, "site")
    site.mkdir()
    Path(site, "thirdparty.py").write_text(textwrap.dedent(THIRD_PARTY_MODEL))
    info = Path(site, "thirdparty-1.0.dist-info")
    info.mkdir()
    Path(info, "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty\nVersion: 1.0\n")
    Path(info, "entry_points.txt").write_text(
        "[pytest_concur.models]\nthread-map = thirdparty:ThreadMapModel\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(site))
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0")
    result.assert_outcomes(passed=2)
    rounds, _ = rounds_and_tasks(pytester)
    assert sorted(rounds["model"]) == ["serial", "thread-map"]


@pytest.mark.parametrize(
    ("conftest", "message"),
    [
        (
            "from pytest_concur.models import ThreadsModel\n"
            "def pytest_concur_register_models():\n"
            "    return [ThreadsModel()]\n",
            "*conftest.py: model name 'threads' is already taken by pytest-concur",
        ),
        (
            "def pytest_concur_register_models():\n    return ['threads']\n",
            "*pytest_concur_register_models in *conftest.py*: 'threads' is not a concurrency "
            "model*",
        ),
    ],
    ids=["duplicate", "not-a-model"],
)
def test_bad_registrations_are_usage_errors(
    pytester: pytest.Pytester, conftest: str, message: str
) -> None:
    pytester.makeconftest(conftest)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-concur: {message}"])
