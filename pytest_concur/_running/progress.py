"""Progress of long experiments: with ``-v``, each round's wall time as the round ends.

pytest's own progress is per test item, and one item of an experiment runs all its
rounds; a slow variant would look stuck. The line of the item grows instead:
``test_pi[threads-2] 0.87sw 0.86s 0.88s PASSED`` (``w``: a warm-up round, ``c``: a
crowded one, docs/adaptive-rounds.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any

import pytest


def _ignore(row: Mapping[str, Any]) -> None:
    return None


def round_progress(config: pytest.Config) -> Callable[[Mapping[str, Any]], None]:
    """A callback for each finished round: writes its wall time in verbose mode, else nothing.

    xdist workers have no terminal of their own; their progress is xdist's.
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.get_verbosity() < 1 or hasattr(config, "workerinput"):
        return _ignore

    capture = config.pluginmanager.get_plugin("capturemanager")

    def show(row: Mapping[str, Any]) -> None:
        # warm-up rounds are not in the statistics; crowded ones are measured again
        mark = "w" if row.get("warmup") else ("c" if row.get("crowded") else "")
        # the round runs inside the test call, where pytest captures the terminal
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            reporter.write(f"{row['wall_s']:.3g}s{mark} ")
            reporter.flush()

    return show
