"""The advice on synthetic frames: recommendations, diagnoses, bad input, scaling fits."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from advice_frames import rounds
from hypothesis import given, settings
from hypothesis import strategies as st

import pytest_concur as pc
from pytest_concur._advice.codes import CODES
from pytest_concur._advice.scaling import fit_law, usl
from pytest_concur._running.spec import auto_workers, parse_spec

SERIAL = [1.00, 1.02, 0.98, 1.01, 0.99]
HALF = [0.58, 0.60, 0.59, 0.61, 0.57]


def _codes(frame: pd.DataFrame, variant: str) -> list[str]:
    (codes,) = frame.loc[frame["variant"] == variant, "codes"]
    return list(codes)


def test_recommends_the_fastest_with_speedup_interval_and_runner_up() -> None:
    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("threads", 2): {"walls": [1.05, 1.03, 1.04, 1.06, 1.02], "cores_used": 1.0},
            ("processes", 2): {"walls": HALF, "cores_used": 1.9},
        }
    )
    (rec,) = pc.recommend(df).to_dict("records")
    assert rec["best"] == "processes-2"
    assert rec["runner_up"] == "serial"
    assert rec["tie"] is False or rec["tie"] == False  # noqa: E712 - numpy bool
    assert rec["speedup"] == pytest.approx(1.0 / 0.59)
    assert rec["ci_low"] <= rec["speedup"] <= rec["ci_high"]
    assert rec["ci_low"] > 1.0
    assert rec["p_value"] <= 0.05
    assert "use processes-2: 1.69x faster than serial" in rec["reason"]
    assert "threads-2 is gil_bound: 1.00 of 2 cores" in rec["reason"]
    assert rec["problems"] == []


def test_a_tie_recommends_the_cheaper_and_says_so() -> None:
    same = [0.50, 0.52, 0.49, 0.51, 0.50]
    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("processes", 2): {"walls": [0.49, 0.51, 0.50, 0.52, 0.50], "cpu_s": 1.2,
                               "startup_s": 0.02},
            ("threads", 2): {"walls": same, "cpu_s": 1.0, "cores_used": 2.0},
        }
    )  # fmt: skip
    (rec,) = pc.recommend(df).to_dict("records")
    assert rec["tie"]
    assert rec["best"] == "threads-2"
    assert rec["runner_up"] == "processes-2"
    assert "tie with processes-2" in rec["reason"]
    assert "cheaper on CPU" in rec["reason"]


def test_clear_winner_is_no_tie_even_when_it_costs_more() -> None:
    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL, "cpu_s": 1.0},
            ("processes", 2): {"walls": HALF, "cpu_s": 1.4},
        }
    )
    (rec,) = pc.recommend(df).to_dict("records")
    assert not rec["tie"]
    assert rec["best"] == "processes-2"


def test_one_variant_only_recommends_nothing() -> None:
    (rec,) = pc.recommend(rounds({("threads", 2): {"walls": HALF}})).to_dict("records")
    assert rec["best"] is None
    assert rec["problems"] == ["one_variant"]
    assert "only threads-2 was measured" in rec["reason"]
    assert math.isnan(rec["speedup"])


def test_every_round_failed_recommends_nothing_and_says_why() -> None:
    df = rounds(
        {
            ("serial", 1): {"walls": [0.1], "outcome": "failed", "error": "ValueError: boom"},
            ("threads", 2): {"walls": [0.1], "outcome": "failed", "error": "ValueError: boom"},
        }
    )
    (rec,) = pc.recommend(df).to_dict("records")
    assert rec["best"] is None
    assert rec["problems"] == ["all_failed"]
    assert "every round failed" in rec["reason"]
    assert "ValueError: boom" in rec["reason"]
    assert pc.diagnose(df)["codes"].map(len).tolist() == [0, 0]


def test_a_failed_variant_is_named_and_never_wins() -> None:
    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("threads", 2): {"walls": HALF},
            ("processes", 2): {"walls": [0.01], "outcome": "failed", "error": "OSError: x"},
        }
    )
    (rec,) = pc.recommend(df).to_dict("records")
    assert rec["best"] == "threads-2"
    assert "processes-2 failed every round (OSError: x)" in rec["reason"]


def test_no_serial_baseline_still_ranks_but_has_no_speedup() -> None:
    df = rounds({("threads", 2): {"walls": SERIAL}, ("processes", 2): {"walls": HALF}})
    (rec,) = pc.recommend(df).to_dict("records")
    assert rec["best"] == "processes-2"
    assert math.isnan(rec["speedup"])
    assert math.isnan(rec["ci_low"])
    assert rec["problems"] == ["no_serial_baseline"]
    assert "no serial baseline" in rec["reason"]


@pytest.mark.parametrize(
    ("workload", "cores", "mismatch"),
    [("cpu", 0.05, True), ("cpu", 0.95, False), ("io", 0.95, True), ("io", 0.05, False)],
)
def test_workload_marker_that_contradicts_the_signals(
    workload: str, cores: float, mismatch: bool
) -> None:
    df = rounds(
        {("serial", 1): {"walls": SERIAL, "cores_used": cores},
         ("threads", 2): {"walls": HALF, "cores_used": cores}},
        workload=workload,
    )  # fmt: skip
    (rec,) = pc.recommend(df).to_dict("records")
    assert ("workload_mismatch" in rec["problems"]) is mismatch
    assert rec["best"] == "threads-2"  # odd input is said, the ranking still holds


def test_empty_and_foreign_frames() -> None:
    columns = ["experiment", "params", "model", "workers", "workload", "warmup", "outcome",
               "wall_s"]  # fmt: skip
    assert pc.recommend(rounds({}).reindex(columns=columns)).empty
    with pytest.raises(ValueError, match="missing column"):
        pc.recommend(pd.DataFrame({"x": [1]}))


# ------------------------------------------------------------------ diagnoses


def test_diagnose_rows_and_columns() -> None:
    df = rounds({("serial", 1): {"walls": SERIAL}, ("threads", 2): {"walls": HALF}})
    frame = pc.diagnose(df)
    assert list(frame["variant"]) == ["serial", "threads-2"]
    assert {"experiment", "params", "variant", "codes", "text"} <= set(frame.columns)
    assert all(set(codes) <= set(CODES) for codes in frame["codes"])


@pytest.mark.parametrize(
    ("spec", "code", "expected"),
    [
        ({"walls": SERIAL, "cores_used": 1.0}, "gil_bound", True),
        ({"walls": HALF, "cores_used": 1.9}, "gil_bound", False),
        ({"walls": HALF, "startup_s": 0.3}, "startup_bound", True),
        ({"walls": HALF, "startup_s": 0.01}, "startup_bound", False),
        ({"walls": HALF, "cpu_s": 1.0, "transfer_s": 0.5, "transfer_bytes": 8e7},
         "transfer_bound", True),
        ({"walls": HALF, "cpu_s": 1.0, "transfer_s": 0.01, "transfer_bytes": 1e3},
         "transfer_bound", False),
        # a round that only waited can read 0 CPU seconds (psutil's clock ticks)
        ({"walls": HALF, "cpu_s": 0.0, "transfer_s": 0.0, "transfer_bytes": 0},
         "transfer_bound", False),
        ({"walls": HALF, "cores_used": 1.8}, "scales", True),
        ({"walls": SERIAL, "cores_used": 1.8}, "scales", False),
        ({"walls": HALF, "system_cores_busy": 3.8, "cores_used": 1.0}, "crowded", True),
        ({"walls": HALF, "system_cores_busy": 1.1, "cores_used": 1.0}, "crowded", False),
    ],
)  # fmt: skip
def test_codes_from_round_signals(spec: dict[str, object], code: str, expected: bool) -> None:
    model = "threads" if code == "gil_bound" else "processes"
    df = rounds({("serial", 1): {"walls": SERIAL, "cores_used": 1.0}, (model, 2): spec})
    assert (code in _codes(pc.diagnose(df), f"{model}-2")) is expected


def test_gil_bound_needs_a_gil() -> None:
    df = rounds(
        {("serial", 1): {"walls": SERIAL}, ("threads", 2): {"walls": SERIAL}},
        gil_enabled=False,
    )
    assert "gil_bound" not in _codes(pc.diagnose(df), "threads-2")


def test_oversubscribed_only_without_gain_over_fewer_workers() -> None:
    base: dict[tuple[str, int], dict[str, Any]] = {
        ("serial", 1): {"walls": SERIAL},
        ("processes", 2): {"walls": HALF, "cores_used": 1.9},
    }
    no_gain = rounds({**base, ("processes", 4): {"walls": HALF, "cores_used": 1.9}})
    gain = rounds({**base, ("processes", 4): {"walls": [0.3, 0.31, 0.29, 0.3, 0.32],
                                              "cores_used": 1.9}})  # fmt: skip
    assert "oversubscribed" in _codes(pc.diagnose(no_gain), "processes-4")
    assert "oversubscribed" not in _codes(pc.diagnose(gain), "processes-4")
    assert "oversubscribed" not in _codes(pc.diagnose(no_gain), "processes-2")


def test_loop_blocked_from_rounds_without_spans() -> None:
    blocked = rounds(
        {
            ("serial", 1): {"walls": SERIAL, "cores_used": 0.02},
            ("asyncio", 8): {"walls": SERIAL, "cores_used": 0.02},
        },
        workload="io",
    )
    waits = rounds({("serial", 1): {"walls": SERIAL, "cores_used": 0.02},
                    ("asyncio", 8): {"walls": [0.13, 0.12, 0.14], "cores_used": 0.1}},
                   workload="io")  # fmt: skip
    assert "loop_blocked" in _codes(pc.diagnose(blocked), "asyncio-8")
    assert "loop_blocked" not in _codes(pc.diagnose(waits), "asyncio-8")


def _tasks(
    df: pd.DataFrame, test_id: str, ends: list[list[tuple[float, float, int]]]
) -> pd.DataFrame:
    """Task spans (start, end, thread) of each round of one variant."""
    rows = [
        {"run_id": "r1", "test_id": test_id, "round": index, "map_index": 0, "task": task,
         "pid": 1, "thread_id": thread, "start_s": start, "end_s": end}
        for index, spans in enumerate(ends)
        for task, (start, end, thread) in enumerate(spans)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_imbalanced_from_task_spans() -> None:
    df = rounds({("serial", 1): {"walls": SERIAL}, ("threads", 2): {"walls": HALF}})
    test_id = "test_x.py::test_job[threads-2]"
    lopsided = _tasks(df, test_id, [[(0.0, 0.05, 1), (0.0, 0.5, 2)]] * 5)
    even = _tasks(df, test_id, [[(0.0, 0.48, 1), (0.0, 0.5, 2)]] * 5)
    assert "imbalanced" in _codes(pc.diagnose(df, lopsided), "threads-2")
    assert "imbalanced" not in _codes(pc.diagnose(df, even), "threads-2")
    assert "imbalanced" not in _codes(pc.diagnose(df), "threads-2")  # no spans: no claim


def test_loop_blocked_from_task_spans() -> None:
    df = rounds({("serial", 1): {"walls": SERIAL}, ("asyncio", 4): {"walls": HALF}}, workload="io")
    test_id = "test_x.py::test_job[asyncio-4]"
    one_by_one = _tasks(df, test_id, [[(i * 0.1, i * 0.1 + 0.1, 1) for i in range(4)]] * 5)
    together = _tasks(df, test_id, [[(0.0, 0.1, 1) for _ in range(4)]] * 5)
    assert "loop_blocked" in _codes(pc.diagnose(df, one_by_one), "asyncio-4")
    assert "loop_blocked" not in _codes(pc.diagnose(df, together), "asyncio-4")


# ------------------------------------------------------------------ hypothesis

walls_strategy = st.lists(st.floats(0.001, 10.0), min_size=1, max_size=7)


@settings(max_examples=60, deadline=None)
@given(
    serial=walls_strategy,
    threads=walls_strategy,
    processes=walls_strategy,
    failed=st.booleans(),
)
def test_recommend_never_crashes_and_never_invents_a_winner(
    serial: list[float], threads: list[float], processes: list[float], failed: bool
) -> None:
    df = rounds(
        {
            ("serial", 1): {"walls": serial},
            ("threads", 2): {"walls": threads},
            ("processes", 2): {"walls": processes, "outcome": "failed" if failed else "passed"},
        }
    )
    (rec,) = pc.recommend(df).to_dict("records")
    assert rec["best"] in {"serial", "threads-2", *(() if failed else ("processes-2",))}
    assert rec["runner_up"] != rec["best"]
    if rec["best"] != "serial":
        assert rec["ci_low"] <= rec["speedup"] <= rec["ci_high"]
    medians = {"serial": pd.Series(serial).median(), "threads-2": pd.Series(threads).median()}
    if not failed:
        medians["processes-2"] = pd.Series(processes).median()
    if not rec["tie"]:  # a winner without a tie is the fastest by median
        assert medians[rec["best"]] == min(medians.values())


@settings(max_examples=60, deadline=None)
@given(sigma=st.floats(0.0, 0.5), kappa=st.floats(0.0, 0.05))
def test_usl_fit_recovers_exact_points(sigma: float, kappa: float) -> None:
    counts = [1, 2, 4, 8]
    fit = fit_law(counts, [usl(n, sigma, kappa) for n in counts])
    assert fit is not None
    assert fit.law == "usl"
    for n in (16, 32):
        assert fit.predict(n) == pytest.approx(usl(n, sigma, kappa), rel=0.02, abs=0.02)


def test_two_core_counts_predict_nothing_and_say_so() -> None:
    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("processes", 2): {"walls": HALF},
            ("threads", 2): {"walls": SERIAL},
        }
    )
    frame = pc.scaling(df).set_index("model")
    processes = frame.loc["processes"].to_dict()
    assert list(processes["measured_cores"]) == [2.0]
    assert processes["law"] is None
    assert math.isnan(processes["speedup_2x"])
    assert math.isnan(processes["cores_4x"])
    assert "measured on 1, 2 cores only: too few core counts" in processes["text"]
    assert "predicts" not in processes["text"]


def test_three_core_counts_fit_and_predict_per_core_count() -> None:
    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("processes", 2): {"walls": HALF},
            ("processes", 4): {"walls": [w * 0.55 for w in HALF]},
        },
        usable_cpus=4,
    )
    (row,) = pc.scaling(df).to_dict("records")
    assert list(row["measured_cores"]) == [2.0, 4.0]
    assert row["law"] == "usl"
    assert (row["cores_2x"], row["cores_4x"]) == (8.0, 16.0)
    assert row["low_2x"] <= row["speedup_2x"] <= row["high_2x"]
    assert row["speedup_2x"] > 3.0
    assert " at 8 cores" in row["text"]
    assert " at 16 cores" in row["text"]
    assert not len(row["left_out"])


def test_oversubscribed_variants_are_left_out_of_the_fit_and_shown_beside_it() -> None:
    # on 2 usable CPUs, 8 workers are 2 cores: not a point at 8, and not a third count
    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("processes", 2): {"walls": HALF},
            ("processes", 8): {"walls": [w * 1.05 for w in HALF]},
        }
    )
    (row,) = pc.scaling(df).to_dict("records")
    assert list(row["measured_cores"]) == [2.0]
    assert row["law"] is None  # two core counts: nothing predicted, none at 32
    (left,) = row["left_out"]
    assert left.startswith("processes-8 (8 workers on 2 cores: ")
    assert "left out (more workers than cores): processes-8" in row["text"]


def test_a_quota_caps_the_cores() -> None:
    df = rounds({("serial", 1): {"walls": SERIAL}, ("processes", 2): {"walls": SERIAL},
                 ("processes", 4): {"walls": SERIAL}}, usable_cpus=4)  # fmt: skip
    df["cpu_quota"] = 2.0
    (row,) = pc.scaling(df).to_dict("records")
    assert list(row["measured_cores"]) == [2.0]
    assert [text.split(" (")[0] for text in row["left_out"]] == ["processes-4"]


def test_scaling_says_machine_busy_instead_of_predicting() -> None:
    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("processes", 2): {"walls": HALF},
            ("processes", 4): {"walls": [w * 0.55 for w in HALF]},
        },
        usable_cpus=4,
    )
    df["crowded"] = df["model"] == "processes"
    (row,) = pc.scaling(df).to_dict("records")
    assert row["law"] is None
    assert "no prediction: machine busy" in row["text"]


def test_usl_finds_where_more_workers_stop_paying() -> None:
    counts = [1, 2, 4]
    walls = {
        ("serial", 1): {"walls": [1.0, 1.0, 1.0]},
        **{("processes", n): {"walls": [1.0 / usl(n, 0.05, 0.02)] * 3} for n in counts},
    }
    (row,) = pc.scaling(rounds(walls, usable_cpus=4)).to_dict("records")
    assert row["law"] == "usl"
    assert row["sigma"] == pytest.approx(0.05, abs=0.01)
    assert row["kappa"] == pytest.approx(0.02, abs=0.005)
    # 4 -> 8 still adds 12.5%, 8 -> 16 loses (the peak is at sqrt(0.95 / 0.02) ~ 6.9)
    assert row["stops_paying_at"] == 8
    assert row["speedup_4x"] < row["speedup_2x"]  # contention: 16 workers slower than 8


# ------------------------------------------------------------------ workers="auto"


@pytest.mark.parametrize(
    ("workload", "usable", "expected"),
    [("cpu", 1, (1,)), ("cpu", 2, (1, 2)), ("cpu", 6, (1, 2, 4, 6)), ("io", 2, (1, 2, 4, 8)),
     ("mixed", 16, (1, 2, 4, 8, 16))],
)  # fmt: skip
def test_auto_workers(workload: str, usable: int, expected: tuple[int, ...]) -> None:
    assert auto_workers(workload, usable) == expected


def test_marker_workers_auto() -> None:
    spec = parse_spec((), {"workload": "cpu", "models": ["threads"], "workers": "auto"},
                      known_models=["threads"])  # fmt: skip
    assert spec.workers == auto_workers("cpu")
    assert spec.workers[0] == 1


# ------------------------------------------------------------------ report lines


def test_terminal_lines_and_html_card() -> None:
    from pytest_concur._advice.lines import decision_lines, decisions_html

    df = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("threads", 2): {"walls": SERIAL, "cores_used": 1.0},
            ("processes", 2): {"walls": HALF},
        },
        experiment="test_x.py::test_<job>",
    )
    lines = decision_lines(df)
    assert lines[1].startswith("  test_x.py::test_<job>: use processes-2: ")
    assert len(lines) == 2  # two core counts: no prediction, so no scaling line
    four = rounds(
        {
            ("serial", 1): {"walls": SERIAL},
            ("threads", 4): {"walls": SERIAL, "cores_used": 1.0},
            ("processes", 2): {"walls": HALF},
            ("processes", 4): {"walls": [w * 0.55 for w in HALF]},
        },
        usable_cpus=4,
    )
    fitted = decision_lines(four)
    assert [line for line in fitted if ": scaling: " in line] == [
        line for line in fitted if "scaling: processes fitted on 1, 2, 4 cores" in line
    ]  # the recommended model's fit only
    assert len(fitted) == 3
    page = decisions_html(df)
    assert "<h2>Decisions</h2>" in page
    assert "test_x.py::test_&lt;job&gt;" in page
    assert "test_<job>" not in page
    assert decision_lines(df.iloc[0:0]) == []


def test_public_names_load_pandas_only_when_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pytest_concur as pc\n"
        "assert 'pandas' not in sys.modules, 'pandas loaded by the package import'\n"
        "assert {'recommend', 'diagnose', 'scaling'} <= set(pc.__all__)\n"
        "assert callable(pc.recommend) and callable(pc.diagnose) and callable(pc.scaling)\n"
        "assert 'pandas' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_decisions_block_shows_decisions_and_counts_the_silent() -> None:
    from pytest_concur._advice.lines import decision_lines

    decided = rounds({("serial", 1): {"walls": SERIAL}, ("processes", 2): {"walls": HALF}},
                     experiment="test_x.py::test_decided")  # fmt: skip
    lonely = [
        rounds({("serial", 1): {"walls": SERIAL}}, experiment=f"test_x.py::test_alone_{n}")
        for n in range(3)
    ]
    # one variant, but with a finding: the block shows its diagnosis
    blocked = rounds({("asyncio", 4): {"walls": SERIAL, "cores_used": 0.05}},
                     experiment="test_x.py::test_blocked", workload="io")  # fmt: skip
    spans = pd.DataFrame(
        {"run_id": "r1", "test_id": "test_x.py::test_blocked[asyncio-4]", "round": r,
         "map_index": 0, "pid": 7, "thread_id": 1, "start_s": 0.1 * t, "end_s": 0.1 * t + 0.1}
        for r in range(len(SERIAL)) for t in range(4)
    )  # fmt: skip
    lines = decision_lines(pd.concat([decided, *lonely, blocked], ignore_index=True), spans)
    assert lines[0].startswith("decisions")
    assert lines[1].startswith("  test_x.py::test_decided: use processes-2: ")
    assert lines[2].startswith("  test_x.py::test_blocked: no recommendation: only asyncio-4 "
                               "was measured: nothing to compare it with; asyncio-4 is "
                               "loop_blocked: ")
    assert lines[3] == "  3 experiment(s) with nothing to decide: one variant and no finding"
    assert len(lines) == 4
