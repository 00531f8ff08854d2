"""The kernel (_rounds/): each rule's pure form and its vectorised form agree on any rounds."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_concur._rounds.conventions import median
from pytest_concur._rounds.counting import (
    MIN_QUIET_ROUNDS,
    crowded,
    is_crowded,
    is_measured,
    measured,
    quiet_keep,
    quiet_rounds,
    quiet_rows,
    round_crowded,
    usable_cores,
)
from pytest_concur._rounds.variant import keyed, variant_key, variant_label

MODELS = ("serial", "threads", "processes", "asyncio")

maybe_number = st.one_of(
    st.none(), st.just(math.nan), st.floats(min_value=0.0, max_value=8.0, allow_nan=False)
)


@st.composite
def round_rows(draw: st.DrawFn, *, stored_flag: bool) -> list[dict[str, Any]]:
    """Rounds of a few variants, with every way a column can be missing or null."""
    rows = []
    for index in range(draw(st.integers(min_value=0, max_value=24))):
        model = draw(st.sampled_from(MODELS))
        usable = draw(st.sampled_from([1, 2, 4]))
        quota = draw(st.one_of(st.none(), st.sampled_from([0.5, 1.5, 3.0])))
        machine = draw(maybe_number)
        own = draw(st.floats(min_value=0.0, max_value=4.0, allow_nan=False))
        row: dict[str, Any] = {
            "experiment": draw(st.sampled_from(["a.py::test_x", "b.py::test_y"])),
            "params": draw(st.sampled_from([None, "", "n=1"])),
            "model": model,
            "workers": 1 if model == "serial" else draw(st.sampled_from([2, 4])),
            "round": index,
            "warmup": draw(st.sampled_from([True, False, None])),
            "outcome": draw(st.sampled_from(["passed", "passed", "passed", "failed", "skipped"])),
            "system_cores_busy": machine,
            "cores_used": own,
            "usable_cpus": usable,
            "cpu_quota": quota,
            "wall_s": draw(st.floats(min_value=0.001, max_value=1.0)),
        }
        if stored_flag:
            # as RowBuilder stores it: null where the sampler saw nothing
            row["crowded"] = round_crowded(machine, own, usable_cores(usable, quota))
        rows.append(row)
    return rows


def frame_of(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as pc.load gives them: nullable flags, float columns with NaN for nulls."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["warmup"] = frame["warmup"].astype("boolean")
    for name in ("system_cores_busy", "cpu_quota"):
        frame[name] = pd.to_numeric(frame[name]).astype("float64")
    if "crowded" in frame:
        frame["crowded"] = frame["crowded"].astype("boolean")
    return frame


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(name): value for name, value in row.items()} for row in frame.to_dict("records")]


@given(round_rows(stored_flag=False))
def test_measured_rounds_are_the_same_row_by_row_and_vectorised(rows: list[dict[str, Any]]) -> None:
    frame = frame_of(rows)
    expected = [i for i, row in enumerate(rows) if is_measured(row)]
    got = measured(frame).index.tolist() if not frame.empty else []
    assert got == expected


@given(round_rows(stored_flag=False), st.booleans())
def test_the_crowded_rule_is_the_same_row_by_row_and_vectorised(
    rows: list[dict[str, Any]], store: bool
) -> None:
    frame = frame_of(rows)
    if frame.empty:
        return
    if store:  # rows as stored (the flag) and as older files have them (computed)
        frame["crowded"] = pd.array(
            [round_crowded(r["system_cores_busy"], r["cores_used"],
                           usable_cores(r["usable_cpus"], r["cpu_quota"])) for r in rows],
            dtype="boolean",
        )  # fmt: skip
    assert crowded(frame).tolist() == [is_crowded(row) for row in records(frame)]


@given(round_rows(stored_flag=True))
def test_the_stored_flag_and_the_columns_say_the_same(rows: list[dict[str, Any]]) -> None:
    """The flag written when a round is stored is what its columns say when read back."""
    with_flag = frame_of(rows)
    if with_flag.empty:
        return
    without = with_flag.drop(columns="crowded")
    assert crowded(with_flag).tolist() == crowded(without).tolist()


def test_a_stored_flag_wins_over_the_columns() -> None:
    # the round was judged crowded as it was measured; its columns alone would not say so
    row = {"system_cores_busy": 1.0, "cores_used": 1.0, "usable_cpus": 2, "crowded": True}
    assert is_crowded(row)
    assert crowded(pd.DataFrame([row])).tolist() == [True]
    assert not is_crowded({**row, "crowded": None})


@given(st.lists(st.booleans(), max_size=12))
def test_the_quiet_rule_for_one_variant(flags: list[bool]) -> None:
    keep, busy = quiet_keep(flags)
    quiet = flags.count(False)
    assert busy == (quiet < len(flags) and quiet < MIN_QUIET_ROUNDS)
    if busy or quiet == len(flags):
        assert all(keep)  # nothing dropped: a busy variant is named, not trimmed
    else:
        assert keep == [not flag for flag in flags]


@settings(max_examples=200)
@given(round_rows(stored_flag=True))
def test_the_quiet_rule_is_the_same_row_by_row_and_vectorised(rows: list[dict[str, Any]]) -> None:
    frame = frame_of(rows)
    if frame.empty:
        return
    selection = quiet_rounds(measured(frame))
    by_variant: dict[tuple[str, str, str, int], list[dict[str, Any]]] = {}
    for index, row in zip(frame.index, records(frame), strict=True):
        by_variant.setdefault(variant_key(row), []).append({**row, "_index": index})
    kept: list[Any] = []
    busy = set()
    for key, variant_rows in by_variant.items():
        chosen = quiet_rows(variant_rows)
        if chosen is None:
            busy.add(key)
            kept.extend(row["_index"] for row in variant_rows if is_measured(row))
        else:
            kept.extend(row["_index"] for row in chosen)
    assert selection.busy_variants == busy
    assert sorted(selection.rows.index) == sorted(kept)
    for variant in selection.busy:
        counted = [row for row in by_variant[variant.key] if is_measured(row)]
        assert variant.rounds == len(counted)
        assert variant.crowded_rounds == sum(is_crowded(row) for row in counted)


def test_the_busy_reason_counts_the_crowded_rounds_of_each_variant() -> None:
    rows = pd.DataFrame(
        {
            "experiment": "e", "params": None, "model": "asyncio", "workers": 2,
            "warmup": False, "outcome": "passed", "crowded": [True, True, True, False],
        }
    )  # fmt: skip
    assert quiet_rounds(rows).busy_reason() == (
        "machine busy: 3 of 4 rounds of asyncio-2 crowded; rerun on a quiet machine"
    )


@pytest.mark.parametrize(
    ("model", "workers", "label"),
    [("serial", 1, "serial"), ("threads", 2, "threads-2"), ("asyncio", 8.0, "asyncio-8")],
)
def test_the_variant_label(model: str, workers: object, label: str) -> None:
    assert variant_label(model, workers) == label


def test_keys_read_the_same_from_a_row_and_from_a_frame() -> None:
    frame = pd.DataFrame(
        {"experiment": ["e", "e"], "params": [None, "n=1"], "model": ["threads"] * 2,
         "workers": [2, 2]}
    ).astype({"experiment": "category", "model": "category", "workers": "Int64"})  # fmt: skip
    plain = keyed(frame)
    assert [variant_key(row) for row in records(plain)] == [
        ("e", "", "threads", 2), ("e", "n=1", "threads", 2)
    ]  # fmt: skip
    assert [variant_key(row) for row in records(frame)] == [
        ("e", "", "threads", 2), ("e", "n=1", "threads", 2)
    ]  # fmt: skip


@given(st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.just(math.nan))))
def test_the_median_leaves_nan_out(values: list[float]) -> None:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        assert math.isnan(median(values))
    else:
        assert median(values) == pytest.approx(statistics.median(finite), nan_ok=False)
