"""Option precedence as pure functions: the command line, then the environment variable,
then the ini key, then the default (the marker after the command line for an item's
rounds), and every bad value a usage error naming where it came from.

The wiring (pytest's options and ini keys reaching these functions) is tested end to end
once, in test_plugin.py's ``test_rounds_precedence_cli_marker_ini``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._running.configuration import (
    ACCOUNTING_ENV,
    AUTO,
    DEFAULT_QUIET_WAIT_S,
    DEFAULT_RETRIES,
    DEFAULT_ROUNDS,
    DEFAULT_SAMPLE_INTERVAL_S,
    DEFAULT_WARMUP,
    QUICK_ROUNDS,
    Settings,
    Sources,
    rounds_arg,
    settings_from,
)
from pytest_concur._running.schedule import plan_rounds
from pytest_concur._running.spec import ExperimentSpec


def settings(
    options: dict[str, Any] | None = None,
    ini: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    return settings_from(
        Sources(options=options or {}, ini=ini or {}, env=env or {},
                invocation_dir=Path("/started/here"), rootpath=Path("/root/dir"))
    )  # fmt: skip


def spec(rounds: int | str | None = None, warmup: int | None = None, **kw: Any) -> ExperimentSpec:
    return ExperimentSpec("cpu", ("serial",), (1,), rounds=rounds, warmup=warmup, **kw)  # type: ignore[arg-type]


def test_defaults_without_any_source() -> None:
    plan = plan_rounds(settings(), spec())
    assert (plan.warmup, plan.rounds, plan.adaptive, plan.timeout) == (
        DEFAULT_WARMUP, DEFAULT_ROUNDS, None, None
    )  # fmt: skip
    assert (plan.crowded_retries, plan.quiet_wait_s) == (DEFAULT_RETRIES, DEFAULT_QUIET_WAIT_S)
    got = settings()
    assert got.sample_interval == DEFAULT_SAMPLE_INTERVAL_S
    assert got.accounting is None
    assert got.results_dir == Path("/root/dir/results")


maybe_count = st.one_of(st.none(), st.integers(1, 50))


@given(cli=maybe_count, marker=maybe_count, ini=maybe_count)
def test_rounds_come_from_the_command_line_then_the_marker_then_ini(
    cli: int | None, marker: int | None, ini: int | None
) -> None:
    plan = plan_rounds(
        settings({"concur_rounds": cli}, {"concur_rounds": "" if ini is None else str(ini)}),
        spec(rounds=marker),
    )
    assert plan.rounds == next(v for v in (cli, marker, ini, DEFAULT_ROUNDS) if v is not None)
    assert plan.adaptive is None


@given(
    cli=st.one_of(st.none(), st.integers(0, 9)),
    marker=st.one_of(st.none(), st.integers(0, 9)),
    ini=st.one_of(st.none(), st.integers(0, 9)),
    quick=st.booleans(),
)
def test_warmup_comes_from_the_command_line_then_the_marker_then_ini_capped_when_quick(
    cli: int | None, marker: int | None, ini: int | None, quick: bool
) -> None:
    ini_text = "" if ini is None else str(ini)
    got = settings({"concur_warmup": cli, "concur_quick": quick}, {"concur_warmup": ini_text})
    plan = plan_rounds(got, spec(warmup=marker))
    expected = next(v for v in (cli, marker, ini, DEFAULT_WARMUP) if v is not None)
    assert plan.warmup == (min(expected, 1) if quick and cli is None else expected)


def test_quick_caps_what_the_command_line_did_not_set() -> None:
    assert plan_rounds(settings({"concur_quick": True}), spec(rounds=20)).rounds == QUICK_ROUNDS
    capped = settings({"concur_quick": True, "concur_rounds": 20})
    assert plan_rounds(capped, spec(rounds=3)).rounds == 20


def test_auto_on_the_command_line_holds_everywhere() -> None:
    got = settings({"concur_rounds": "auto", "concur_max_rounds": "6"})
    assert got.rounds is None
    for marker in (None, 3, "auto"):
        plan = plan_rounds(got, spec(rounds=marker))
        assert plan.adaptive is not None
        assert plan.adaptive.max_rounds == 6


def test_auto_in_the_ini_file_gives_way_to_any_count() -> None:
    ini = {"concur_rounds": "auto"}
    assert plan_rounds(settings(ini=ini), spec()).adaptive is not None
    assert plan_rounds(settings(ini=ini), spec(rounds=3)).adaptive is None
    assert plan_rounds(settings({"concur_rounds": 2}, ini), spec()).adaptive is None
    assert plan_rounds(settings({"concur_quick": True}, ini), spec()).adaptive is None
    assert settings(ini=ini).ini_rounds is None  # "auto" is no count


def test_the_markers_auto_beats_the_ini_count_but_not_the_command_lines() -> None:
    ini = {"concur_rounds": "2", "concur_max_rounds": "6"}
    plan = plan_rounds(settings(ini=ini), spec(rounds="auto"))
    assert plan.adaptive is not None
    assert plan.adaptive.max_rounds == 6
    plan = plan_rounds(settings({"concur_rounds": 3}, ini), spec(rounds="auto"))
    assert (plan.adaptive, plan.rounds) == (None, 3)
    assert plan_rounds(settings({"concur_quick": True}, ini), spec(rounds="auto")).adaptive is None


def test_the_markers_timeout_wins_over_the_command_line_over_ini() -> None:
    ini = {"concur_timeout": "10"}
    assert plan_rounds(settings(ini=ini), spec()).timeout == 10.0
    assert plan_rounds(settings({"concur_timeout": 0.3}, ini), spec()).timeout == 0.3
    assert plan_rounds(settings({"concur_timeout": 0.3}, ini), spec(timeout=5.0)).timeout == 5.0


def test_accounting_option_then_environment_then_ini() -> None:
    ini = {"concur_accounting": "proc"}
    env = {ACCOUNTING_ENV: "psutil"}
    assert settings(ini=ini).accounting == "proc"
    assert settings(ini=ini, env=env).accounting == "psutil"
    assert settings({"concur_accounting": "proc"}, ini, env).accounting == "proc"
    with pytest.raises(pytest.UsageError, match=f"^{ACCOUNTING_ENV}: unknown value 'perf'"):
        settings(env={ACCOUNTING_ENV: "perf"})
    with pytest.raises(pytest.UsageError, match=r"^ini option concur_accounting: unknown value"):
        settings(ini={"concur_accounting": "perf"})


def test_sample_interval_zero_turns_sampling_off() -> None:
    assert settings(ini={"concur_sample_interval": "0.5"}).sample_interval == 0.5
    assert (
        settings({"concur_sample_interval": 0.2}, {"concur_sample_interval": "0.5"}).sample_interval
        == 0.2
    )
    assert settings(ini={"concur_sample_interval": "0"}).sample_interval is None


def test_paths_from_the_command_line_are_relative_to_where_pytest_started() -> None:
    assert settings({"concur_results": "out"}).results_dir == Path("/started/here/out")
    assert settings(ini={"concur_results": "ini-out"}).results_dir == Path("/root/dir/ini-out")
    assert settings({"concur_html": "r.html"}).html == Path("/started/here/r.html")


def test_adaptive_rounds_settings_from_options_and_ini() -> None:
    got = settings(
        {"concur_rounds": "auto", "concur_target_width": "5%"},
        {"concur_target_width": "0.01", "concur_min_rounds": "3", "concur_item_budget": "9"},
    )
    design = got.auto_rounds.design()
    assert (design.min_rounds, design.half_width, design.budget_s) == (3, 0.05, 9.0)
    got = settings({"concur_crowded_retries": "0"}, {"concur_quiet_wait": "1.5"})
    assert (got.crowded_retries, got.quiet_wait_s) == (0, 1.5)


def test_compare_fail_alone_compares_with_the_newest_run() -> None:
    assert settings().compare is None
    assert settings({"concur_compare_fail": ("x",)}).compare == ""
    assert settings({"concur_compare": "abc", "concur_compare_fail": ("x",)}).compare == "abc"


@pytest.mark.parametrize(
    ("options", "ini", "message"),
    [
        ({}, {"concur_timeout": "soon"}, "ini option concur_timeout: expected seconds"),
        ({}, {"concur_rounds": "0"}, "ini option concur_rounds: must be at least 1"),
        ({}, {"concur_warmup": "-1"}, "ini option concur_warmup: must be at least 0"),
        ({"concur_min_rounds": "2.5"}, {}, "--concur-min-rounds: expected a whole number"),
        ({}, {"concur_target_width": "wide"},
         "ini option concur_target_width: expected a number, got 'wide'"),
        ({"concur_crowded_retries": "-1"}, {}, "--concur-crowded-retries: must be 0 or more"),
        ({"concur_quiet_wait": "-1"}, {}, "--concur-quiet-wait: seconds must be 0 or more"),
        ({"concur_rounds": "auto", "concur_min_rounds": "8", "concur_max_rounds": "6"}, {},
         r"--concur-rounds auto: the minimum of rounds \(8\) is above the maximum \(6\)"),
        ({}, {"concur_rounds": "auto", "concur_item_budget": "0"},
         "--concur-rounds auto: the time budget must be above 0"),
        ({"concur_save": "name", "concur_no_save": True}, {},
         "--concur-save NAME and --concur-no-save contradict each other"),
        ({"concur_workload": ("gpu",)}, {}, "--concur-workload: unknown value 'gpu'"),
    ],
)  # fmt: skip
def test_bad_values_are_usage_errors_naming_where_they_came_from(
    options: dict[str, Any], ini: dict[str, str], message: str
) -> None:
    with pytest.raises(pytest.UsageError, match=f"^{message}"):
        settings(options, ini)


def test_model_names_are_checked_once_known() -> None:
    sources = Sources(options={"concur_models": ("threads", "fibers")})
    assert settings_from(sources).models == ("threads", "fibers")  # unchecked until known
    with pytest.raises(pytest.UsageError, match=r"^--concur-models: unknown value 'fibers'"):
        settings_from(sources, known_models=("serial", "threads"))


def test_rounds_on_the_command_line_are_a_count_or_auto() -> None:
    assert (rounds_arg("7"), rounds_arg(" Auto ")) == (7, AUTO)
    with pytest.raises(
        argparse.ArgumentTypeError, match="a number of rounds or 'auto', got 'many'"
    ):
        rounds_arg("many")
    with pytest.raises(argparse.ArgumentTypeError, match="must be at least 1, got 0"):
        rounds_arg("0")
