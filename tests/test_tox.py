"""The tox matrix and its CI scripts say what docs/xdist-and-tox.md promises."""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
MATRIX = ["py311", "py312", "py313", "py313t", "py314", "py314t"]


def tox_ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini", encoding="utf-8")
    return parser


def test_matrix_covers_every_version_and_skips_missing_ones() -> None:
    ini = tox_ini()
    envs = [env.strip() for env in ini["tox"]["env_list"].split(",")]
    assert envs == MATRIX
    assert ini["tox"]["skip_missing_interpreters"].strip() == "true"


def test_every_environment_writes_quick_runs_into_one_folder() -> None:
    commands = " ".join(tox_ini()["testenv"]["commands"].split())
    assert "pytest experiments" in commands
    assert "--concur-quick" in commands
    assert "--concur-results {env:CONCUR_TOX_RESULTS:{toxinidir}{/}results{/}tox}" in commands
    assert "{posargs}" in commands


def test_report_compares_across_python_versions() -> None:
    commands = " ".join(tox_ini()["testenv:report"]["commands"].split())
    assert commands.startswith("pytest-concur report ")
    assert "--by python" in commands


@pytest.mark.parametrize("script", ["tox-matrix.sh", "install-free-threaded.sh"])
def test_ci_scripts_are_valid_bash(script: str) -> None:
    path = ROOT / ".ci" / script
    assert os.access(path, os.X_OK), f"{path} is not executable"
    subprocess.run(["bash", "-n", str(path)], check=True, timeout=30)


def test_free_threaded_environments_install_binary_wheels_only() -> None:
    if importlib.util.find_spec("tox") is None:
        pytest.skip("tox is not installed here; it resolves the configuration")
    done = subprocess.run(
        [sys.executable, "-m", "tox", "config", "-e", ",".join(MATRIX), "-k", "set_env",
         "package"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sections = done.stdout.split("[testenv:")[1:]
    seen = {}
    for section in sections:
        name, body = section.split("]", 1)
        seen[name] = body
    assert sorted(seen) == sorted(MATRIX)
    for name, body in seen.items():
        # a wheel of the project: nothing is built from source in the environment
        assert "package = wheel" in body, name
        assert ("PIP_ONLY_BINARY=:all:" in body) == name.endswith("t"), name
