"""Command-line options and ini keys resolved into one immutable Settings object."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .._reporting.thresholds import Threshold, parse_thresholds
from . import round_options
from .accounting_option import add_accounting_option, read_accounting
from .spec import START_METHODS, WORKLOADS, ExperimentSpec

DEFAULT_ROUNDS = 5
DEFAULT_WARMUP = 1
#: --concur-quick caps rounds here: 5 is the fewest at which a sign test can reach
#: p < 0.05 (0.5**5 = 0.031), and 5 against 5 rounds reach p = 0.004 in a rank test.
QUICK_ROUNDS = 5
QUICK_WARMUP = 1


def comma_list(text: str) -> tuple[str, ...]:
    items = tuple(part.strip() for part in text.split(",") if part.strip())
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, got nothing")
    return items


def positive_int_list(text: str) -> tuple[int, ...]:
    values: list[int] = []
    for part in comma_list(text):
        if not part.isdigit() or int(part) <= 0:
            raise argparse.ArgumentTypeError(
                f"worker counts must be positive integers, got {part!r}"
            )
        values.append(int(part))
    return tuple(values)


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = _int_at_least(1)
non_negative_int = _int_at_least(0)

#: seconds between per-core samples unless told otherwise: about 0.4% of one core here
DEFAULT_SAMPLE_INTERVAL_S = 0.1


def _seconds(*, allow_zero: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            bound = "zero or more" if allow_zero else "more than zero"
            raise argparse.ArgumentTypeError(f"seconds must be {bound}, got {text!r}")
        return value

    return parse


positive_seconds = _seconds(allow_zero=False)
non_negative_seconds = _seconds(allow_zero=True)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("concur", "concurrency experiments (pytest-concur)")
    group.addoption(
        "--concur-report",
        action="store_true",
        default=False,
        help="print a table per experiment after the run: wall time, CPU, cores, speedup",
    )
    group.addoption(
        "--concur-results",
        metavar="DIR",
        default=None,
        help="folder for the Parquet results of this session (default: ini "
        "concur_results, else results/)",
    )
    group.addoption(
        "--concur-no-save",
        action="store_true",
        default=False,
        help="measure and report, but write no results file",
    )
    group.addoption(
        "--concur-rounds",
        metavar="N|auto",
        type=round_options.rounds_arg,
        default=None,
        help="measured rounds per experiment variant; overrides the marker and ini "
        f"(default {DEFAULT_ROUNDS}); auto: until each median is known to "
        "--concur-target-width (docs/adaptive-rounds.md)",
    )
    group.addoption(
        "--concur-warmup",
        metavar="N",
        type=non_negative_int,
        default=None,
        help="unmeasured-for-statistics warm-up rounds before them; overrides the "
        f"marker and ini (default {DEFAULT_WARMUP}); warm-up rows are still stored",
    )
    group.addoption(
        "--concur-models",
        metavar="NAMES",
        type=comma_list,
        default=None,
        help="run only these models, e.g. threads,processes",
    )
    group.addoption(
        "--concur-workers",
        metavar="COUNTS",
        type=positive_int_list,
        default=None,
        help="run only these worker counts, e.g. 1,2 (serial always counts as 1)",
    )
    group.addoption(
        "--concur-workload",
        metavar="TYPES",
        type=comma_list,
        default=None,
        help="run only experiments of these workload types: " + ", ".join(WORKLOADS),
    )
    group.addoption(
        "--concur-start-method",
        metavar="METHOD",
        choices=START_METHODS,
        default=None,
        help="process start method for process-based models unless the marker "
        "names one: " + ", ".join(START_METHODS),
    )
    group.addoption(
        "--concur-allow-overlap",
        action="store_true",
        default=False,
        help="under pytest-xdist, let workers measure rounds at the same time (faster, but "
        "rounds disturb each other; rows record exclusive=False); by default one worker "
        "per host measures at a time",
    )
    group.addoption(
        "--concur-compare",
        metavar="RUN|PATH",
        nargs="?",
        const="",
        default=None,
        help="after the run, compare this session with a stored run: a run id in the results "
        "folder, or a results file, folder or glob; with no value, the newest stored run "
        "(write --concur-compare=RUN when test paths follow)",
    )
    group.addoption(
        "--concur-compare-fail",
        metavar="METRIC:LIMIT",
        type=_thresholds_arg,
        default=None,
        help="fail the session when a variant got significantly slower than the compared run "
        "by more than this, e.g. wall:10%% or wall:10%%,rss:20%%; implies --concur-compare",
    )
    group.addoption(
        "--concur-html",
        metavar="FILE",
        default=None,
        help="write a self-contained HTML report with plots of this session to FILE",
    )
    group.addoption(
        "--concur-timeout",
        metavar="SECONDS",
        type=positive_seconds,
        default=None,
        help="stop a round that runs longer, fail it, and kill every process it started; "
        "a marker's timeout= wins (default: ini concur_timeout, else no limit)",
    )
    group.addoption(
        "--concur-sample-interval",
        metavar="SECONDS",
        type=non_negative_seconds,
        default=None,
        help="sample every CPU's busy fraction this often during rounds, from a separate "
        f"process; 0 turns it off (default: ini concur_sample_interval, else "
        f"{DEFAULT_SAMPLE_INTERVAL_S})",
    )
    group.addoption(
        "--concur-no-tasks",
        action="store_true",
        default=False,
        help="do not record per-task spans (the tasks table); saves about a microsecond per task",
    )
    group.addoption(
        "--concur-dask-scheduler",
        metavar="ADDRESS",
        default=None,
        help="run the dask model's tasks on this existing scheduler (e.g. "
        "tcp://10.0.0.5:8786) instead of a local cluster per round",
    )
    group.addoption(
        "--concur-quick",
        action="store_true",
        default=False,
        help=f"quick mode: at most {QUICK_ROUNDS} measured rounds and {QUICK_WARMUP} warm-up "
        "round per variant, unless --concur-rounds/--concur-warmup say otherwise (enough "
        "for a verdict; for CI)",
    )
    group.addoption(
        "--concur-strict",
        action="store_true",
        default=False,
        help="fail the session (exit status 1) when an experiment's claim is refuted",
    )
    round_options.add_round_options(group, parser)
    parser.addini("concur_timeout", "round time limit in seconds", default=None)
    parser.addini(
        "concur_sample_interval",
        "seconds between per-core samples; 0 turns them off",
        default=None,
    )
    add_accounting_option(group, parser)
    parser.addini("concur_rounds", "measured rounds per experiment variant, or auto", default=None)
    parser.addini("concur_warmup", "warm-up rounds per experiment variant", default=None)
    parser.addini("concur_results", "folder for Parquet results", default=None)


@dataclass(frozen=True, slots=True)
class Settings:
    report: bool
    save: bool
    results_dir: Path
    rounds: int | None
    warmup: int | None
    ini_rounds: int | None
    ini_warmup: int | None
    models: tuple[str, ...] | None
    workers: tuple[int, ...] | None
    workloads: tuple[str, ...] | None
    start_method: str | None
    allow_overlap: bool = False
    #: None: no comparison; "": the newest stored run; else a run id or results path
    compare: str | None = None
    compare_fail: tuple[Threshold, ...] = ()
    html: Path | None = None
    #: round time limit unless the marker sets one; None: no limit
    timeout: float | None = None
    #: seconds between per-core samples; None: sampling off
    sample_interval: float | None = DEFAULT_SAMPLE_INTERVAL_S
    task_timeline: bool = True
    dask_scheduler: str | None = None
    #: cap rounds and warm-up at QUICK_ROUNDS / QUICK_WARMUP (explicit options still win)
    quick: bool = False
    #: a refuted claim fails the session
    strict: bool = False
    #: the accounting backend asked for (proc, psutil); None: the best one here
    accounting: str | None = None
    #: adaptive rounds and crowded-round repeats (_running/round_options.py)
    policy: round_options.RoundPolicy = field(default_factory=round_options.RoundPolicy)

    def round_timeout(self, spec: ExperimentSpec) -> float | None:
        """The marker's timeout, else the command line's or ini's (as pytest-timeout does)."""
        return spec.timeout if spec.timeout is not None else self.timeout

    def plan(self, spec: ExperimentSpec) -> tuple[int, int]:
        """(warm-up, measured) rounds: command line, then marker, then ini, then default."""
        marker = spec.rounds if spec.rounds != "auto" else None  # a count, if it gives one
        rounds = next(
            v for v in (self.rounds, marker, self.ini_rounds, DEFAULT_ROUNDS) if v is not None
        )
        warmup = next(
            v for v in (self.warmup, spec.warmup, self.ini_warmup, DEFAULT_WARMUP) if v is not None
        )
        if self.quick:
            rounds = rounds if self.rounds is not None else min(rounds, QUICK_ROUNDS)
            warmup = warmup if self.warmup is not None else min(warmup, QUICK_WARMUP)
        return warmup, rounds


def _thresholds_arg(text: str) -> tuple[Threshold, ...]:
    try:
        return parse_thresholds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _compare_source(config: pytest.Config) -> str | None:
    """What --concur-compare names; --concur-compare-fail alone means the newest run."""
    source: str | None = config.getoption("concur_compare")
    if source is None and config.getoption("concur_compare_fail"):
        return ""
    return source


def _ini_int(config: pytest.Config, name: str, minimum: int) -> int | None:
    raw = config.getini(name)
    if raw in (None, ""):
        return None
    try:
        return _int_at_least(minimum)(str(raw).strip())
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini option {name}: {exc}") from None


def check_models(models: Iterable[str] | None, known_models: Iterable[str]) -> None:
    _check_names("--concur-models", models, known_models)


def _check_names(option: str, values: Iterable[str] | None, known: Iterable[str]) -> None:
    if values is None:
        return
    valid = set(known)
    for value in values:
        if value not in valid:
            raise pytest.UsageError(
                f"{option}: unknown value {value!r}; choose from: {', '.join(sorted(valid))}"
            )


def read_settings(config: pytest.Config, known_models: Iterable[str] | None) -> Settings:
    """Resolve options and ini keys; bad values are usage errors, as pytest's own are.

    ``known_models`` None leaves model names unchecked (check them with
    :func:`check_models` once the registry is loaded).
    """
    # a command-line path is relative to where pytest was started; an ini path and the
    # default are relative to the rootdir, like other pytest settings
    cli_results = config.getoption("concur_results")
    if cli_results:
        results_dir = Path(config.invocation_params.dir, cli_results)
    else:
        results_dir = Path(config.rootpath, config.getini("concur_results") or "results")
    models = config.getoption("concur_models")
    workloads = config.getoption("concur_workload")
    if known_models is not None:
        check_models(models, known_models)
    _check_names("--concur-workload", workloads, WORKLOADS)
    html = config.getoption("concur_html")
    policy = round_options.read_round_policy(config)
    return Settings(
        report=bool(config.getoption("concur_report")),
        save=not config.getoption("concur_no_save"),
        results_dir=results_dir,
        rounds=None if policy.adaptive else config.getoption("concur_rounds"),
        warmup=config.getoption("concur_warmup"),
        ini_rounds=None if policy.ini_auto else _ini_int(config, "concur_rounds", 1),
        ini_warmup=_ini_int(config, "concur_warmup", 0),
        models=models,
        workers=config.getoption("concur_workers"),
        workloads=workloads,
        start_method=config.getoption("concur_start_method"),
        allow_overlap=bool(config.getoption("concur_allow_overlap")),
        compare=_compare_source(config),
        compare_fail=config.getoption("concur_compare_fail") or (),
        html=Path(config.invocation_params.dir, html) if html else None,
        timeout=_option_or_ini(config, "concur_timeout", positive_seconds),
        sample_interval=_sample_interval(config),
        task_timeline=not config.getoption("concur_no_tasks"),
        dask_scheduler=config.getoption("concur_dask_scheduler"),
        quick=bool(config.getoption("concur_quick")),
        strict=bool(config.getoption("concur_strict")),
        accounting=read_accounting(config),
        policy=policy,
    )



def _option_or_ini(config: pytest.Config, name: str, parse: Callable[[str], float]) -> float | None:
    value: float | None = config.getoption(name)
    if value is not None:
        return value
    raw = config.getini(name)
    if raw in (None, ""):
        return None
    try:
        return parse(str(raw).strip())
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini option {name}: {exc}") from None


def _sample_interval(config: pytest.Config) -> float | None:
    value = _option_or_ini(config, "concur_sample_interval", non_negative_seconds)
    if value is None:
        return DEFAULT_SAMPLE_INTERVAL_S
    return value if value > 0 else None
