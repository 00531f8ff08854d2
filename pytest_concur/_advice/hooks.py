"""The advice at session end: store the recommendations beside the rounds and give the
decision lines for the terminal. Called by the session's outputs in their fixed order
(``_reporting/outputs.py``), never a hook of its own."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class SessionAdvice:
    """The recommendations of one session, from its tables in memory."""

    def __init__(self) -> None:
        self.notice: str | None = None

    def store(
        self,
        rounds: pd.DataFrame | None,
        tasks: pd.DataFrame | None,
        folder: Path | None,
        run_id: str,
        provenance: Mapping[str, str] | None = None,
    ) -> None:
        """Write the recommendations table next to the rounds (when the session saves)."""
        if folder is None or rounds is None or rounds.empty:
            return
        from .frames import recommendations
        from .store import write_recommendations

        try:
            write_recommendations(recommendations(rounds, tasks), folder, run_id, provenance)
        except OSError as exc:
            self.notice = f"recommendations could not be written: {exc}"

    @staticmethod
    def lines(rounds: pd.DataFrame | None, tasks: pd.DataFrame | None) -> list[str]:
        """One decision line per experiment and parameter set (empty without rounds)."""
        if rounds is None or rounds.empty:
            return []
        from .lines import decision_lines

        return list(decision_lines(rounds, tasks))
