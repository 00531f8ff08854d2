"""The concur marker: valid markers parse, every bad one is a SpecError that says what to fix."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_concur._running.configuration import START_METHODS, WORKLOADS
from pytest_concur._running.spec import (
    ExperimentSpec,
    SpecError,
    parse_spec,
)

MODELS = ("serial", "threads", "processes", "asyncio")


def parse(**kwargs: object) -> ExperimentSpec:
    return parse_spec((), kwargs, known_models=MODELS)


def test_a_full_marker_parses() -> None:
    spec = parse(workload="cpu", models=["serial", "threads", "threads"], workers=[2, 1, 2],
                 rounds=3, warmup=0, timeout=2, start_method="spawn", claim="x")  # fmt: skip
    assert spec.models == ("serial", "threads")
    assert spec.workers == (2, 1)
    assert spec.timeout == 2.0
    assert spec.variants() == [("serial", 1), ("threads", 2), ("threads", 1)]


def test_single_values_stand_for_lists() -> None:
    spec = parse(workload="io", models="threads", workers=4)
    assert spec.models == ("threads",)
    assert spec.workers == (4,)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({}, "unknown workload None; choose one of: cpu, io"),
        ({"workload": "gpu"}, "unknown workload 'gpu'; choose one of: cpu"),
        ({"workload": ["cpu"]}, "unknown workload ['cpu']; choose one of"),
        ({"workload": "cpu", "models": ["threads", "fibers"]},
         "unknown model 'fibers'; choose from: asyncio, processes, serial, threads"),
        ({"workload": "cpu", "models": []}, "models must not be empty"),
        ({"workload": "cpu", "models": {"threads": 1}}, "models must be a list"),
        ({"workload": "cpu", "workers": []}, "workers must not be empty"),
        ({"workload": "cpu", "workers": [0]}, "workers must be a positive integer, got 0"),
        ({"workload": "cpu", "workers": [-2]}, "workers must be a positive integer, got -2"),
        ({"workload": "cpu", "workers": ["2"]}, "workers must be a positive integer, got '2'"),
        ({"workload": "cpu", "workers": [True]}, "workers must be a positive integer, got True"),
        ({"workload": "cpu", "workers": 2.5}, "workers must be a positive integer, got 2.5"),
        ({"workload": "cpu", "rounds": 0}, "rounds must be a positive integer or 'auto', got 0"),
        ({"workload": "cpu", "warmup": -1}, "warmup must be a non-negative integer, got -1"),
        ({"workload": "cpu", "timeout": 0}, "timeout must be a positive number of seconds"),
        ({"workload": "cpu", "timeout": math.inf}, "timeout must be a positive number"),
        ({"workload": "cpu", "timeout": 10**400}, "timeout must be a positive number"),
        ({"workload": "cpu", "start_method": "clone"},
         "unknown start_method 'clone'; choose one of: fork, forkserver, spawn"),
        ({"workload": "cpu", "claim": 3}, "claim must be a string, got 3"),
        ({"workload": "cpu", "expect": ["faster"]}, "expect items must be expectations"),
        ({"workload": "cpu", "worker": [2]}, "unknown keyword(s) worker; valid keywords:"),
    ],
)  # fmt: skip
def test_bad_values_say_what_to_fix(kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse(**kwargs)
    assert says in str(caught.value)


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(SpecError, match="keyword arguments only"):
        parse_spec(("cpu",), {}, known_models=MODELS)


# anything a marker may be given: scalars, containers, odd objects
VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
    | st.binary(max_size=5)
    | st.sampled_from([*WORKLOADS, *MODELS, *START_METHODS, object(), int, len]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | st.frozensets(st.integers(), max_size=3)
        | st.sets(st.text(max_size=3), max_size=3)
    ),
    max_leaves=8,
)
KEYWORDS = st.sampled_from(
    ["workload", "models", "workers", "rounds", "warmup", "timeout", "start_method", "claim",
     "expect", "unknown", "Workload"]
)  # fmt: skip


@settings(deadline=None)  # a busy machine is not a slow parser
@given(st.dictionaries(KEYWORDS, VALUES, max_size=6), st.lists(VALUES, max_size=2))
def test_any_marker_gives_a_spec_or_a_spec_error(
    kwargs: dict[str, object], args: list[object]
) -> None:
    try:
        spec = parse_spec(args, kwargs, known_models=MODELS)
    except SpecError:
        return  # the one exception a bad marker may raise (the plugin turns it into a message)
    assert spec.workload in WORKLOADS
    assert spec.models
    assert all(model in MODELS for model in spec.models)
    assert all(isinstance(w, int) and w > 0 for w in spec.workers)
    assert spec.timeout is None or (math.isfinite(spec.timeout) and spec.timeout > 0)


@settings(deadline=None)  # a busy machine is not a slow parser
@given(
    st.sampled_from(sorted(WORKLOADS)),
    st.lists(st.sampled_from(MODELS), min_size=1),
    st.lists(st.integers(1, 64), min_size=1),
)
def test_every_valid_marker_parses(workload: str, models: list[str], workers: list[int]) -> None:
    spec = parse(workload=workload, models=models, workers=workers)
    assert spec.models == tuple(dict.fromkeys(models))
    assert spec.workers == tuple(dict.fromkeys(workers))
