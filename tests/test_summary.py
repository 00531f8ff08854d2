"""Per-variant statistics and the terminal report, from synthetic rows."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from round_rows import variants_rows

from pytest_concur._reporting.terminal import report_lines
from pytest_concur._stats.summary import summarize_rounds, warnings_for


def _rows(variants: dict[tuple[str, int], list[float]], **extra: Any) -> pd.DataFrame:
    facts = {"experiment": "exp.py::test_x", "utilization": 0.5, "startup_s": 0.0,
             "max_rss_bytes": 10, "load_avg_1m": 0.1, "usable_cpus": 2}  # fmt: skip
    # plain values (tests below set cells to values a categorical column would refuse)
    return pd.DataFrame(variants_rows(variants, also=["cpu_s"], **{**facts, **extra}))


def test_speedup_and_efficiency_against_serial() -> None:
    rows = _rows({("serial", 1): [1.0, 1.0, 1.0], ("processes", 2): [0.5, 0.5, 0.5]})
    summary = summarize_rounds(rows).set_index("model")
    assert summary.loc["processes", "speedup"] == 2.0
    assert summary.loc["processes", "efficiency"] == 1.0
    assert summary.loc["serial", "speedup"] == 1.0


def test_no_serial_means_no_speedup() -> None:
    summary = summarize_rounds(_rows({("threads", 2): [1.0, 1.0, 1.0]}))
    assert math.isnan(summary["speedup"].iloc[0])


def test_warmup_and_failed_rounds_do_not_count() -> None:
    rows = _rows({("serial", 1): [9.0, 1.0, 1.0, 1.0]})
    rows.loc[0, "warmup"] = True
    summary = summarize_rounds(rows)
    assert summary["rounds"].iloc[0] == 3
    assert summary["wall_median_s"].iloc[0] == 1.0


def test_all_failed_variant_keeps_its_error() -> None:
    rows = _rows({("serial", 1): [1.0, 1.0, 1.0], ("threads", 2): [0.1]})
    rows.loc[rows["model"] == "threads", ["outcome", "error"]] = ["failed", "ValueError: x"]
    summary = summarize_rounds(rows).set_index("model")
    assert summary.loc["threads", "rounds"] == 0
    assert summary.loc["threads", "error"] == "ValueError: x"
    assert summary.loc["threads", "workload"] == "cpu"
    text = "\n".join(report_lines(rows))
    assert "FAILED" in text
    assert "ValueError: x" in text


@given(st.lists(st.floats(0.001, 100.0), min_size=1, max_size=30))
def test_median_lies_within_the_quartiles(walls: list[float]) -> None:
    line = summarize_rounds(_rows({("serial", 1): walls})).iloc[0]
    assert line["wall_q25_s"] <= line["wall_median_s"] <= line["wall_q75_s"]
    assert line["wall_rel_spread"] >= 0


def test_warnings_for_untrustworthy_numbers() -> None:
    wide = summarize_rounds(_rows({("serial", 1): [1.0, 2.0, 3.0, 4.0]})).iloc[0]
    assert any("wide spread" in note for note in warnings_for(wide))
    few = summarize_rounds(_rows({("serial", 1): [1.0, 1.0]})).iloc[0]
    assert any("too few" in note for note in warnings_for(few))
    tiny = summarize_rounds(_rows({("serial", 1): [1e-4] * 5})).iloc[0]
    assert any("under 1 ms" in note for note in warnings_for(tiny))
    loaded = summarize_rounds(_rows({("serial", 1): [1.0] * 5}, load_avg_1m=5.0)).iloc[0]
    assert any("loaded" in note for note in warnings_for(loaded))
    # one busy core of the experiment's own on two CPUs: load 2.5 is not someone else's
    own = summarize_rounds(_rows({("serial", 1): [1.0] * 5}, load_avg_1m=2.5)).iloc[0]
    assert not any("loaded" in note for note in warnings_for(own))
    steady = summarize_rounds(_rows({("serial", 1): [1.0] * 5})).iloc[0]
    assert warnings_for(steady) == []


def test_report_escapes_control_characters() -> None:
    rows = _rows({("serial", 1): [1.0] * 3})
    rows["experiment"] = "exp.py::test_\x1b[31mred\nline"
    text = "\n".join(report_lines(rows))
    assert "\x1b" not in text
    assert "\\x1b[31mred\\nline" in text


def test_report_notes_name_variants_as_test_ids_do() -> None:
    rows = _rows({("serial", 1): [1.0, 1.0], ("threads", 2): [0.5, 0.5]})
    notes = [line for line in report_lines(rows) if line.startswith("  !")]
    assert "  ! serial: only 2 round(s): too few to judge the spread" in notes
    assert "  ! threads-2: only 2 round(s): too few to judge the spread" in notes
    assert not any("serial-1" in line for line in report_lines(rows))


def test_report_spread_is_the_interquartile_range_over_the_median() -> None:
    rows = _rows({("serial", 1): [1.0, 2.0, 3.0, 4.0, 5.0]})  # quartiles 2 and 4, median 3
    (line,) = [line for line in report_lines(rows) if line.startswith("  serial")]
    assert " 67% " in line  # (4 - 2) / 3, not half of it
