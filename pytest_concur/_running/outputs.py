"""Everything a session leaves at its end, built in one place, in one fixed order.

The session's own hooks call :class:`SessionOutputs` after the rows are saved:
:meth:`~SessionOutputs.finish` judges the claims, compares with a stored run
(``--concur-compare``) and writes the HTML page (``--concur-html``);
:meth:`~SessionOutputs.write_summary` writes the terminal sections. Each output takes
the session's tables from the session itself (:meth:`ConcurSession.table`) and the
verdicts from the claims hooks in memory, so none depends on the order pytest calls
hooks in, on what another hook wrote to disk, or on whether the session saves.

Light at import: pandas and the renderers load when an output is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .._storing.layout import results_folder
from .claims import ClaimHooks
from .session import ConcurSession

if TYPE_CHECKING:
    import pandas as pd

    from .._reporting.compare import Comparison


class SessionOutputs:
    """The terminal report, verdicts, comparison and HTML page of one session."""

    def __init__(self, session: ConcurSession, claims: ClaimHooks, invocation_dir: Path) -> None:
        self._session = session
        self._claims = claims
        settings = session.settings
        self._baseline: list[Path] | None = None
        self._comparison: Comparison | None = None
        self._compare_note: str | None = None
        self._setup_warnings: list[str] = []
        self._html_written: Path | None = None
        self._html_error: str | None = None
        #: why the recommendations table could not be written, if it could not
        self._advice_notice: str | None = None
        if settings.compare:
            from .._reporting.compare import resolve_source

            # an explicit run or path that does not exist is a usage error before any test runs
            try:
                self._baseline = resolve_source(
                    settings.compare, settings.results_dir, base=invocation_dir
                )
            except FileNotFoundError as exc:
                raise pytest.UsageError(f"--concur-compare: {exc}") from None

    # ------------------------------------------------------------------------ building

    def finish(self, session: pytest.Session) -> None:
        """After the rows are saved: verdicts, then the comparison, then the HTML page."""
        settings = self._session.settings
        rounds = self._session.table("rounds")
        self._claims.judge(session, rounds)
        if settings.save and self._session.written is not None:
            self._store_advice(
                rounds,
                self._session.table("tasks"),
                results_folder(self._session.written),
                self._session.environment.run_id,
                self._session.run_metadata,
            )
        if settings.compare is not None:
            self._compare(session, rounds)
        if settings.html is not None:
            self._write_html(rounds)

    def _store_advice(
        self,
        rounds: pd.DataFrame | None,
        tasks: pd.DataFrame | None,
        folder: Path,
        run_id: str,
        provenance: Mapping[str, str] | None,
    ) -> None:
        """Write the recommendations table next to the rounds (when the session saves)."""
        if rounds is None or rounds.empty:
            return
        from .._advice.frames import recommendations
        from .._advice.store import write_recommendations

        try:
            write_recommendations(recommendations(rounds, tasks), folder, run_id, provenance)
        except OSError as exc:
            self._advice_notice = f"recommendations could not be written: {exc}"

    def _compare(self, session: pytest.Session, rounds: pd.DataFrame | None) -> None:
        from .._reporting.compare import compare_frames
        from .._storing.catalog import newest_run
        from ..analysis import load

        settings = self._session.settings
        if rounds is None or rounds.empty:
            self._compare_note = "no rounds were measured in this session: nothing to compare"
            return
        paths = self._baseline
        if paths is None:
            newest = newest_run(settings.results_dir, exclude=self._session.environment.run_id)
            if newest is None:
                self._compare_note = (
                    f"no stored run in {settings.results_dir} to compare with (this session's "
                    f"results will be the baseline next time)"
                )
                return
            paths = [newest]
        self._compare_note = f"compared with {', '.join(str(p) for p in paths)}"
        baseline = load(paths)
        self._comparison = compare_frames(baseline, rounds, thresholds=settings.compare_fail)
        from .._reporting.json_output import setup_differences  # pandas: only when comparing

        self._setup_warnings = setup_differences(
            paths, baseline, self._session.written, self._session.environment.run_id
        )
        # a regression fails a session that would otherwise pass; worse outcomes stay
        if self._comparison.failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write_html(self, rounds: pd.DataFrame | None) -> None:
        import pandas as pd

        from .._reporting.html_page import report_html

        settings = self._session.settings
        assert settings.html is not None
        tasks = self._session.table("tasks")
        cores = self._session.table("cores")
        page = report_html(
            rounds if rounds is not None else pd.DataFrame(),
            tasks=tasks,
            cores=cores,
            verdicts=self._claims.verdict_frame(),
            title="pytest-concur report",
        )
        try:
            settings.html.parent.mkdir(parents=True, exist_ok=True)
            settings.html.write_text(page, encoding="utf-8")
        except OSError as exc:
            self._html_error = f"could not write the HTML report to {settings.html}: {exc}"
            return
        self._html_written = settings.html

    # ------------------------------------------------------------------------ terminal

    def write_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The report, where rows went, the claims, the comparison, the page: in this order."""
        session = self._session
        frame = session.table("rounds") if session.settings.report else None
        if frame is not None:
            from .._reporting.terminal import report_lines

            terminalreporter.section("pytest-concur report")
            if session.system_check:  # what on this machine moves the numbers below
                terminalreporter.write_line(session.system_check, yellow=True, bold=True)
            for line in report_lines(frame):
                terminalreporter.write_line(line)
            # the variant to use and why (docs/decisions.md)
            decisions = _decision_lines(frame, session.table("tasks"))
            if decisions:
                terminalreporter.section("pytest-concur decisions")
                for line in decisions:
                    terminalreporter.write_line(line)
        notices = [*session.notices, *([self._advice_notice] if self._advice_notice else [])]
        if frame is None and session.system_check:
            notices.append(session.system_check)  # no report to head: said with the notices
        for notice in notices:
            terminalreporter.write_line(f"pytest-concur: {notice}", yellow=True, bold=True)
        if session.written is not None:
            terminalreporter.write_line(
                f"pytest-concur: {session.rows_measured} rows written to {session.written}"
            )
        self._claims.write_summary(terminalreporter)
        self._write_comparison(terminalreporter)
        if self._html_written is not None:
            terminalreporter.write_line(
                f"pytest-concur: HTML report written to {self._html_written}"
            )
        if self._html_error is not None:
            terminalreporter.write_line(
                f"pytest-concur: {self._html_error}", yellow=True, bold=True
            )

    def _write_comparison(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self._session.settings.compare is None:
            return
        from .._reporting.compare import comparison_notes, comparison_rows, flagged_keys
        from .._reporting.tables import aligned

        terminalreporter.section("pytest-concur compare")
        if self._compare_note:
            terminalreporter.write_line(self._compare_note)
        comparison = self._comparison
        if comparison is None:
            return
        rows = comparison_rows(comparison.table, flagged_keys(comparison))
        for line in aligned(rows, left=3) if len(rows) > 1 else []:
            terminalreporter.write_line("  " + line)
        for note in comparison_notes(comparison):
            terminalreporter.write_line(note)
        for warning in self._setup_warnings:
            terminalreporter.write_line(f"warning: {warning}", yellow=True)
        if comparison.failed:
            limits = ", ".join(sorted({str(t) for t in comparison.regressions["threshold"]}))
            terminalreporter.write_line(
                f"FAIL pytest-concur: {len(comparison.regressions)} variant(s) got "
                f"slower than --concur-compare-fail={limits} allows",
                red=True,
                bold=True,
            )


def _decision_lines(rounds: pd.DataFrame | None, tasks: pd.DataFrame | None) -> list[str]:
    """One decision line per experiment and parameter set (empty without rounds)."""
    if rounds is None or rounds.empty:
        return []
    from .._advice.lines import decision_lines

    return list(decision_lines(rounds, tasks))
