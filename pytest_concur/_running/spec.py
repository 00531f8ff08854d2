"""The ``concur`` marker parsed and validated into an immutable ExperimentSpec."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._measuring.cpu_quota import cpu_quota
from .._measuring.environment import usable_cpus
from .._rounds.variant import variant_label
from .configuration import START_METHODS, WORKLOADS

_KNOWN_KEYWORDS: Final = frozenset(
    {
        "workload",
        "models",
        "workers",
        "rounds",
        "warmup",
        "expect",
        "timeout",
        "claim",
        "start_method",
    }
)

#: io work waits more than it computes: its sweep goes to this many workers per CPU.
IO_WORKERS_PER_CPU = 4


def auto_workers(workload: str, usable: int | None = None) -> tuple[int, ...]:
    """1, 2, 4, ... up to the usable CPUs (4x that for ``io``), the limit itself included.

    Under a cgroup CPU quota the usable CPUs are the quota rounded up (a container limited
    to 1.5 cores sweeps to 2 workers, not to the host's CPU count).
    """
    cpus = usable if usable is not None else usable_cpus(cpu_quota())
    limit = max(1, cpus) * (IO_WORKERS_PER_CPU if workload == "io" else 1)
    counts: list[int] = []
    count = 1
    while count < limit:
        counts.append(count)
        count *= 2
    counts.append(limit)
    return tuple(counts)


#: A test parameter of this name sweeps the start method: each value runs its pools with it.
START_METHOD_PARAM: Final = "start_method"


class SpecError(ValueError):
    """A ``concur`` marker that cannot be run; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class ExperimentSpec:
    """What one ``@pytest.mark.concur(...)`` asks for."""

    workload: str
    models: tuple[str, ...]
    workers: tuple[int, ...]
    #: a count, or "auto" for adaptive rounds
    rounds: int | Literal["auto"] | None = None
    warmup: int | None = None
    timeout: float | None = None
    start_method: str | None = None
    claim: str | None = None
    expect: tuple[Any, ...] = ()

    def variants(self) -> list[tuple[str, int]]:
        """(model, workers) pairs to run; serial runs once with one worker."""
        pairs: list[tuple[str, int]] = []
        for model in self.models:
            counts = (1,) if model == "serial" else self.workers
            pairs.extend((model, count) for count in counts)
        return pairs


def swept_start_method(spec: ExperimentSpec, params: Mapping[str, object]) -> str | None:
    """The start method a test's own ``start_method`` parameter chooses, if it has one:
    ``@pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])`` sweeps
    it (docs/models.md). The marker's ``start_method=`` and the parameter exclude each other.
    """
    if START_METHOD_PARAM not in params:
        return None
    value = params[START_METHOD_PARAM]
    if not isinstance(value, str) or value not in START_METHODS:
        raise SpecError(
            f"the start_method parameter is {value!r}; choose one of: {', '.join(START_METHODS)}"
        )
    if spec.start_method is not None:
        raise SpecError(
            f"start_method={spec.start_method!r} in the marker and a start_method parameter: "
            "sweep it with the parameter, or fix it with the marker, not both"
        )
    return value


def variant_id(model: str, workers: int) -> str:
    """The test id fragment of one variant: ``threads-2``, or ``serial``."""
    return variant_label(model, workers)


def _choices(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"{name} must be a positive integer, got {value!r}")
    return value


def _rounds(value: object) -> int | Literal["auto"] | None:
    """A count, or ``"auto"``: adaptive rounds for this experiment (docs/adaptive-rounds.md)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"rounds must be a positive integer or 'auto', got {value!r}")
    return value


def _non_negative_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _finite(number: int | float) -> bool:
    """Whether ``number`` is finite as seconds: ints beyond a float's range are not."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _as_list(name: str, value: object) -> list[object]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        items = list(value)
        if not items:
            raise SpecError(f"{name} must not be empty")
        return items
    if name == "workers" or (isinstance(value, int) and not isinstance(value, bool)):
        return [value]  # a single value: checked as one item, so the message names it
    raise SpecError(f"{name} must be a list, got {value!r}")


def parse_spec(
    args: Sequence[object],
    kwargs: Mapping[str, object],
    *,
    known_models: Iterable[str],
) -> ExperimentSpec:
    """Validate the marker's arguments; every problem is a SpecError naming the value."""
    if args:
        raise SpecError(
            f"takes keyword arguments only (workload=..., models=[...], workers=[...]), "
            f"got positional {list(args)!r}"
        )
    unknown = set(kwargs) - _KNOWN_KEYWORDS
    if unknown:
        raise SpecError(
            f"unknown keyword(s) {_choices(unknown)}; valid keywords: {_choices(_KNOWN_KEYWORDS)}"
        )
    workload = kwargs.get("workload")
    if not isinstance(workload, str) or workload not in WORKLOADS:
        raise SpecError(f"unknown workload {workload!r}; choose one of: {_choices(WORKLOADS)}")
    assert isinstance(workload, str)

    model_set = set(known_models)
    models_raw = _as_list("models", kwargs.get("models", ["serial"]))
    models: list[str] = []
    for model in models_raw:
        if not isinstance(model, str) or model not in model_set:
            raise SpecError(f"unknown model {model!r}; choose from: {_choices(model_set)}")
        if model not in models:
            models.append(model)

    workers_value = kwargs.get("workers", [1])
    # "auto": 1, 2, 4, ... up to the usable CPUs (4x for io), see auto_workers
    auto = workers_value == "auto"
    workers_raw = list(auto_workers(workload)) if auto else _as_list("workers", workers_value)
    workers: list[int] = []
    for count in workers_raw:
        value = _positive_int("workers", count)
        if value not in workers:
            workers.append(value)

    rounds = _rounds(kwargs.get("rounds"))
    warmup = kwargs.get("warmup")
    if warmup is not None:
        warmup = _non_negative_int("warmup", warmup)

    timeout = kwargs.get("timeout")
    if timeout is not None:
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not _finite(timeout)
            or timeout <= 0
        ):
            raise SpecError(f"timeout must be a positive number of seconds, got {timeout!r}")
        timeout = float(timeout)

    start_method = kwargs.get("start_method")
    if start_method is not None and (
        not isinstance(start_method, str) or start_method not in START_METHODS
    ):
        raise SpecError(
            f"unknown start_method {start_method!r}; choose one of: {', '.join(START_METHODS)}"
        )

    claim = kwargs.get("claim")
    if claim is not None and not isinstance(claim, str):
        raise SpecError(f"claim must be a string, got {claim!r}")

    expect_raw = kwargs.get("expect", ())
    if not isinstance(expect_raw, Sequence) or isinstance(expect_raw, str):
        expect_raw = [expect_raw]
    expect = tuple(expect_raw)
    for item in expect:
        if not callable(getattr(item, "evaluate", None)):
            raise SpecError(
                f"expect items must be expectations such as pytest_concur.faster(...), got {item!r}"
            )
        # an expectation naming a variant this experiment never runs is a typo, said now
        check = getattr(item, "problem_with", None)
        problem = check(models, workers) if callable(check) else None
        if problem:
            raise SpecError(f"expect: {problem}")

    return ExperimentSpec(
        workload=workload,
        models=tuple(models),
        workers=tuple(workers),
        rounds=rounds,
        warmup=warmup,
        timeout=timeout,
        start_method=start_method,
        claim=claim,
        expect=expect,
    )
