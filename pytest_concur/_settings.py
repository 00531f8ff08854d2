"""Command-line options and ini keys resolved into one immutable Settings object."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ._spec import START_METHODS, WORKLOADS, ExperimentSpec

DEFAULT_ROUNDS = 5
DEFAULT_WARMUP = 1


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
        metavar="N",
        type=positive_int,
        default=None,
        help="measured rounds per experiment variant; overrides the marker and ini "
        f"(default {DEFAULT_ROUNDS})",
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
    parser.addini("concur_rounds", "measured rounds per experiment variant", default=None)
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

    def plan(self, spec: ExperimentSpec) -> tuple[int, int]:
        """(warm-up, measured) rounds: command line, then marker, then ini, then default."""
        rounds = next(
            v for v in (self.rounds, spec.rounds, self.ini_rounds, DEFAULT_ROUNDS) if v is not None
        )
        warmup = next(
            v for v in (self.warmup, spec.warmup, self.ini_warmup, DEFAULT_WARMUP) if v is not None
        )
        return warmup, rounds


def _ini_int(config: pytest.Config, name: str, minimum: int) -> int | None:
    raw = config.getini(name)
    if raw in (None, ""):
        return None
    try:
        return _int_at_least(minimum)(str(raw).strip())
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini option {name}: {exc}") from None


def _check_names(option: str, values: Iterable[str] | None, known: Iterable[str]) -> None:
    if values is None:
        return
    valid = set(known)
    for value in values:
        if value not in valid:
            raise pytest.UsageError(
                f"{option}: unknown value {value!r}; choose from: {', '.join(sorted(valid))}"
            )


def read_settings(config: pytest.Config, known_models: Iterable[str]) -> Settings:
    """Resolve options and ini keys; bad values are usage errors, as pytest's own are."""
    # a command-line path is relative to where pytest was started; an ini path and the
    # default are relative to the rootdir, like other pytest settings
    cli_results = config.getoption("concur_results")
    if cli_results:
        results_dir = Path(config.invocation_params.dir, cli_results)
    else:
        results_dir = Path(config.rootpath, config.getini("concur_results") or "results")
    models = config.getoption("concur_models")
    workloads = config.getoption("concur_workload")
    _check_names("--concur-models", models, known_models)
    _check_names("--concur-workload", workloads, WORKLOADS)
    return Settings(
        report=bool(config.getoption("concur_report")),
        save=not config.getoption("concur_no_save"),
        results_dir=results_dir,
        rounds=config.getoption("concur_rounds"),
        warmup=config.getoption("concur_warmup"),
        ini_rounds=_ini_int(config, "concur_rounds", 1),
        ini_warmup=_ini_int(config, "concur_warmup", 0),
        models=models,
        workers=config.getoption("concur_workers"),
        workloads=workloads,
        start_method=config.getoption("concur_start_method"),
    )
