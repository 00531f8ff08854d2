"""The tox matrix and its CI scripts work as docs/xdist-and-tox.md promises.

What the report environment runs (``pytest-concur report --by python``) is tested in
tests/test_cli.py; here tox itself resolves the matrix, and bash parses the scripts.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
MATRIX = ["py311", "py312", "py313", "py313t", "py314", "py314t", "py315", "py315t"]
#: the 3.14/3.15 builds of this machine install binary wheels only, like free-threaded ones
BINARY_ONLY = {"py313t", "py314", "py314t", "py315", "py315t"}


@pytest.mark.parametrize(
    "script", ["tox-matrix.sh", "install-pythons.sh", "install-free-threaded.sh"]
)
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
        assert ("PIP_ONLY_BINARY=:all:" in body) == (name in BINARY_ONLY), name
