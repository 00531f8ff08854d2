"""Options and ini keys for how many rounds an item runs: adaptive rounds (``--concur-rounds
auto``, _running/adaptive.py) and crowded rounds measured again (_running/retry.py)."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import pytest

from .adaptive import (
    DEFAULT_BUDGET_S,
    DEFAULT_HALF_WIDTH,
    DEFAULT_MAX_ROUNDS,
    DEFAULT_MIN_ROUNDS,
    AdaptivePlan,
)
from .retry import DEFAULT_QUIET_WAIT_S, DEFAULT_RETRIES

if TYPE_CHECKING:  # the round loop is imported once an experiment runs, not at startup
    from .rounds import RoundPlan
    from .settings import Settings
    from .spec import ExperimentSpec

AUTO: Final = "auto"


def rounds_arg(text: str) -> int | str:
    """``--concur-rounds``: a positive integer, or ``auto``."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of rounds or 'auto', got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_round_options(group: Any, parser: pytest.Parser) -> None:
    """The options of this module, in the plugin's option group, and their ini keys."""
    group.addoption(
        "--concur-min-rounds",
        metavar="N",
        default=None,
        help=f"--concur-rounds auto: measured rounds every variant runs at least "
        f"(default: ini concur_min_rounds, else {DEFAULT_MIN_ROUNDS})",
    )
    group.addoption(
        "--concur-max-rounds",
        metavar="N",
        default=None,
        help=f"--concur-rounds auto: measured rounds a variant runs at most "
        f"(default: ini concur_max_rounds, else {DEFAULT_MAX_ROUNDS})",
    )
    group.addoption(
        "--concur-target-width",
        metavar="FRACTION",
        default=None,
        help="--concur-rounds auto: stop a variant once its median's interval is within "
        "this of the median, e.g. 3%% or 0.03 (default: ini concur_target_width, else "
        f"{DEFAULT_HALF_WIDTH * 100:g}%%)",
    )
    group.addoption(
        "--concur-item-budget",
        metavar="SECONDS",
        default=None,
        help="--concur-rounds auto: stop a variant after this many seconds, once it has its "
        f"minimum of rounds (default: ini concur_item_budget, else {DEFAULT_BUDGET_S:g})",
    )
    group.addoption(
        "--concur-crowded-retries",
        metavar="N",
        default=None,
        help="measure a crowded round (other processes kept the CPUs busy) again, up to N "
        f"times per variant; 0 turns it off (default: ini concur_crowded_retries, else "
        f"{DEFAULT_RETRIES})",
    )
    group.addoption(
        "--concur-quiet-wait",
        metavar="SECONDS",
        default=None,
        help="before measuring a crowded round again, wait at most this long for the "
        f"machine to quiet (default: ini concur_quiet_wait, else {DEFAULT_QUIET_WAIT_S:g})",
    )
    for key, text in (
        ("concur_min_rounds", "--concur-rounds auto: fewest measured rounds per variant"),
        ("concur_max_rounds", "--concur-rounds auto: most measured rounds per variant"),
        ("concur_target_width", "--concur-rounds auto: target relative half-width, e.g. 3%"),
        ("concur_item_budget", "--concur-rounds auto: seconds per variant"),
        ("concur_crowded_retries", "crowded rounds measured again per variant"),
        ("concur_quiet_wait", "seconds to wait for a quiet machine before a repeat"),
    ):
        parser.addini(key, text, default=None)


@dataclass(frozen=True, slots=True)
class RoundPolicy:
    """Adaptive rounds (where asked for) and the crowded-round repeats."""

    #: the command line or the ini file asks every experiment for adaptive rounds
    adaptive: AdaptivePlan | None = None
    #: the rule's settings, for experiments whose marker says ``rounds="auto"`` too
    plan: AdaptivePlan = field(default_factory=AdaptivePlan)
    #: ``auto`` came from the ini file: the marker's and the command line's counts win
    auto_from_ini: bool = False
    #: the ini file says ``concur_rounds = auto`` (so it holds no count)
    ini_auto: bool = False
    crowded_retries: int = DEFAULT_RETRIES
    quiet_wait_s: float = DEFAULT_QUIET_WAIT_S

    def round_plan(
        self, warmup: int, rounds: int, *, counted: bool, marker_auto: bool = False
    ) -> RoundPlan:
        """The item's plan; an ini ``auto`` gives way where a count was set (``counted``);
        a marker's ``rounds="auto"`` (``marker_auto``) to the command line's count and
        ``--concur-quick``, which make ``counted`` true then."""
        from .rounds import RoundPlan

        adaptive = None if self.auto_from_ini and counted else self.adaptive
        if marker_auto and not counted:
            adaptive = self.plan
        return RoundPlan(warmup, rounds, adaptive, self.crowded_retries, self.quiet_wait_s)


def _raw(config: pytest.Config, name: str) -> tuple[str, str] | None:
    """The value and where it came from (``--option`` or ``ini option``); None if unset."""
    value = config.getoption(name)
    if value is not None:
        return str(value).strip(), "--" + name.replace("_", "-")
    ini = config.getini(name)
    if ini not in (None, ""):
        return str(ini).strip(), f"ini option {name}"
    return None


def _number(config: pytest.Config, name: str, default: float, *, integer: bool) -> float:
    found = _raw(config, name)
    if found is None:
        return default
    text, where = found
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise pytest.UsageError(f"{where}: expected a number, got {text!r}") from None
    if not math.isfinite(value) or (integer and not value.is_integer()):
        kind = "a whole number" if integer else "a finite number"
        raise pytest.UsageError(f"{where}: expected {kind}, got {text!r}")
    return value


def ini_says_auto(config: pytest.Config) -> bool:
    return str(config.getini("concur_rounds") or "").strip().lower() == AUTO


def read_round_policy(config: pytest.Config) -> RoundPolicy:
    """Resolve the options; bad values are usage errors naming the value."""
    cli = config.getoption("concur_rounds")
    auto = cli == AUTO or (cli is None and ini_says_auto(config))
    retries = _number(config, "concur_crowded_retries", DEFAULT_RETRIES, integer=True)
    if retries < 0:
        raise pytest.UsageError(f"--concur-crowded-retries: must be 0 or more, got {retries:g}")
    wait = _number(config, "concur_quiet_wait", DEFAULT_QUIET_WAIT_S, integer=False)
    if wait < 0:
        raise pytest.UsageError(f"--concur-quiet-wait: seconds must be 0 or more, got {wait:g}")
    try:
        plan = AdaptivePlan(
            min_rounds=int(_number(config, "concur_min_rounds", DEFAULT_MIN_ROUNDS, integer=True)),
            max_rounds=int(_number(config, "concur_max_rounds", DEFAULT_MAX_ROUNDS, integer=True)),
            half_width=_number(config, "concur_target_width", DEFAULT_HALF_WIDTH, integer=False),
            budget_s=_number(config, "concur_item_budget", DEFAULT_BUDGET_S, integer=False),
        )
    except ValueError as exc:
        raise pytest.UsageError(f"--concur-rounds auto: {exc}") from None
    return RoundPolicy(
        adaptive=plan if auto else None,
        plan=plan,
        auto_from_ini=auto and cli is None,
        ini_auto=ini_says_auto(config),
        crowded_retries=int(retries),
        quiet_wait_s=wait,
    )


def round_plan(settings: Settings, spec: ExperimentSpec) -> RoundPlan:
    """One item's rounds: ``Settings.plan``, with the stopping rule and crowded repeats."""
    marker_auto = spec.rounds == "auto"
    marker_count = spec.rounds is not None and not marker_auto
    counted = settings.rounds is not None or settings.quick or marker_count
    return settings.policy.round_plan(
        *settings.plan(spec), counted=counted, marker_auto=marker_auto
    )
