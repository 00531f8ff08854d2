"""The session hooks of the advice: store the recommendations once the rounds are saved,
and print the decisions after the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .._running.session import ConcurSession

if TYPE_CHECKING:
    import pandas as pd


class AdviceHooks:
    """Per-session advice state (on the plugin manager, never global)."""

    def __init__(self, state: ConcurSession, *, worker: bool) -> None:
        self._state = state
        self._worker = worker
        self._notice: str | None = None

    def _frames(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """The session's rounds and tasks, read back from what was written."""
        state = self._state
        frame = state.report_frame()
        written = state.written
        if frame is None or frame.empty or written is None:
            return frame, None
        from ..analysis import load_companion

        tasks_file = written.with_name(f"{state.environment.run_id}.tasks.parquet")
        return frame, load_companion(tasks_file, "tasks") if tasks_file.is_file() else None

    @pytest.hookimpl(trylast=True)  # after the rounds are saved: read back from the file
    def pytest_sessionfinish(self) -> None:
        state = self._state
        if self._worker or not state.settings.save or state.written is None:
            return
        frame, tasks = self._frames()
        if frame is None or frame.empty:
            return
        from .frames import recommendations
        from .store import write_recommendations

        try:
            write_recommendations(
                recommendations(frame, tasks), state.written.parent, state.environment.run_id
            )
        except OSError as exc:
            self._notice = f"recommendations could not be written: {exc}"

    @pytest.hookimpl(trylast=True)  # after the rounds report
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self._worker:
            return
        if self._state.settings.report:
            frame, tasks = self._frames()
            if frame is not None and not frame.empty:
                from .lines import decision_lines

                terminalreporter.section("pytest-concur decisions")
                for line in decision_lines(frame, tasks):
                    terminalreporter.write_line(line)
        if self._notice is not None:
            terminalreporter.write_line(f"pytest-concur: {self._notice}", yellow=True, bold=True)
