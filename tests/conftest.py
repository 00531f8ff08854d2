"""Test configuration: the pytester fixture drives the plugin end to end."""

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

# These 2-core machines are shared: a property test's example can take 200 ms when other
# work runs beside it. Hypothesis' per-example deadline and slow-data health check time
# the machine, not the code, so both are off; the properties themselves still decide.
settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shared-machine")

# The suite starts about 150 pytest sessions as processes of their own. Where bytecode is
# not written (PYTHONDONTWRITEBYTECODE, as in this project's containers), each compiles
# the plugin, pytest's plugins and hypothesis from source again: about 1 s of a 2 s
# session. The sessions under test keep their bytecode in one folder of their own
# instead (never beside the sources); what they measure and assert is the same.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault(
    "PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir(), f"pytest-concur-pycache-{os.getuid()}"))
)


@pytest.fixture(autouse=True)
def _count_rounds_exactly(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions the tests start run the rounds they ask for: on a machine shared with
    other work a crowded round would be measured again (_running/retry.py) and add rows.
    Tests of those repeats pass --concur-crowded-retries themselves (a later option wins)."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # its setup clears PYTEST_ADDOPTS: set it after
    monkeypatch.setenv("PYTEST_ADDOPTS", "--concur-crowded-retries=0")
