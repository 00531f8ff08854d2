"""The expectation vocabulary and verdicts, on synthetic rounds (no timing involved)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from round_rows import variants_rows

import pytest_concur as pc
from pytest_concur._claims.decision import Verdict, combine, format_value
from pytest_concur._claims.expectations import Compare
from pytest_concur._claims.selection import Select, choose
from pytest_concur._claims.transport import Unsendable, decode, encode
from pytest_concur._claims.verdicts import (
    ClaimSpec,
    claim_statuses,
    evaluate_claims,
    refuted_claims,
    verdict_rows,
)
from pytest_concur._measuring.environment import current_environment
from pytest_concur._reporting.verdicts import verdict_lines
from pytest_concur._storing.frames import rows_frame

EXPERIMENT = "test_x.py::test_it"


def shown(verdicts: list[Verdict]) -> list[str]:
    """The claims section as the terminal shows it: the verdicts table, laid out."""
    frame = rows_frame(verdict_rows(verdicts, current_environment("run-1")), "verdicts")
    return verdict_lines(frame)


def rows_for(
    variants: dict[tuple[str, int], list[float]],
    *,
    metric: str = "wall_s",
    params: dict[str, Any] | None = None,
    python: str = "3.11.7",
    gil: bool = True,
    experiment: str = EXPERIMENT,
) -> pd.DataFrame:
    """Measured rounds: one row per value, for each (model, workers)."""
    # plain values, not the schema's dtypes: some metrics here are made-up fractions of
    # integer columns (max_rss_bytes)
    rows = variants_rows(
        variants, metric=metric, also=["wall_s"], experiment=experiment, python=python,
        gil_enabled=gil, params_json=json.dumps(params or {}, sort_keys=True),
    )  # fmt: skip
    return pd.DataFrame.from_records(rows)


FAST = [0.10, 0.11, 0.105, 0.102, 0.108]
SLOW = [0.30, 0.31, 0.29, 0.305, 0.298]
MIXED = [0.10, 0.30, 0.11, 0.29, 0.2]


# ---------------------------------------------------------------------------- selectors


@pytest.mark.parametrize(
    ("spec", "model", "workers"),
    [
        ("threads-2", "threads", 2),
        ("serial", "serial", None),
        ("asyncio-processes-16", "asyncio-processes", 16),
        ("asyncio-processes", "asyncio-processes", None),
        (None, None, None),
    ],
)
def test_variant_names_parse(spec: str | None, model: str | None, workers: int | None) -> None:
    selector = pc.variant(spec, cpus="one")
    assert (selector.model, selector.workers, selector.params) == (
        model,
        workers,
        (("cpus", "one"),),
    )


def test_selector_text() -> None:
    assert str(pc.variant("threads-2", cpus="one")) == "threads-2 [cpus=one]"
    assert str(pc.variant(pair="threads")) == "[pair=threads]"
    assert str(Select()) == "any variant"


@pytest.mark.parametrize("bad", ["", 3])
def test_bad_variant_names(bad: Any) -> None:
    with pytest.raises(pc.ClaimError):
        pc.variant(bad)


def test_parameters_must_be_plain() -> None:
    with pytest.raises(pc.ClaimError, match="only str, int"):
        pc.variant("threads", size=[1, 2])  # type: ignore[arg-type]


def test_workers_default_to_the_largest() -> None:
    rows = rows_for({("threads", 1): SLOW, ("threads", 4): FAST})
    chosen = choose(rows, pc.variant("threads"), "wall_s")
    assert not isinstance(chosen, str)
    assert chosen.label == "threads-4"
    assert chosen.values == FAST


def test_missing_and_ambiguous_selections_say_why() -> None:
    rows = rows_for({("threads", 2): FAST, ("serial", 1): SLOW})
    assert "no measured rounds of processes-2" in str(
        choose(rows, pc.variant("processes-2"), "wall_s")
    )
    assert "several models" in str(choose(rows, Select(), "wall_s"))
    assert "no column" in str(choose(rows, pc.variant("serial"), "nonsense"))
    two_sizes = pd.concat(
        [
            rows_for({("threads", 2): FAST}, params={"size": 1}),
            rows_for({("threads", 2): SLOW}, params={"size": 2}),
        ]
    )
    reason = choose(two_sizes, pc.variant("threads-2"), "wall_s")
    assert isinstance(reason, str)
    assert "several parameter sets" in reason
    assert "size" in reason
    chosen = choose(two_sizes, pc.variant("threads-2", size=2), "wall_s")
    assert not isinstance(chosen, str)
    assert chosen.values == SLOW


def test_warmup_and_failed_rounds_do_not_count() -> None:
    rows = rows_for({("serial", 1): [*FAST, 9.0, 9.0]})
    rows.loc[5, "warmup"] = True
    rows.loc[6, "outcome"] = "failed"
    chosen = choose(rows, pc.variant("serial"), "wall_s")
    assert not isinstance(chosen, str)
    assert chosen.values == FAST


# ---------------------------------------------------------------------------- comparisons


def test_faster_confirmed() -> None:
    rows = rows_for({("processes", 2): FAST, ("threads", 2): SLOW})
    verdict = pc.faster("processes-2", than="threads-2", by=1.5).evaluate(rows)
    assert verdict.status == "confirmed"
    assert verdict.ratio == pytest.approx(0.30 / 0.105, rel=0.05)
    assert verdict.p_value is not None
    assert verdict.p_value < 0.01
    assert (verdict.n_subject, verdict.n_baseline) == (5, 5)
    assert (verdict.python, verdict.gil) == ("3.11.7", "enabled")
    assert "processes-2" in verdict.reason
    assert "ratio" in verdict.reason


def test_faster_refuted_when_the_factor_is_not_reached() -> None:
    rows = rows_for({("processes", 2): FAST, ("threads", 2): SLOW})
    verdict = pc.faster("processes-2", than="threads-2", by=5).evaluate(rows)
    assert verdict.status == "refuted"
    assert verdict.p_opposite is not None
    assert verdict.p_opposite < 0.01


def test_overlapping_spreads_are_inconclusive() -> None:
    rows = rows_for({("processes", 2): MIXED, ("threads", 2): list(reversed(MIXED))})
    assert pc.faster("processes-2", than="threads-2").evaluate(rows).status == "inconclusive"


def test_too_few_rounds_are_inconclusive_and_say_so() -> None:
    rows = rows_for({("processes", 2): FAST[:2], ("threads", 2): SLOW[:2]})
    verdict = pc.faster("processes-2", than="threads-2").evaluate(rows)
    assert verdict.status == "inconclusive"
    assert "too few rounds" in verdict.reason


def test_missing_variant_is_inconclusive() -> None:
    rows = rows_for({("threads", 2): SLOW})
    verdict = pc.faster("processes-2", than="threads-2").evaluate(rows)
    assert verdict.status == "inconclusive"
    assert "no measured rounds of processes-2" in verdict.reason


def test_not_faster_is_the_negation() -> None:
    rows = rows_for({("threads", 2): FAST, ("serial", 1): SLOW})
    assert pc.not_faster("threads-2", than="serial", by=1.2).evaluate(rows).status == "refuted"
    assert pc.not_faster("threads-2", than="serial", by=10).evaluate(rows).status == "confirmed"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.01, 10), min_size=5, max_size=8),
    st.lists(st.floats(0.01, 10), min_size=5, max_size=8),
    st.sampled_from([1.0, 1.3, 2.0]),
)
def test_faster_and_not_faster_never_agree(a: list[float], b: list[float], by: float) -> None:
    rows = rows_for({("processes", 2): a, ("threads", 2): b})
    yes = pc.faster("processes-2", than="threads-2", by=by).evaluate(rows).status
    no = pc.not_faster("processes-2", than="threads-2", by=by).evaluate(rows).status
    swapped = {"confirmed": "refuted", "refuted": "confirmed", "inconclusive": "inconclusive"}
    assert no == swapped[yes]


def test_smaller_uses_any_column() -> None:
    rows = rows_for({("asyncio", 1): FAST, ("threads", 1): SLOW}, metric="max_rss_bytes")
    verdict = pc.smaller("asyncio-1", than="threads-1", metric="max_rss_bytes").evaluate(rows)
    assert verdict.status == "confirmed"
    assert verdict.metric == "max_rss_bytes"
    assert (
        pc.not_smaller("asyncio-1", than="threads-1", metric="max_rss_bytes").evaluate(rows).status
        == "refuted"
    )


def test_baseline_takes_the_subjects_parameters() -> None:
    rows = pd.concat(
        [
            rows_for({("processes", 2): FAST, ("serial", 1): SLOW}, params={"cpus": "all"}),
            rows_for({("processes", 2): SLOW, ("serial", 1): SLOW}, params={"cpus": "one"}),
        ]
    )
    assert (
        pc.speeds_up(pc.variant("processes-2", cpus="all"), at_least=2).evaluate(rows).status
        == "confirmed"
    )
    one = pc.speeds_up(pc.variant("processes-2", cpus="one"), at_most=1.2).evaluate(rows)
    assert one.status == "confirmed"
    assert one.baseline == "serial [cpus=one]"


def test_similar() -> None:
    close = [v * 1.02 for v in FAST]
    rows = rows_for({("threads", 2): FAST, ("serial", 1): close, ("processes", 2): SLOW})
    assert pc.similar("threads-2", "serial", within=1.2).evaluate(rows).status == "confirmed"
    assert pc.similar("processes-2", "serial", within=1.2).evaluate(rows).status == "refuted"


def test_speeds_up_bounds() -> None:
    rows = rows_for({("threads", 8): FAST, ("serial", 1): SLOW})
    assert pc.speeds_up("threads-8", at_least=2).evaluate(rows).status == "confirmed"
    assert pc.speeds_up("threads-8", at_least=5).evaluate(rows).status == "refuted"
    both = pc.speeds_up("threads-8", at_least=2, at_most=4).evaluate(rows)
    assert both.status == "confirmed"
    assert both.expectation == "speedup of threads-8 over serial >= 2x and <= 4x"
    assert pc.speeds_up("threads-8", at_least=2, at_most=2.5).evaluate(rows).status == "refuted"


# ---------------------------------------------------------------------------- bounds


def test_bounds_are_sign_tests() -> None:
    rows = rows_for({("serial", 1): [0.95, 0.97, 0.99, 0.96, 0.98]}, metric="cores_used")
    assert pc.cores_used("serial", at_least=0.9).evaluate(rows).status == "confirmed"
    assert pc.cores_used("serial", at_most=0.9).evaluate(rows).status == "refuted"
    assert pc.cores_used("serial", at_least=0.9, at_most=1.1).evaluate(rows).status == "confirmed"
    assert pc.cores_used("serial", at_least=0.97).evaluate(rows).status == "inconclusive"
    four = rows_for({("serial", 1): [0.95, 0.97, 0.99, 0.96]}, metric="cores_used")
    verdict = pc.cores_used("serial", at_least=0.9).evaluate(four)
    assert verdict.status == "inconclusive"
    assert "too few rounds" in verdict.reason


def test_utilization_and_bounded() -> None:
    rows = rows_for({("threads", 16): [0.05] * 6}, metric="utilization")
    assert pc.utilization("threads-16", at_most=0.5).evaluate(rows).status == "confirmed"
    rows = rows_for({("processes", 2): [40, 50, 60, 70, 80]}, metric="ctx_involuntary")
    verdict = pc.bounded("processes-2", metric="ctx_involuntary", at_least=4).evaluate(rows)
    assert verdict.status == "confirmed"
    assert verdict.median_subject == 60


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: pc.faster("a", than="b", by=0), "by must be a positive number"),
        (lambda: pc.faster("a", than="b", by=math.inf), "by must be a positive number"),
        (lambda: pc.cores_used("a"), "give at_least=, at_most= or both"),
        (lambda: pc.cores_used("a", at_least=2, at_most=1), "is above at_most"),
        (lambda: pc.similar("a", "b", within=0.5), "within must be above 1"),
        (lambda: pc.speeds_up("a", at_least=-1), "at_least must be a positive number"),
        (lambda: pc.faster(3, than="b"), "subject must be"),  # type: ignore[arg-type]
    ],
)
def test_bad_expectations_are_claim_errors(build: Any, message: str) -> None:
    with pytest.raises(pc.ClaimError, match=message):
        build()


# ---------------------------------------------------------------------------- transport


ALL_KINDS = [
    pc.faster("processes-2", than=pc.variant("threads-2", cpus="one"), by=1.3),
    pc.not_faster("threads", than="serial", by=1.2),
    pc.smaller(
        pc.variant(kind="coroutines"), than=pc.variant(kind="threads"), metric="max_rss_bytes"
    ),
    pc.not_smaller("a-1", than="b-1", metric="cpu_s"),
    pc.similar("threads-2", "serial", within=1.3),
    pc.speeds_up("threads-8", at_least=4, at_most=9),
    pc.bounded("x", metric="wall_s", at_most=1.0),
    pc.cores_used("serial", at_least=0.9),
    pc.utilization("threads-16", at_most=0.5),
]


@pytest.mark.parametrize("expectation", ALL_KINDS, ids=lambda e: type(e).__name__)
def test_expectations_travel_as_plain_values(expectation: Any) -> None:
    plain = encode(expectation)
    assert json.loads(json.dumps(plain)) == plain  # nothing but JSON-able values
    assert decode(plain) == expectation


@dataclass(frozen=True)
class UserExpectation:
    subject: str
    limit: float

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        return pc.bounded(self.subject, metric="wall_s", at_most=self.limit).evaluate(rows)


def test_users_dataclasses_travel_too() -> None:
    mine = UserExpectation("serial", 1.0)
    assert decode(encode(mine)) == mine


def test_other_objects_become_unsendable() -> None:
    class Opaque:
        def evaluate(self, rows: pd.DataFrame) -> Verdict:
            raise AssertionError("never called")

    decoded = decode(encode(Opaque()))
    assert isinstance(decoded, Unsendable)
    verdict = decoded.evaluate(pd.DataFrame())
    assert verdict.status == "inconclusive"
    assert "frozen dataclass" in verdict.reason


def test_claim_spec_round_trip_survives_an_unimportable_class() -> None:
    spec = ClaimSpec(EXPERIMENT, "a claim", tuple(ALL_KINDS))
    plain = spec.to_plain()
    assert ClaimSpec.from_plain(plain) == spec
    plain["expect"][0]["__dataclass__"] = "no_such_module_xyz:Thing"
    rebuilt = ClaimSpec.from_plain(plain)
    verdict = rebuilt.expect[0].evaluate(pd.DataFrame())
    assert verdict.status == "inconclusive"
    assert "could not be rebuilt" in verdict.reason


# ---------------------------------------------------------------------------- claims


def _two_pythons() -> pd.DataFrame:
    gil = rows_for({("processes", 2): FAST, ("threads", 2): SLOW})
    free = rows_for({("processes", 2): FAST, ("threads", 2): FAST}, python="3.13.5t", gil=False)
    return pd.concat([gil, free], ignore_index=True)


def test_each_interpreter_gets_its_own_verdict() -> None:
    spec = ClaimSpec(
        EXPERIMENT,
        "4. CPU-bound -> processes",
        (pc.faster("processes-2", than="threads-2", by=1.3),),
    )
    verdicts = evaluate_claims(_two_pythons(), [spec])
    by_python = {v.python: v for v in verdicts}
    assert by_python["3.11.7"].status == "confirmed"
    assert by_python["3.13.5t"].status == "refuted"  # threads run in parallel there
    assert by_python["3.13.5t"].gil == "disabled"
    assert by_python["3.13.5t"].free_threaded is True
    assert {v.claim for v in verdicts} == {"4. CPU-bound -> processes"}
    assert {v.experiment for v in verdicts} == {EXPERIMENT}


def test_claim_status_combines_its_expectations() -> None:
    assert combine(["confirmed", "confirmed"]) == "confirmed"
    assert combine(["confirmed", "inconclusive"]) == "inconclusive"
    assert combine(["inconclusive", "refuted", "confirmed"]) == "refuted"
    assert combine([]) == "inconclusive"
    rows = rows_for({("processes", 2): FAST, ("threads", 2): SLOW})
    spec = ClaimSpec(
        EXPERIMENT,
        "claim",
        (pc.faster("processes-2", than="threads-2"), pc.faster("threads-2", than="processes-2")),
    )
    verdicts = evaluate_claims(rows, [spec])
    assert claim_statuses(verdicts) == {("claim", "3.11.7"): "refuted"}
    assert refuted_claims(verdicts) == ["claim (python 3.11.7)"]


def test_a_claim_without_expectations_is_inconclusive() -> None:
    rows = rows_for({("serial", 1): FAST})
    (verdict,) = evaluate_claims(rows, [ClaimSpec(EXPERIMENT, "just words", ())])
    assert verdict.status == "inconclusive"
    assert "no expectations" in verdict.reason


def test_an_expectation_that_raises_becomes_inconclusive() -> None:
    @dataclass(frozen=True)
    class Broken:
        def evaluate(self, rows: pd.DataFrame) -> Verdict:
            raise ZeroDivisionError("oops")

    @dataclass(frozen=True)
    class Wrong:
        def evaluate(self, rows: pd.DataFrame) -> object:
            return "yes"

    rows = rows_for({("serial", 1): FAST})
    verdicts = evaluate_claims(rows, [ClaimSpec(EXPERIMENT, None, (Broken(), Wrong()))])
    assert [v.status for v in verdicts] == ["inconclusive", "inconclusive"]
    assert "ZeroDivisionError: oops" in verdicts[0].reason
    assert "not a Verdict" in verdicts[1].reason
    assert verdicts[0].claim == f"{EXPERIMENT} (no claim text)"


def test_verdict_lines_show_status_numbers_and_interpreter() -> None:
    spec = ClaimSpec(
        EXPERIMENT,
        "4. CPU-bound -> processes",
        (pc.faster("processes-2", than="threads-2", by=1.3),),
    )
    lines = shown(evaluate_claims(_two_pythons(), [spec]))
    text = "\n".join(lines)
    assert "CONFIRMED     4. CPU-bound -> processes" in text
    assert "REFUTED       4. CPU-bound -> processes" in text
    assert "python 3.13.5t, free-threaded build, GIL disabled" in text
    assert "python 3.11.7, GIL build, GIL enabled" in text
    assert "p=" in text
    assert lines[-1].startswith("2 claim(s): 1 confirmed, 1 refuted, 0 inconclusive")
    assert shown([]) == ["no claims were stated (marker keywords claim= and expect=)"]


def test_verdict_lines_escape_control_characters() -> None:
    rows = rows_for({("serial", 1): FAST})
    spec = ClaimSpec(EXPERIMENT, "evil\x1b[31m claim\nnext", (pc.cores_used("serial", at_most=1),))
    text = "\n".join(shown(evaluate_claims(rows, [spec])))
    assert "\x1b" not in text
    assert "evil\\x1b[31m claim\\nnext" in text


def test_verdict_rows_carry_the_run() -> None:
    rows = rows_for({("processes", 2): FAST, ("threads", 2): SLOW})
    spec = ClaimSpec(EXPERIMENT, "claim", (pc.faster("processes-2", than="threads-2"),))
    environment = current_environment("run-1")
    (row,) = verdict_rows(evaluate_claims(rows, [spec]), environment)
    assert row["run_id"] == "run-1"
    assert row["claim_status"] == "confirmed"
    assert row["status"] == "confirmed"
    assert row["host"] == environment.host


def test_format_value_units() -> None:
    assert format_value(0.0005, "wall_s") == "500 us"
    assert format_value(0.25, "wall_s") == "250.0 ms"
    assert format_value(2.5, "cpu_s") == "2.500 s"
    assert format_value(3 * 2**20, "max_rss_bytes") == "3.0 MiB"
    assert format_value(0.25, "utilization") == "25%"
    assert format_value(None, "wall_s") == "-"
    assert format_value(math.nan, "cores_used") == "-"


def test_compare_describes_itself() -> None:
    assert pc.faster("processes-2", than="threads-2", by=1.3).describe() == (
        "processes-2 faster than threads-2 by >= 1.3x"
    )
    assert Compare(Select("a", 1), Select("b", 1), "cpu_s", negate=True).describe() == (
        "a-1 not smaller in cpu_s than b-1"
    )


def test_expectations_name_only_variants_the_experiment_runs() -> None:
    models, workers = ("serial", "threads"), (2, 4)
    assert pc.faster("threads-4", than="serial").problem_with(models, workers) is None
    assert (
        pc.speeds_up(pc.variant("threads", size=3), at_least=2).problem_with(models, workers)
        is None
    )
    typo = pc.faster("proceses-2", than="threads-2").problem_with(models, workers)
    assert typo == (
        "proceses-2 names model 'proceses'; this experiment runs serial, threads-2, threads-4"
    )
    count = pc.cores_used("threads-8", at_most=1).problem_with(models, workers)
    assert count is not None
    assert "threads-8 names 8 workers" in count
    baseline = pc.similar("threads-2", "processes-2").problem_with(models, workers)
    assert baseline is not None
    assert "'processes'" in baseline
