"""Start methods as users meet them: a test's ``start_method`` parameter sweeps it, every
row records the method the pool really used, and the report shows start-up per method.
One pytester session; the rule itself is unit-tested on its own."""

from __future__ import annotations

import pytest
from helpers import BUSY_SOURCE, read_results

from pytest_concur._running.spec import SpecError, parse_spec, swept_start_method

SWEEP = (
    """
import multiprocessing, time
import pytest
"""
    + BUSY_SOURCE
    + """
@pytest.mark.concur(workload="cpu", models=["threads", "processes"], workers=[2], rounds=2,
                    warmup=0)
@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_sweep(concur, start_method):
    assert concur.start_method == start_method
    assert concur.map(busy, [0.02, 0.02]) == [0.02, 0.02]

@pytest.mark.concur(workload="cpu", models=["processes"], workers=[2], rounds=1, warmup=0,
                    start_method="fork")
@pytest.mark.parametrize("start_method", ["spawn"])
def test_both(concur, start_method):
    concur.map(busy, [0.01])

@pytest.mark.concur(workload="cpu", models=["processes"], workers=[2], rounds=1, warmup=0)
@pytest.mark.parametrize("start_method", ["vfork"])
def test_unknown(concur, start_method):
    concur.map(busy, [0.01])
"""
)


def test_a_start_method_parameter_sweeps_it_and_rows_and_report_show_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_sweep=SWEEP)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-sample-interval=0", "--concur-report"
    )
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*test_both*start_method='fork' in the marker and a start_method parameter*",
            "*test_unknown*the start_method parameter is 'vfork'; choose one of: fork, *",
        ]
    )
    rows = read_results(pytester)
    processes = rows[rows["model"] == "processes"]
    for _, row in processes.iterrows():
        # the pool's own method, the one the parameter asked for
        assert f"start_method={row['start_method']}" in row["params"], row["test_id"]
    assert set(processes["start_method"]) == {"fork", "spawn"}
    assert rows.loc[rows["model"] == "threads", "start_method"].isna().all()
    # start-up per start method: one table per parameter value, each with its start-up
    result.stdout.fnmatch_lines(
        [
            "*test_sweep [[]start_method=fork[]]*",
            "*variant*startup*",
            "*test_sweep [[]start_method=spawn[]]*",
            "*variant*startup*",
        ]
    )


def test_swept_start_method_rules() -> None:
    marker = {"workload": "cpu", "models": ["processes"], "workers": [2]}
    plain = parse_spec((), marker, known_models=["processes"])
    fixed = parse_spec((), {**marker, "start_method": "fork"}, known_models=["processes"])
    assert swept_start_method(plain, {}) is None
    assert swept_start_method(plain, {"cpus": "one"}) is None
    assert swept_start_method(plain, {"start_method": "forkserver"}) == "forkserver"
    assert swept_start_method(fixed, {}) is None
    with pytest.raises(SpecError, match="not both"):
        swept_start_method(fixed, {"start_method": "spawn"})
    with pytest.raises(SpecError, match="choose one of"):
        swept_start_method(plain, {"start_method": 3})
