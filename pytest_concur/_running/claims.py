"""The hooks that carry claims to the end of the session, judge them, store and print verdicts.

Registered by ``plugin.py``. Claims travel the way rows do: each experiment item's
call-phase report carries its claim as plain values (``report.concur_claim``), so the
xdist controller, which collects no items, learns every claim from the reports it
receives. Verdicts are reached once, on the controller (or the only process), after
the rounds are saved, over all rows of each experiment.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .._claims.decision import Verdict
from .._claims.verdicts import ClaimSpec, evaluate_claims, refuted_claims, verdict_rows
from .._storing.files import write_rows
from .._storing.layout import companion
from .._storing.schema import VERDICTS_SCHEMA
from .experiment import experiment_of
from .session import ConcurSession

if TYPE_CHECKING:
    import pandas as pd


def claim_of(item: pytest.Item) -> ClaimSpec | None:
    """The claim an experiment item states, or None (not an experiment, or no claim)."""
    experiment = experiment_of(item)
    if experiment is None:
        return None
    spec = experiment.spec
    if spec.claim is None and not spec.expect:
        return None
    return ClaimSpec(experiment.id, spec.claim, spec.expect)


class ClaimHooks:
    """Per-session claim state (on the plugin manager, never global)."""

    def __init__(self, session: ConcurSession, *, worker: bool) -> None:
        self._session = session
        self._worker = worker
        self._claims: dict[str, ClaimSpec] = {}
        # the expectation objects themselves, when the item ran in this very process
        self._local: dict[str, ClaimSpec] = {}
        self.verdicts: list[Verdict] = []
        self.written: Path | None = None
        self._notices: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.when == "call":
            claim = claim_of(item)
            if claim is not None:
                if not self._worker:
                    self._local.setdefault(claim.experiment, claim)
                report.concur_claim = claim.to_plain()  # type: ignore[attr-defined]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._worker or report.when != "call":
            return
        plain: dict[str, Any] | None = getattr(report, "concur_claim", None)
        if plain is None:
            return
        experiment = str(plain["experiment"])
        if experiment not in self._claims:
            local = self._local.get(experiment)
            self._claims[experiment] = local if local is not None else ClaimSpec.from_plain(plain)

    def judge(self, session: pytest.Session, rounds: pd.DataFrame | None) -> None:
        """At session end, over the session's rounds (the outputs call it after the save)."""
        if self._worker or not self._claims:
            return
        import pandas as pd

        self.verdicts = evaluate_claims(
            rounds if rounds is not None else pd.DataFrame(),
            self._claims.values(),
            self._session.settings.auto_rounds.design(),
        )
        self._save()
        refuted = self._session.settings.strict and refuted_claims(self.verdicts)
        if refuted and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def verdict_frame(self) -> pd.DataFrame:
        """The verdicts as the verdicts table holds them (empty when no claim was judged)."""
        from .._storing.frames import rows_frame

        return rows_frame(verdict_rows(self.verdicts, self._session.environment), "verdicts")

    def _save(self) -> None:
        written = self._session.written
        if not self._session.settings.save or written is None or not self.verdicts:
            return
        path = companion(written, "verdicts")
        try:
            self.written = write_rows(
                verdict_rows(self.verdicts, self._session.environment),
                path,
                schema=VERDICTS_SCHEMA,
                table="verdicts",
                provenance=self._session.run_metadata,
            )
        except OSError as exc:
            self._notices.append(f"verdicts could not be written to {path}: {exc}")

    def write_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The claims section of the terminal report (the outputs call it in their order)."""
        if self._worker or not self._claims:
            return
        settings = self._session.settings
        if settings.report:
            from .._reporting.verdicts import verdict_lines

            terminalreporter.section("pytest-concur claims")
            for line in verdict_lines(self.verdict_frame()):
                terminalreporter.write_line(line)
        for notice in self._notices:
            terminalreporter.write_line(f"pytest-concur: {notice}", yellow=True, bold=True)
        if self.written is not None:
            terminalreporter.write_line(
                f"pytest-concur: {len(self.verdicts)} verdicts written to {self.written}"
            )
        refuted = refuted_claims(self.verdicts)
        if settings.strict and refuted:
            terminalreporter.write_line(
                f"pytest-concur: --concur-strict: {len(refuted)} claim(s) refuted, failing "
                f"the session:",
                red=True,
                bold=True,
            )
            for claim in refuted:
                terminalreporter.write_line(f"  REFUTED  {claim}", red=True)
