"""What a session leaves besides its results file: a comparison with a stored run, an HTML page.

Registered by the plugin on the xdist controller (or a plain session) only; it reads
the rounds back from what the session wrote, like the terminal report does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .._running.session import ConcurSession
from .._storing.files import final_path
from .compare import (
    Comparison,
    compare_frames,
    comparison_notes,
    comparison_rows,
    flagged_keys,
    newest_run,
    resolve_source,
)
from .tables import aligned


class OutputHooks:
    """``--concur-compare``, ``--concur-compare-fail`` and ``--concur-html`` for one session."""

    def __init__(self, state: ConcurSession, invocation_dir: Path) -> None:
        self._state = state
        settings = state.settings
        self._baseline: list[Path] | None = None
        self._comparison: Comparison | None = None
        self._compare_note: str | None = None
        self._html_written: Path | None = None
        self._html_error: str | None = None
        if settings.compare:
            # an explicit run or path that does not exist is a usage error before any test runs
            try:
                self._baseline = resolve_source(
                    settings.compare, settings.results_dir, base=invocation_dir
                )
            except FileNotFoundError as exc:
                raise pytest.UsageError(f"--concur-compare: {exc}") from None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # trylast: the session's own hook has written the rows by now
        settings = self._state.settings
        frame = None
        if settings.compare is not None or settings.html is not None:
            frame = self._state.report_frame()
        if settings.compare is not None:
            self._compare(session, frame)
        if settings.html is not None:
            self._write_html(frame)

    def _compare(self, session: pytest.Session, frame: object) -> None:
        import pandas as pd

        from ..analysis import load

        settings = self._state.settings
        if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
            self._compare_note = "no rounds were measured in this session: nothing to compare"
            return
        paths = self._baseline
        if paths is None:
            newest = newest_run(settings.results_dir, exclude=self._state.environment.run_id)
            if newest is None:
                self._compare_note = (
                    f"no stored run in {settings.results_dir} to compare with (this session's "
                    f"results will be the baseline next time)"
                )
                return
            paths = [newest]
        self._compare_note = f"compared with {', '.join(str(p) for p in paths)}"
        baseline = load(paths)
        self._comparison = compare_frames(baseline, frame, thresholds=settings.compare_fail)
        # a regression fails a session that would otherwise pass; worse outcomes stay
        if self._comparison.failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write_html(self, frame: object) -> None:
        import pandas as pd

        from ..analysis import load_companion, load_verdicts
        from .html import report_html

        settings = self._state.settings
        assert settings.html is not None
        rounds = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()
        written = self._state.written
        companions: dict[str, pd.DataFrame] = {}
        for kind in ("tasks", "cores", "verdicts"):
            path = (
                final_path(written.parent, self._state.environment.run_id, kind)
                if written is not None
                else None
            )
            if path is None or not path.is_file():
                companions[kind] = pd.DataFrame()
            elif kind == "verdicts":
                companions[kind] = load_verdicts(path)
            else:
                companions[kind] = load_companion(path, kind)
        page = report_html(
            rounds,
            tasks=companions["tasks"],
            cores=companions["cores"],
            verdicts=companions["verdicts"],
            title="pytest-concur report",
        )
        try:
            settings.html.parent.mkdir(parents=True, exist_ok=True)
            settings.html.write_text(page, encoding="utf-8")
        except OSError as exc:
            self._html_error = f"could not write the HTML report to {settings.html}: {exc}"
            return
        self._html_written = settings.html

    @pytest.hookimpl(trylast=True)  # after the session's own report and "rows written"
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        settings = self._state.settings
        if settings.compare is not None:
            terminalreporter.section("pytest-concur compare")
            if self._compare_note:
                terminalreporter.write_line(self._compare_note)
            comparison = self._comparison
            if comparison is not None:
                rows = comparison_rows(comparison.table, flagged_keys(comparison))
                for line in aligned(rows, left=3) if len(rows) > 1 else []:
                    terminalreporter.write_line("  " + line)
                for note in comparison_notes(comparison):
                    terminalreporter.write_line(note)
                if comparison.failed:
                    limits = ", ".join(
                        sorted({str(t) for t in comparison.regressions["threshold"]})
                    )
                    terminalreporter.write_line(
                        f"FAIL pytest-concur: {len(comparison.regressions)} variant(s) got "
                        f"slower than --concur-compare-fail={limits} allows",
                        red=True,
                        bold=True,
                    )
        if self._html_written is not None:
            terminalreporter.write_line(
                f"pytest-concur: HTML report written to {self._html_written}"
            )
        if self._html_error is not None:
            terminalreporter.write_line(
                f"pytest-concur: {self._html_error}", yellow=True, bold=True
            )
