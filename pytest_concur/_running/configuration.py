"""Every option and ini key of pytest-concur: declared here, read here, into one Settings.

Imported by every pytest run (with ``plugin.py``, all that a run without experiments
loads): the standard library and pytest only, anything else imported where it is used.
Precedence, for every setting: the command line, then the environment variable where one
exists (``CONCUR_ACCOUNTING``), then the ini key, then the default; for rounds, warm-up
and the time limit the marker comes after the command line (an item's rounds are planned
by ``_running/schedule.py``'s ``plan_rounds``). :func:`sources_of` takes the raw values
from pytest and :func:`settings_from` (pure) resolves them. A bad value is a usage error
naming where it came from (``--concur-x``, ``ini option concur_x``, the variable).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import pytest

if TYPE_CHECKING:  # imported when an experiment runs, not by every pytest run
    from .._reporting.thresholds import Threshold
    from .._stats.sequential import SequentialDesign

T = TypeVar("T")

#: Workload types an experiment can be tagged with; each is also a pytest marker.
WORKLOADS: Final[Mapping[str, str]] = {
    "cpu": "CPU-bound work: computation that keeps a core busy",
    "io": "IO-bound work: waiting on files, sockets or timers",
    "mixed": "work that both computes and waits",
    "switch": "work dominated by switching between tasks (ping-pong)",
    "memory": "work dominated by allocating or touching memory",
}
START_METHODS: Final = ("fork", "forkserver", "spawn")
ACCOUNTING_BACKENDS: Final = ("proc", "psutil")
ACCOUNTING_ENV: Final = "CONCUR_ACCOUNTING"
AUTO: Final = "auto"

DEFAULT_ROUNDS: Final = 5
DEFAULT_WARMUP: Final = 1
#: --concur-quick caps rounds here: 5 is the fewest at which a sign test can reach
#: p < 0.05 (0.5**5 = 0.031), and 5 against 5 rounds reach p = 0.004 in a rank test.
QUICK_ROUNDS: Final = 5
QUICK_WARMUP: Final = 1
#: seconds between per-core samples unless told otherwise: about 0.4% of one core here
DEFAULT_SAMPLE_INTERVAL_S: Final = 0.1
#: adaptive rounds (--concur-rounds auto, _stats/sequential.py): the fewest and most
#: measured rounds, the target relative half-width, the per-item time budget in seconds
DEFAULT_MIN_ROUNDS: Final = 5
DEFAULT_MAX_ROUNDS: Final = 10
DEFAULT_HALF_WIDTH: Final = 0.03
DEFAULT_BUDGET_S: Final = 120.0
#: crowded rounds measured again per variant, and the wait for quiet before each
DEFAULT_RETRIES: Final = 3
DEFAULT_QUIET_WAIT_S: Final = 5.0


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


def rounds_arg(text: str) -> int | str:
    """``--concur-rounds``: a positive integer, or ``auto``."""
    if text.strip().lower() == AUTO:
        return AUTO
    if not text.strip().removeprefix("-").isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of rounds or 'auto', got {text!r}")
    return positive_int(text)


def _number(*, integer: bool) -> Callable[[str], float]:
    """A number, or a percentage (``3%`` is 0.03)."""

    def parse(text: str) -> float:
        try:
            value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or (integer and not value.is_integer()):
            kind = "a whole number" if integer else "a finite number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}")
        return value

    return parse


def _choice(choices: Iterable[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text in choices:
            return text
        raise argparse.ArgumentTypeError(
            f"unknown value {text!r}; choose from: {', '.join(choices)}"
        )

    return parse


def thresholds_arg(text: str) -> tuple[Threshold, ...]:
    from .._reporting.thresholds import parse_thresholds

    try:
        return parse_thresholds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: ini keys (read as text, parsed by the setting that uses them), then the options
INI_KEYS: Final = (
    ("concur_results", "folder for Parquet results"),
    ("concur_rounds", "measured rounds per experiment variant, or auto"),
    ("concur_warmup", "warm-up rounds per experiment variant"),
    ("concur_timeout", "round time limit in seconds"),
    ("concur_sample_interval", "seconds between per-core samples; 0 turns them off"),
    ("concur_accounting", "process-tree accounting backend: proc or psutil"),
    ("concur_min_rounds", "--concur-rounds auto: fewest measured rounds per variant"),
    ("concur_max_rounds", "--concur-rounds auto: most measured rounds per variant"),
    ("concur_target_width", "--concur-rounds auto: target relative half-width, e.g. 3%"),
    ("concur_item_budget", "--concur-rounds auto: seconds per variant"),
    ("concur_crowded_retries", "crowded rounds measured again per variant"),
    ("concur_quiet_wait", "seconds to wait for a quiet machine before a repeat"),
)


def _flag(help: str) -> dict[str, Any]:  # an on/off option, off unless given
    return {"action": "store_true", "default": False, "help": help}


OPTIONS: Final[tuple[tuple[str, dict[str, Any]], ...]] = (
    ("--concur-report", _flag(
        "print a table per experiment after the run: wall time, CPU, cores, speedup")),
    ("--concur-results", {"metavar": "DIR", "default": None, "help":
        "folder for the Parquet results of this session (default: ini concur_results, "
        "else results/)"}),
    ("--concur-no-save", _flag("measure and report, but write no results file")),
    ("--concur-rounds", {"metavar": "N|auto", "type": rounds_arg, "default": None, "help":
        "measured rounds per experiment variant; overrides the marker and ini "
        f"(default {DEFAULT_ROUNDS}); auto: until each median is known to "
        "--concur-target-width (docs/adaptive-rounds.md)"}),
    ("--concur-warmup", {"metavar": "N", "type": non_negative_int, "default": None, "help":
        "unmeasured-for-statistics warm-up rounds before them; overrides the "
        f"marker and ini (default {DEFAULT_WARMUP}); warm-up rows are still stored"}),
    ("--concur-models", {"metavar": "NAMES", "type": comma_list, "default": None, "help":
        "run only these models, e.g. threads,processes"}),
    ("--concur-workers", {"metavar": "COUNTS", "type": positive_int_list, "default": None,
        "help": "run only these worker counts, e.g. 1,2 (serial always counts as 1)"}),
    ("--concur-workload", {"metavar": "TYPES", "type": comma_list, "default": None, "help":
        "run only experiments of these workload types: " + ", ".join(WORKLOADS)}),
    ("--concur-start-method", {"metavar": "METHOD", "choices": START_METHODS, "default": None,
        "help": "process start method for process-based models unless the marker "
        "names one: " + ", ".join(START_METHODS)}),
    ("--concur-allow-overlap", _flag(
        "under pytest-xdist, let workers measure rounds at the same time (faster, but "
        "rounds disturb each other; rows record exclusive=False); by default one worker "
        "per host measures at a time")),
    ("--concur-compare", {"metavar": "RUN|PATH", "nargs": "?", "const": "", "default": None,
        "help": "after the run, compare this session with a stored run: a run id in the "
        "results folder, or a results file, folder or glob; with no value, the newest "
        "stored run (write --concur-compare=RUN when test paths follow)"}),
    ("--concur-compare-fail", {"metavar": "METRIC:LIMIT", "type": thresholds_arg,
        "default": None, "help": "fail the session when a variant got significantly "
        "slower than the compared run by more than this, e.g. wall:10%% or "
        "wall:10%%,rss:20%%; implies --concur-compare"}),
    ("--concur-html", {"metavar": "FILE", "default": None, "help":
        "write a self-contained HTML report with plots of this session to FILE"}),
    ("--concur-timeout", {"metavar": "SECONDS", "type": positive_seconds, "default": None,
        "help": "stop a round that runs longer, fail it, and kill every process it "
        "started; a marker's timeout= wins (default: ini concur_timeout, else no limit)"}),
    ("--concur-sample-interval", {"metavar": "SECONDS", "type": non_negative_seconds,
        "default": None, "help": "sample every CPU's busy fraction this often during "
        "rounds, from a separate process; 0 turns it off (default: ini "
        f"concur_sample_interval, else {DEFAULT_SAMPLE_INTERVAL_S})"}),
    ("--concur-no-tasks", _flag(
        "do not record per-task spans (the tasks table); saves about a microsecond per task")),
    ("--concur-dask-scheduler", {"metavar": "ADDRESS", "default": None, "help":
        "run the dask model's tasks on this existing scheduler (e.g. "
        "tcp://10.0.0.5:8786) instead of a local cluster per round"}),
    ("--concur-quick", _flag(
        f"quick mode: at most {QUICK_ROUNDS} measured rounds and {QUICK_WARMUP} warm-up "
        "round per variant, unless --concur-rounds/--concur-warmup say otherwise (enough "
        "for a verdict; for CI)")),
    ("--concur-strict", _flag(
        "fail the session (exit status 1) when an experiment's claim is refuted")),
    ("--concur-min-rounds", {"metavar": "N", "default": None, "help":
        "--concur-rounds auto: measured rounds every variant runs at least "
        f"(default: ini concur_min_rounds, else {DEFAULT_MIN_ROUNDS})"}),
    ("--concur-max-rounds", {"metavar": "N", "default": None, "help":
        "--concur-rounds auto: measured rounds a variant runs at most "
        f"(default: ini concur_max_rounds, else {DEFAULT_MAX_ROUNDS})"}),
    ("--concur-target-width", {"metavar": "FRACTION", "default": None, "help":
        "--concur-rounds auto: stop a variant once its median's interval is within "
        "this of the median, e.g. 3%% or 0.03 (default: ini concur_target_width, else "
        f"{DEFAULT_HALF_WIDTH * 100:g}%%)"}),
    ("--concur-item-budget", {"metavar": "SECONDS", "default": None, "help":
        "--concur-rounds auto: stop a variant after this many seconds, once it has its "
        f"minimum of rounds (default: ini concur_item_budget, else {DEFAULT_BUDGET_S:g})"}),
    ("--concur-crowded-retries", {"metavar": "N", "default": None, "help":
        "measure a crowded round (other processes kept the CPUs busy) again, up to N "
        "times per variant; 0 turns it off (default: ini concur_crowded_retries, else "
        f"{DEFAULT_RETRIES})"}),
    ("--concur-quiet-wait", {"metavar": "SECONDS", "default": None, "help":
        "before measuring a crowded round again, wait at most this long for the machine "
        f"to quiet (default: ini concur_quiet_wait, else {DEFAULT_QUIET_WAIT_S:g})"}),
    ("--concur-accounting", {"choices": ACCOUNTING_BACKENDS, "default": None, "help":
        "how the process tree is measured: proc (Linux /proc, the default there) or "
        f"psutil (portable, coarser); also the environment variable {ACCOUNTING_ENV}"}),
    ("--concur-save", {"metavar": "NAME", "default": None, "help":
        "save the results (as by default) and give the run this name, shown by "
        "`pytest-concur list` and usable in place of its run id in `report` and `compare`"}),
    ("--concur-check-system", _flag(
        "print the system check (frequency governor, boost, virtualisation and steal, CPU "
        "quota) and exit, as `pyperf system show` does")),
)  # fmt: skip


def add_options(parser: pytest.Parser) -> None:
    """Declare every option and ini key of the plugin."""
    group = parser.getgroup("concur", "concurrency experiments (pytest-concur)")
    for flag, keywords in OPTIONS:
        group.addoption(flag, **keywords)
    for key, text in INI_KEYS:
        parser.addini(key, text, default=None)


@dataclass(frozen=True, slots=True)
class Sources:
    """The raw values settings are resolved from: what :func:`sources_of` takes from pytest."""

    #: command-line values by option dest (``concur_timeout``); None: not given
    options: Mapping[str, Any] = field(default_factory=dict)
    #: ini values by key, as text; None or "": not set
    ini: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)  # the environment variables
    #: where pytest was started (command-line paths) and its rootdir (ini paths, default)
    invocation_dir: Path = Path()
    rootpath: Path = Path()


def _dest(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def sources_of(config: pytest.Config) -> Sources:
    return Sources(
        options={_dest(flag): config.getoption(_dest(flag)) for flag, _ in OPTIONS},
        ini={key: config.getini(key) for key, _ in INI_KEYS},
        env={ACCOUNTING_ENV: os.environ.get(ACCOUNTING_ENV, "")},
        invocation_dir=config.invocation_params.dir,
        rootpath=config.rootpath,
    )


def setting(
    sources: Sources, name: str, parse: Callable[[str], T], *, env: str | None = None,
    command_line: bool = True,
) -> T | None:  # fmt: skip
    """The command line's value, else the environment variable's, else the ini key's; None
    when none sets it (``command_line`` False: the option is read apart). A value argparse
    parsed is taken as it is; any other is parsed here, a bad one a usage error."""
    given = sources.options.get(name) if command_line else None
    if given is not None and not isinstance(given, str):
        return given  # type: ignore[no-any-return]  # argparse's type= parsed it
    for where, raw in (
        ("--" + name.replace("_", "-"), given),
        (env, sources.env.get(env) if env is not None else None),
        (f"ini option {name}", sources.ini.get(name)),
    ):
        if raw is None or str(raw).strip() == "":
            continue
        try:
            return parse(str(raw).strip())
        except argparse.ArgumentTypeError as exc:
            raise pytest.UsageError(f"{where}: {exc}") from None
    return None


def check_names(option: str, values: Iterable[str] | None, known: Iterable[str]) -> None:
    if values is None:
        return
    valid = set(known)
    for value in values:
        if value not in valid:
            raise pytest.UsageError(
                f"{option}: unknown value {value!r}; choose from: {', '.join(sorted(valid))}"
            )


@dataclass(frozen=True, slots=True)
class AutoRounds:
    """``--concur-rounds auto``: who asks for it, and the stopping rule's numbers."""

    #: the command line or the ini file asks every experiment for adaptive rounds
    everywhere: bool = False
    #: ``auto`` came from the ini file: the marker's and the command line's counts win
    from_ini: bool = False
    min_rounds: int = DEFAULT_MIN_ROUNDS
    max_rounds: int = DEFAULT_MAX_ROUNDS
    half_width: float = DEFAULT_HALF_WIDTH
    budget_s: float = DEFAULT_BUDGET_S

    def design(self) -> SequentialDesign:
        """The stopping rule; a ValueError names a bad combination."""
        from .._stats.sequential import SequentialDesign

        return SequentialDesign(
            min_rounds=self.min_rounds, max_rounds=self.max_rounds,
            half_width=self.half_width, budget_s=self.budget_s,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    report: bool = False
    save: bool = True
    results_dir: Path = Path("results")
    #: the command line's rounds (None with ``auto``, which ``auto_rounds`` records)
    rounds: int | None = None
    warmup: int | None = None
    ini_rounds: int | None = None
    ini_warmup: int | None = None
    models: tuple[str, ...] | None = None
    workers: tuple[int, ...] | None = None
    workloads: tuple[str, ...] | None = None
    start_method: str | None = None
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
    strict: bool = False
    #: the accounting backend asked for (proc, psutil); None: the best one here
    accounting: str | None = None
    auto_rounds: AutoRounds = field(default_factory=AutoRounds)
    crowded_retries: int = DEFAULT_RETRIES
    quiet_wait_s: float = DEFAULT_QUIET_WAIT_S


def read_settings(config: pytest.Config, known_models: Iterable[str] | None) -> Settings:
    """Resolve options and ini keys; bad values are usage errors, as pytest's own are.

    ``known_models`` None leaves model names unchecked (check them with
    :func:`check_names` once the registry is loaded).
    """
    return settings_from(sources_of(config), known_models)


def settings_from(sources: Sources, known_models: Iterable[str] | None = None) -> Settings:
    """:func:`read_settings` on values already taken from pytest (pure)."""
    option = sources.options.get
    # a command-line path is relative to where pytest was started; an ini path and the
    # default are relative to the rootdir, like other pytest settings
    cli_results = option("concur_results")
    if cli_results:
        results_dir = Path(sources.invocation_dir, cli_results)
    else:
        results_dir = Path(sources.rootpath, sources.ini.get("concur_results") or "results")
    models = option("concur_models")
    workloads = option("concur_workload")
    if known_models is not None:
        check_names("--concur-models", models, known_models)
    check_names("--concur-workload", workloads, WORKLOADS)
    html = option("concur_html")
    auto_rounds = _auto_rounds(sources)
    compare: str | None = option("concur_compare")
    if compare is None and option("concur_compare_fail"):
        compare = ""  # --concur-compare-fail alone compares with the newest run
    if option("concur_save") is not None and option("concur_no_save"):
        raise pytest.UsageError("--concur-save NAME and --concur-no-save contradict each other")
    retries = setting(sources, "concur_crowded_retries", _number(integer=True))
    retries = DEFAULT_RETRIES if retries is None else retries
    if retries < 0:
        raise pytest.UsageError(f"--concur-crowded-retries: must be 0 or more, got {retries:g}")
    wait = setting(sources, "concur_quiet_wait", _number(integer=False))
    wait = DEFAULT_QUIET_WAIT_S if wait is None else wait
    if wait < 0:
        raise pytest.UsageError(f"--concur-quiet-wait: seconds must be 0 or more, got {wait:g}")
    interval = setting(sources, "concur_sample_interval", non_negative_seconds)
    return Settings(
        report=bool(option("concur_report")),
        save=not option("concur_no_save"),
        results_dir=results_dir,
        rounds=None if auto_rounds.everywhere else option("concur_rounds"),
        warmup=option("concur_warmup"),
        ini_rounds=None if _ini_says_auto(sources) else setting(
            sources, "concur_rounds", positive_int, command_line=False),
        ini_warmup=setting(sources, "concur_warmup", non_negative_int, command_line=False),
        models=models,
        workers=option("concur_workers"),
        workloads=workloads,
        start_method=option("concur_start_method"),
        allow_overlap=bool(option("concur_allow_overlap")),
        compare=compare,
        compare_fail=option("concur_compare_fail") or (),
        html=Path(sources.invocation_dir, html) if html else None,
        timeout=setting(sources, "concur_timeout", positive_seconds),
        sample_interval=DEFAULT_SAMPLE_INTERVAL_S if interval is None else (interval or None),
        task_timeline=not option("concur_no_tasks"),
        dask_scheduler=option("concur_dask_scheduler"),
        quick=bool(option("concur_quick")),
        strict=bool(option("concur_strict")),
        accounting=setting(sources, "concur_accounting", _choice(ACCOUNTING_BACKENDS),
                           env=ACCOUNTING_ENV),
        auto_rounds=auto_rounds,
        crowded_retries=int(retries),
        quiet_wait_s=wait,
    )  # fmt: skip


def _ini_says_auto(sources: Sources) -> bool:
    return str(sources.ini.get("concur_rounds") or "").strip().lower() == AUTO


def _auto_rounds(sources: Sources) -> AutoRounds:
    cli = sources.options.get("concur_rounds")
    auto = cli == AUTO or (cli is None and _ini_says_auto(sources))

    def number(name: str, default: float, *, integer: bool) -> float:
        value = setting(sources, name, _number(integer=integer))
        return default if value is None else value

    rounds = AutoRounds(
        everywhere=auto,
        from_ini=auto and cli is None,
        min_rounds=int(number("concur_min_rounds", DEFAULT_MIN_ROUNDS, integer=True)),
        max_rounds=int(number("concur_max_rounds", DEFAULT_MAX_ROUNDS, integer=True)),
        half_width=number("concur_target_width", DEFAULT_HALF_WIDTH, integer=False),
        budget_s=number("concur_item_budget", DEFAULT_BUDGET_S, integer=False),
    )
    if rounds != AutoRounds(everywhere=auto, from_ini=rounds.from_ini):
        try:  # the defaults are known to be good: the rule is checked only where set
            rounds.design()
        except ValueError as exc:
            raise pytest.UsageError(f"--concur-rounds auto: {exc}") from None
    return rounds
