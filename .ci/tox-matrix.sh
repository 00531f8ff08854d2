#!/usr/bin/env bash
# The tox matrix on the interpreters this machine has, in quick mode, then the report
# across versions, checked; then the slow tests that need other interpreters, pointed at
# the tox environments; the whole test suite on one new interpreter (3.14), and the tests
# of the free-threaded paths on the free-threaded build (3.13t).
#
# Time on 2 cores, estimated from steps measured on 2026-12-08 (docs/xdist-and-tox.md, "In
# CI"): building the environments about 3 min (not measured: a guess); the selected
# experiments about 15 s an environment (13 s on 3.14, quiet); the report, its check and
# the slow tests under 1 min; the whole suite on 3.14 about 10 min (9 min on 3.11, quiet;
# 18.7 min measured on a loaded machine); the free-threaded paths on 3.13t 1 min (58 s,
# quiet). About 17 min, beside .ci/run's own 15 (install, lint, the suite on 3.11, the
# portable-accounting tests, the smoke run): about 32 of the 45 minutes CI may take. The
# whole suite on 3.13t too would add about 11 min.
#
# CONCUR_TOX_SELECT narrows the experiments (pytest -k); the default keeps the CPU-bound
# ones whose answer depends on the GIL (claims 4, 9 and 12: subinterpreters on 3.14+),
# since all of them take too long for CI.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
# resolved before PATH changes below, so it stays the caller's interpreter (the CI venv)
python=${PYTHON:-$(command -v python)}

# Interpreters: tox looks for python3.12, python3.13t, python3.14, ... on PATH. pyenv's
# shims only answer for its global versions, so put every installed version's bin first,
# then the builds installed from ../shared/pythons/ (when missing): the free-threaded
# 3.13 and the GIL builds of 3.14 and 3.15 (and a 3.14t/3.15t where a machine has one).
bash .ci/install-pythons.sh
prefix=""
if command -v pyenv >/dev/null 2>&1; then
    for dir in "$(pyenv root)"/versions/3.1[1-9]*/bin; do
        if [ -d "$dir" ]; then prefix="$prefix$dir:"; fi
    done
fi
for dir in /opt/cpython-3.1[3-9]t/bin /opt/cpython-3.1[4-9]/bin; do
    if [ -d "$dir" ]; then prefix="$prefix$dir:"; fi
done
export PATH="$prefix$PATH"

if ! "$python" -m tox --version >/dev/null 2>&1; then
    "$python" -m pip install --quiet "tox>=4.22"
fi
tox=("$python" -m tox)

export CONCUR_TOX_RESULTS="${TMPDIR:-/tmp}/pytest-concur-tox-results"
rm -rf "$CONCUR_TOX_RESULTS"
select=${CONCUR_TOX_SELECT:-"test_cpu_bound_work_wants_processes or test_pi_keeps_a_core_busy or test_interpreters_compute_in_parallel"}
# the environments whose interpreter .ci/install-pythons.sh installed must run, not skip
expected=""
for version in 3.14 3.15; do
    if [ -x "/opt/cpython-$version/bin/python$version" ]; then
        expected="$expected py${version/./}"
    fi
done
export CONCUR_EXPECTED_ENVS=$expected

echo "== tox: build every environment at once (nothing is measured yet)"
"${tox[@]}" run-parallel --notest --parallel-no-spinner -e ALL
echo "== tox: the experiments, one environment after another (sessions must not overlap)"
"${tox[@]}" run -- -k "$select"
echo "== tox -e report"
report=$("${tox[@]}" run -qq -e report)
echo "$report"

echo "== check the cross-version results"
CONCUR_REPORT="$report" "$python" - <<'PY'
import os
import sys
import warnings
from pathlib import Path

import pytest_concur as pc

folder = os.environ["CONCUR_TOX_RESULTS"]
report = os.environ["CONCUR_REPORT"]
ran = sorted(p.parent.parent.name for p in Path(".tox").glob("py3*/bin/python"))
expected = os.environ.get("CONCUR_EXPECTED_ENVS", "").split()
with warnings.catch_warnings():
    warnings.simplefilter("error")  # a skipped results file is a failure here
    df = pc.load(folder)
problems = []
by_env = {env: rows for env, rows in df.groupby("tox_env", observed=True)}
for env in ran:
    rows = by_env.get(env)
    if rows is None or rows.empty:
        problems.append(f"{env}: no rows")
        continue
    free = env.endswith("t")
    if set(rows["free_threaded"]) != {free}:
        problems.append(f"{env}: free_threaded is {set(rows['free_threaded'])}, expected {free}")
    if free and rows["gil_enabled"].any():
        problems.append(f"{env}: the GIL was enabled in {int(rows['gil_enabled'].sum())} rounds")
    if not free and not rows["gil_enabled"].all():
        problems.append(f"{env}: a GIL build reported the GIL disabled")
    for python in set(rows["python"]):
        if python not in report:
            problems.append(f"{env}: python {python} missing from the report")
    # 3.14 and newer have concurrent.interpreters: subinterpreters must measure, not skip
    sub = rows[rows["model"] == "subinterpreters"]
    if env >= "py314" and not free and (sub.empty or set(sub["outcome"]) != {"passed"}):
        problems.append(f"{env}: subinterpreters rounds {sorted(set(sub['outcome']))}")
for env in expected:
    if env not in ran:
        problems.append(f"{env}: its interpreter is installed, but it did not run")
if df["run_id"].nunique() != len(ran):
    problems.append(f"{df['run_id'].nunique()} sessions for {len(ran)} environments")
if len(ran) < 2:
    problems.append(f"only {ran} ran: nothing to compare")
print(f"{len(df)} rows from {', '.join(ran)}; pythons: {sorted(set(df['python']))}")
for problem in problems:
    print("PROBLEM:", problem)
sys.exit(1 if problems else 0)
PY

echo "== slow tests that need other interpreters (the tox environments)"
other=""
for env in py312 py313 py311; do
    if [ -x ".tox/$env/bin/python" ]; then other="$PWD/.tox/$env/bin/python"; break; fi
done
free_threaded=""
for env in py313t py314t; do
    if [ -x ".tox/$env/bin/python" ]; then free_threaded="$PWD/.tox/$env/bin/python"; break; fi
done
CONCUR_OTHER_PYTHON=$other CONCUR_FT_PYTHON=$free_threaded \
    "$python" -m pytest -p no:cacheprovider -m slow -q \
    tests/test_xdist.py::test_worker_on_another_interpreter_keeps_its_own_environment \
    tests/test_gil.py::test_free_threaded_gil_turned_on_is_named_and_recorded

if [ -x .tox/py314/bin/python ]; then
    # the whole suite on one new interpreter: forkserver by default, subinterpreters,
    # the stdlib of 3.14 (3.15 runs the experiments only, to stay within CI's time)
    echo "== the test suite on Python 3.14 (.tox/py314)"
    PIP_ONLY_BINARY=:all: .tox/py314/bin/python -m pip install --quiet \
        "hypothesis>=6.100" "duckdb>=1.0" "polars>=1.0"
    .tox/py314/bin/python -m pytest -p no:cacheprovider -q tests/
fi

if [ -n "$free_threaded" ]; then
    # the free-threaded paths (threads really in parallel, the GIL coming back on, the
    # accounting of parallel threads, wheels that declare free-threading) on the
    # free-threaded build: the GIL tests and the models' and accounting's end-to-end
    # tests; the rest of the suite does not depend on the build, and runs on 3.14 above
    echo "== the free-threaded paths on the free-threaded build ($free_threaded)"
    PIP_ONLY_BINARY=:all: "$free_threaded" -m pip install --quiet "hypothesis>=6.100"
    "$free_threaded" -m pytest -p no:cacheprovider -q tests/test_gil.py \
        tests/test_models.py tests/test_models_e2e.py tests/test_accounting.py \
        tests/test_timeline.py tests/test_subinterpreters.py
fi

echo "== tox matrix done in $((SECONDS - started)) s"
