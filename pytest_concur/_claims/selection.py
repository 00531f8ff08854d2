"""Which rounds an expectation talks about: variant selectors and the rounds they pick."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._rounds.variant import variant_label

if TYPE_CHECKING:
    import pandas as pd

ParamValue = str | int | float | bool | None

_VARIANT_ID = re.compile(r"^(?P<model>.+?)-(?P<workers>[0-9]+)$")


class ClaimError(ValueError):
    """An expectation that is written wrongly (bad bound, unknown selector); says what to fix."""


@dataclass(frozen=True, slots=True)
class Select:
    """Which variant of an experiment an expectation talks about.

    ``model`` None matches any model, ``workers`` None the largest worker count that
    ran; ``params`` are the test's own ``parametrize`` values that must match.
    """

    model: str | None = None
    workers: int | None = None
    params: tuple[tuple[str, ParamValue], ...] = ()

    def with_params_of(self, other: Select) -> Select:
        """This selector, taking ``other``'s parameters for the names it does not fix."""
        mine = dict(self.params)
        merged = {**dict(other.params), **mine}
        return dataclasses.replace(self, params=tuple(sorted(merged.items())))

    def __str__(self) -> str:
        if self.model is None:
            text = ""
        elif self.workers is None or self.model == "serial":
            text = self.model
        else:
            text = variant_label(self.model, self.workers)
        if self.params:
            text += " [" + ",".join(f"{name}={value}" for name, value in self.params) + "]"
        return text.strip() or "any variant"


def variant(spec: str | None = None, /, **params: ParamValue) -> Select:
    """Select a variant: ``variant("threads-2")``, ``variant("processes", cpus="one")``.

    ``spec`` is a test id fragment: a model name, optionally with ``-<workers>``; leave
    it out to match any model (when the parameters alone pick the variant). Keyword
    arguments are the test's own parameters, by the names given to ``parametrize``.
    """
    for name, value in params.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ClaimError(
                f"parameter {name}={value!r}: only str, int, float, bool or None can be "
                f"matched (use the value as parametrize gave it)"
            )
    model: str | None = None
    workers: int | None = None
    if spec is not None:
        if not isinstance(spec, str) or not spec:
            raise ClaimError(f"a variant is named like 'threads-2' or 'serial', got {spec!r}")
        match = _VARIANT_ID.match(spec)
        if match:
            model, workers = match["model"], int(match["workers"])
            if workers < 1:
                raise ClaimError(f"workers must be positive in {spec!r}")
        else:
            model = spec
    return Select(model, workers, tuple(sorted(params.items())))


def unknown_variant(
    selectors: Iterable[Select], models: Sequence[str], workers: Sequence[int]
) -> str | None:
    """Why a selector can never match this experiment's variants, or None."""
    runs = ", ".join(
        variant_label(model, count)
        for model in models
        for count in ((1,) if model == "serial" else workers)
    )
    for selector in selectors:
        if selector.model is not None and selector.model not in models:
            return f"{selector} names model {selector.model!r}; this experiment runs {runs}"
        if (
            selector.workers is not None
            and selector.model != "serial"
            and selector.workers not in workers
        ):
            return f"{selector} names {selector.workers} workers; this experiment runs {runs}"
    return None


def as_select(value: str | Select, role: str) -> Select:
    if isinstance(value, Select):
        return value
    if isinstance(value, str):
        return variant(value)
    raise ClaimError(
        f"{role} must be a variant name such as 'threads-2' or "
        f"pytest_concur.variant(...), got {value!r}"
    )


@dataclass(frozen=True, slots=True)
class Chosen:
    """The rounds a selector picked, and how to name them."""

    label: str
    values: list[float]
    gil: str
    python: str
    free_threaded: bool | None
    #: why adaptive rounds stopped the variant (its rows' last ``stop_reason``), if they did
    stop_reason: str | None = None


def measured(rows: pd.DataFrame) -> pd.DataFrame:
    """Rounds that count for verdicts: passed, not warm-up."""
    if rows.empty:
        return rows
    keep = (~rows["warmup"].astype(bool)) & (rows["outcome"] == "passed")
    return rows[keep]


def _param_matches(actual: Any, wanted: ParamValue) -> bool:
    # non-JSON parameters are stored as their repr
    return bool(actual == wanted or (isinstance(actual, str) and actual == repr(wanted)))


def _label(model: str, workers: int, params: Mapping[str, Any]) -> str:
    text = variant_label(model, workers)
    if params:
        text += " [" + ",".join(f"{name}={params[name]}" for name in sorted(params)) + "]"
    return text


def _gil_state(rows: pd.DataFrame) -> str:
    if "gil_enabled" not in rows:
        return "unknown"
    states = {bool(value) for value in rows["gil_enabled"].dropna()}
    if states == {True}:
        return "enabled"
    if states == {False}:
        return "disabled"
    return "mixed" if states else "unknown"


def choose_pair(
    rows: pd.DataFrame, subject: Select, baseline: Select, metric: str
) -> tuple[Chosen, Chosen] | str:
    """The subject's rounds and the baseline's (with the subject's parameters), or why not."""
    a = choose(rows, subject, metric)
    if isinstance(a, str):
        return a
    b = choose(rows, baseline.with_params_of(subject), metric)
    if isinstance(b, str):
        return b
    return a, b


@dataclass(frozen=True, slots=True)
class Candidate:
    """One variant of an experiment: its model, worker count and parameters (as stored)."""

    model: str
    workers: int
    params_json: str = ""

    @property
    def params(self) -> dict[str, Any]:
        return _decoded(self.params_json)


@functools.lru_cache(maxsize=1024)
def _decoded(params_json: str) -> dict[str, Any]:
    return json.loads(params_json) if params_json else {}


def resolve(selector: Select, candidates: Sequence[Candidate]) -> Candidate | str:
    """The one variant ``selector`` picks among ``candidates``, or why none (a reason).

    Pure Python: verdicts use it over the variants that ran, adaptive rounds over the
    variants a process will run (_claims/interim.py).
    """
    good = [c for c in candidates if selector.model is None or c.model == selector.model]
    good = [
        c
        for c in good
        if all(
            name in c.params and _param_matches(c.params[name], value)
            for name, value in selector.params
        )
    ]
    if not good:
        return f"no measured rounds of {selector} (not run, skipped, deselected or failed)"
    models = sorted({c.model for c in good})
    if len(models) > 1:
        return f"{selector} matches several models ({', '.join(models)}): name the model"
    if selector.workers is not None:
        good = [c for c in good if c.workers == selector.workers]
        if not good:
            return f"no measured rounds of {selector}"
    else:
        most = max(c.workers for c in good)
        good = [c for c in good if c.workers == most]
    distinct = {json.dumps(c.params, sort_keys=True) for c in good}
    if len(distinct) > 1:
        named = {name for name, _ in selector.params}
        differing = sorted({name for c in good for name in c.params if name not in named})
        return (
            f"{selector} matches several parameter sets; fix "
            f"{', '.join(differing) or 'the parameters'} with "
            f"pytest_concur.variant(..., name=value)"
        )
    return good[0]


def _params_key(value: Any) -> str:
    return "" if is_nan(value) else str(value)


def choose(rows: pd.DataFrame, selector: Select, metric: str) -> Chosen | str:
    """The measured rounds ``selector`` picks from one experiment's rows, or why none.

    Returns a string (the reason) when nothing or more than one variant matches.
    """
    if metric not in rows:
        return f"no column {metric!r} in the rows"
    good = measured(rows)
    keys = (
        [_params_key(value) for value in good["params_json"]]
        if "params_json" in good
        else [""] * len(good)
    )
    candidates = sorted(
        {
            Candidate(str(model), int(workers), key)
            for model, workers, key in zip(good["model"], good["workers"], keys, strict=True)
        },
        key=lambda c: (c.model, c.workers, c.params_json),
    )
    picked = resolve(selector, candidates)
    if isinstance(picked, str):
        return picked
    keep = [
        str(model) == picked.model and int(workers) == picked.workers and key == picked.params_json
        for model, workers, key in zip(good["model"], good["workers"], keys, strict=True)
    ]
    good = good[keep]
    pythons = sorted({str(value) for value in good["python"]}) if "python" in good else []
    free = {bool(v) for v in good["free_threaded"].dropna()} if "free_threaded" in good else set()
    return Chosen(
        label=_label(picked.model, picked.workers, picked.params),
        values=[float(value) for value in good[metric] if not is_nan(value)],
        gil=_gil_state(good),
        python=", ".join(pythons),
        free_threaded=free.pop() if len(free) == 1 else None,
        stop_reason=_stop_reason(good),
    )


def _stop_reason(rows: pd.DataFrame) -> str | None:
    if "stop_reason" not in rows:
        return None
    reasons = [str(value) for value in rows["stop_reason"] if not is_nan(value)]
    return reasons[-1] if reasons else None


def is_nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
