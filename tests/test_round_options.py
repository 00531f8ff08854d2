"""--concur-rounds auto and crowded-round repeats, end to end: options, ini keys, rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

EXPERIMENT = """
import time
import pytest

@pytest.mark.concur(workload="cpu", models=["serial"], warmup=1)
def test_steady(concur):
    concur.map(time.sleep, [0.01])
"""


def read_rounds(folder: Path) -> pd.DataFrame:
    (path,) = (folder / "rounds").glob("*.parquet")
    return pd.DataFrame(pq.read_table(path).to_pydict())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concur-rounds=auto", "--concur-min-rounds=8", "--concur-max-rounds=6"],
         "minimum of rounds (8) is above the maximum (6)"),
        (["--concur-rounds=auto", "--concur-item-budget=0"], "time budget must be above 0"),
        (["--concur-rounds=auto", "--concur-target-width=-3%"], "half-width must be above 0"),
        (["--concur-rounds=auto", "--concur-target-width=wide"], "expected a number, got 'wide'"),
        (["--concur-crowded-retries=-1"], "must be 0 or more"),
        (["--concur-min-rounds=2.5"], "expected a whole number"),
    ],
)  # fmt: skip
def test_bad_values_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *{message}*"])


def test_auto_rounds_stop_between_the_minimum_and_the_maximum(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-rounds=auto", "--concur-min-rounds=3",
        "--concur-max-rounds=6", "--concur-crowded-retries=0",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    rows = read_rounds(pytester.path / "results")
    measured = rows[~rows["warmup"]]
    assert 3 <= len(measured) <= 6
    last = measured.iloc[-1]
    assert last["stop_reason"] in {"target width", "max rounds"}
    assert measured["stop_reason"].iloc[:-1].isna().all()
    if last["stop_reason"] == "target width":
        assert last["rel_half_width"] <= 0.03
    for column in ("other_cores_busy", "crowded", "repeat_of", "quiet_wait_s"):
        assert column in rows


CLAIMED = """
import time
import pytest
import pytest_concur as pc

@pytest.mark.concur(workload="io", models=["serial", "threads"], workers=[4], warmup=1,
                    expect=[pc.speeds_up("threads-4", at_least=1.5)])
def test_waits(concur):
    concur.map(time.sleep, [0.05] * 4)
"""


def test_auto_rounds_stop_once_the_claims_are_decided(pytester: pytest.Pytester) -> None:
    """serial runs first and leaves the comparison to threads-4, whose first look finds
    every round 1.5x faster than every serial one (about 60 ms against 200 ms: a round of
    threads-4 would have to take 133 ms to spoil that on a loaded machine): both stop at
    the minimum, and the verdict is judged at the alpha the looks left."""
    pytester.makepyfile(test_exp=CLAIMED)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-rounds=auto", "--concur-sample-interval=0",
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    rows = read_rounds(pytester.path / "results")
    measured = rows[~rows["warmup"]]
    stops = measured.dropna(subset=["stop_reason"]).set_index("model")["stop_reason"]
    assert stops.to_dict() == {"serial": "later variants decide", "threads": "claims decided"}, (
        measured[["model", "xdist_worker", "round", "wall_s", "stop_reason"]].to_string()
    )
    assert measured.groupby("model").size().to_dict() == {"serial": 5, "threads": 5}
    (verdicts,) = (pytester.path / "results" / "verdicts").glob("*.parquet")
    verdict = pq.read_table(verdicts).to_pylist()[0]
    assert verdict["status"] == "confirmed"
    assert 0.04 < verdict["alpha"] < 0.05
    assert "adaptive rounds: judged at alpha" in verdict["reason"]


def test_under_xdist_loadscope_the_later_variant_still_decides(pytester: pytest.Pytester) -> None:
    """--dist loadscope sends the experiment's items to one worker in order, so the first
    variant may leave the comparison to the second as without xdist."""
    pytester.makepyfile(test_exp=CLAIMED)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-rounds=auto", "--concur-sample-interval=0",
        "-n", "2", "--dist", "loadscope",
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    measured = read_rounds(pytester.path / "results").query("~warmup")
    stops = measured.dropna(subset=["stop_reason"]).set_index("model")["stop_reason"]
    assert stops.to_dict() == {"serial": "later variants decide", "threads": "claims decided"}, (
        measured[["model", "xdist_worker", "round", "wall_s", "stop_reason"]].to_string()
    )


def test_the_marker_asks_for_auto_and_a_command_line_count_wins(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT.replace("warmup=1", 'warmup=1, rounds="auto"'))
    pytester.makeini("[pytest]\nconcur_rounds = 2\nconcur_max_rounds = 6\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-sample-interval=0")
    result.assert_outcomes(passed=1)
    measured = read_rounds(pytester.path / "results").query("~warmup")
    assert 5 <= len(measured) <= 6  # the marker's auto beats the ini count: 5..6 rounds
    assert measured["stop_reason"].iloc[-1] in {"target width", "max rounds"}
    for path in (pytester.path / "results").rglob("*.parquet"):
        path.unlink()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-sample-interval=0", "--concur-rounds=3"
    )
    result.assert_outcomes(passed=1)
    measured = read_rounds(pytester.path / "results").query("~warmup")
    assert len(measured) == 3
    assert measured["stop_reason"].isna().all()


def test_fixed_rounds_with_the_sampler_off_never_repeat(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-rounds=3", "--concur-sample-interval=0"
    )
    result.assert_outcomes(passed=1)
    rows = read_rounds(pytester.path / "results")
    assert len(rows) == 4
    assert rows["crowded"].isna().all()
    assert rows["repeat_of"].isna().all()


BUSY_NEIGHBOUR = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass\n"


def test_crowded_rounds_are_measured_again_and_stay_flagged(pytester: pytest.Pytester) -> None:
    """Neighbours keep every CPU but one busy: rounds are crowded, measured again, and the
    crowded rows are kept and flagged."""
    import os
    import subprocess
    import sys

    pytester.makepyfile(test_exp=EXPERIMENT.replace("time.sleep, [0.01]", "busy, [0.2]").replace(
        "import pytest\n", "import pytest\n\ndef busy(s):\n    end = time.thread_time() + s\n"
        "    while time.thread_time() < end:\n        pass\n", 1))  # fmt: skip
    neighbours = [
        subprocess.Popen([sys.executable, "-c", BUSY_NEIGHBOUR])
        for _ in range(max(1, len(os.sched_getaffinity(0)) - 1))
    ]
    try:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--concur-rounds=2", "--concur-crowded-retries=2",
            "--concur-quiet-wait=0.3", "--concur-sample-interval=0.05",
        )  # fmt: skip
    finally:
        for neighbour in neighbours:
            neighbour.kill()
            neighbour.wait()
    result.assert_outcomes(passed=1)
    rows = read_rounds(pytester.path / "results")
    measured = rows[~rows["warmup"]]
    assert measured["crowded"].any()
    assert (measured["other_cores_busy"] >= 0.5).any()
    repeats = measured[measured["repeat_of"].notna()]
    assert 1 <= len(repeats) <= 2
    assert (repeats["quiet_wait_s"] >= 0.1).all()
    # the first wait ran out (the neighbours never rested): no more repeats after it
    assert len(measured) == 3
