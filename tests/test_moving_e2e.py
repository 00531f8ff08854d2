"""transfer_bound end to end: small tasks through processes-2 get a chunksize suggestion,
the suggestion can be tried with concur.map(..., chunksize=N) and is stored in the row;
big arguments are too big to move; a model that cannot batch says so."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import pytest_concur as pc
from pytest_concur._advice.codes import MOVE_SHARE
from pytest_concur._advice.moving import moving_by_variant
from pytest_concur._rounds.counting import measured, quiet_rounds
from pytest_concur._rounds.variant import keyed

SOURCE = """
import pytest

CHUNKSIZE = {chunksize!r}


def arithmetic(n):  # 1500: about 60 us of work per task (3.11, 3.14)
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def length(block):
    return len(block)


@pytest.fixture(scope="module")
def blocks():
    return [bytes(4 * 2**20) for _ in range(4)]


@pytest.mark.concur(workload="cpu", models={models!r}, workers=[2], rounds=3, warmup=0)
def test_small_tasks(concur):
    assert len(concur.map(arithmetic, [1500] * 2000, chunksize=CHUNKSIZE)) == 2000


@pytest.mark.concur(workload="cpu", models=["processes"], workers=[2], rounds=3, warmup=0)
def test_big_arguments(concur, blocks):
    assert concur.map(length, blocks) == [4 * 2**20] * 4
"""


def _table(folder: Path, kind: str) -> pd.DataFrame:
    """A table the session wrote, as plain values (pytester drops modules between runs)."""
    (path,) = [
        path
        for path in folder.glob("*/*.parquet")
        if (pq.read_schema(path).metadata or {}).get(b"pytest_concur.table") == kind.encode()
    ]
    return pd.DataFrame(pq.read_table(path).to_pydict())


def _session(
    pytester: pytest.Pytester, folder: str, chunksize: int | None, models: list[str], select: str
) -> tuple[pytest.RunResult, pd.DataFrame, pd.DataFrame]:
    pytester.makepyfile(test_moving=SOURCE.format(chunksize=chunksize, models=models))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-k", select, f"--concur-results={folder}"
    )
    out = Path(pytester.path, folder)
    return result, _table(out, "rounds"), _table(out, "tasks")


def _text(found: pd.DataFrame, experiment: str, variant: str) -> tuple[list[str], str]:
    row = found[found["experiment"].str.endswith(experiment) & (found["variant"] == variant)]
    return list(row["codes"].iloc[0]), str(row["text"].iloc[0])


def _share(rounds: pd.DataFrame, tasks: pd.DataFrame, experiment: str) -> float:
    moving = moving_by_variant(quiet_rounds(measured(keyed(rounds))).rows, tasks)  # as diagnose
    (share,) = [m.share for key, m in moving.items() if key[0].endswith(experiment)]
    return share


def test_small_tasks_get_a_chunksize_and_big_arguments_cannot_be_batched(
    pytester: pytest.Pytester,
) -> None:
    result, rounds, tasks = _session(pytester, "first", None, ["processes"], "small or big")
    result.assert_outcomes(passed=2)
    found = pc.diagnose(rounds, tasks)
    assert rounds["chunksize"].isna().all()  # not given: null
    assert tasks["map_start_s"].notna().all()
    assert (tasks["map_start_s"] <= tasks["start_s"]).all()

    codes, text = _text(found, "test_small_tasks", "processes-2")
    first_share = _share(rounds, tasks, "test_small_tasks")
    assert first_share >= MOVE_SHARE, text
    assert "transfer_bound" in codes, text
    said = r"2,000 tasks of [\d.]+ [um]s each; \d+% of the workers' time went to moving them"
    assert re.search(said, text), text
    suggested = re.search(r"chunksize=(\d+) would bring moving under 10%", text)
    assert suggested is not None, text
    chunksize = int(suggested.group(1))
    assert 1 < chunksize <= 1000  # at most one batch per worker

    codes, text = _text(found, "test_big_arguments", "processes-2")
    assert "transfer_bound" in codes, text
    assert "4.0 MiB per task" in text
    assert "the data itself is too big to move; batching cannot fix it" in text

    # the suggestion tried: stored in the row, and the moving share falls
    result, rounds, tasks = _session(
        pytester, "batched", chunksize, ["threads", "processes"], "small"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [f"*ConcurWarning: chunksize={chunksize} ignored: threads does not ship its tasks*"]
    )
    by_model = rounds.set_index("model")["chunksize"]
    assert (by_model["processes"] == chunksize).all()
    assert by_model["threads"].isna().all()  # ignored, so not recorded
    processes = tasks[tasks["model"] == "processes"]
    assert sorted(processes.groupby("round")["task"].count().unique()) == [2000]  # per task
    assert _share(rounds, tasks, "test_small_tasks") < first_share
