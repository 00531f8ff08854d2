"""A good guest: a pytest run without experiments sees nothing of the plugin."""

from __future__ import annotations

import json

import pytest
from helpers import concur_test, experiment_source, read_results

# loaded before pytester snapshots sys.modules: re-imported after a test, it would
# register its pandas accessor again (a UserWarning under filterwarnings = error)
import pytest_concur.analysis  # noqa: F401

# what the process looks like at the end of the session, written by a conftest hook
# that runs after every other (its cleanup was registered before the plugin's)
CONFTEST_PROBE = """
import ctypes, json, os, signal, sys

def _probe(config, moment):
    libc = ctypes.CDLL(None, use_errno=True)
    flag = ctypes.c_int(-1)
    libc.prctl(37, ctypes.byref(flag), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
    heavy = sorted(name for name in ("pyarrow", "pandas", "numpy", "asyncio", "psutil",
                   "multiprocessing", "pytest_concur.models") if name in sys.modules)
    modules = sorted(name for name, module in list(sys.modules.items())
                     if name.startswith("pytest_concur") and not hasattr(module, "__path__"))
    return {"moment": moment, "heavy": heavy, "subreaper": flag.value, "modules": modules,
            "sigterm_default": signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
            "markers": [line.split(":")[0] for line in config.getini("markers")]}

def pytest_configure(config):
    config.add_cleanup(lambda: _write(config, "after"))

def pytest_sessionfinish(session):
    _write(session.config, "during")

def _write(config, moment):
    with open("probe.jsonl", "a") as out:
        out.write(json.dumps(_probe(config, moment)) + "\\n")
"""

PLAIN = """
def test_one():
    assert True
"""

EXPERIMENT = experiment_source(
    concur_test(
        models=["serial", "threads"], workers=[2], body="concur.map(lambda _: None, range(2))"
    ),
    imports=["pytest"],
)


def _probes(pytester: pytest.Pytester) -> dict[str, dict[str, object]]:
    lines = (pytester.path / "probe.jsonl").read_text().splitlines()
    return {probe["moment"]: probe for probe in map(json.loads, lines)}


def test_a_plain_run_imports_and_changes_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(CONFTEST_PROBE)
    pytester.makepyfile(test_plain=PLAIN)
    # what pytest itself imports on this Python, without the plugin (and so without its
    # options): since 3.14 its pdb support imports asyncio
    with monkeypatch.context() as without_options:
        without_options.delenv("PYTEST_ADDOPTS", raising=False)
        baseline = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:concur")
        baseline.assert_outcomes(passed=1)
    pytests_own = _probes(pytester)["during"]["heavy"]
    assert isinstance(pytests_own, list)
    (pytester.path / "probe.jsonl").unlink()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=1)
    during = _probes(pytester)["during"]
    assert isinstance(during["heavy"], list)
    assert [name for name in during["heavy"] if name not in pytests_own] == []
    # the entry point and the option declarations, nothing else (packages aside)
    assert during["modules"] == ["pytest_concur._running.configuration", "pytest_concur.plugin"]
    assert during["subreaper"] == 0
    assert during["sigterm_default"] is True
    markers = during["markers"]
    assert isinstance(markers, list)
    assert 'concur(workload, models=[...], workers=[...], rounds=N|"auto", warmup=, ' \
        "timeout=, start_method=, claim=, expect=[...])" in markers
    assert not {"cpu", "io", "mixed", "switch", "memory"} & set(markers)
    assert not (pytester.path / "results").exists()
    result.stdout.no_fnmatch_line("*pytest-concur*")


def test_an_experiment_activates_then_restores(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST_PROBE)
    pytester.makepyfile(test_plain=PLAIN, test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3)
    probes = _probes(pytester)
    during, after = probes["during"], probes["after"]
    assert during["subreaper"] == 1
    assert during["sigterm_default"] is False
    markers = during["markers"]
    assert isinstance(markers, list)
    # only the workload this session used is registered, once
    assert "io" in markers
    assert not {"cpu", "mixed", "switch", "memory"} & set(markers)
    assert after["subreaper"] == 0
    assert after["sigterm_default"] is True
    rows = read_results(pytester)
    assert len(rows) == 2


def test_xdist_plain_run_and_experiment(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    plain.assert_outcomes(passed=1)
    assert not (pytester.path / "results").exists()
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2",
                                           "--strict-markers")  # fmt: skip
    result.assert_outcomes(passed=3)
    rows = read_results(pytester)
    assert len(rows) == 2
    assert rows["xdist_worker"].notna().all()
    assert rows["run_id"].nunique() == 1
