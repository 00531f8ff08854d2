"""Session state: the rows measured so far, where they go, and what changed on the way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._environment import Environment, gil_enabled
from ._settings import Settings
from ._storage import write_rows
from .models import Model


@dataclass(slots=True)
class ConcurSession:
    """Everything pytest-concur keeps for one pytest session (on config.stash, never global)."""

    settings: Settings
    environment: Environment
    models: Mapping[str, Model]
    rows: list[dict[str, Any]] = field(default_factory=list)
    gil_at_start: bool = field(default_factory=gil_enabled)
    gil_warned: bool = False
    written: Path | None = None

    @property
    def results_path(self) -> Path:
        return self.settings.results_dir / f"{self.environment.run_id}.parquet"

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows.extend(rows)

    def save(self) -> Path | None:
        """Write every row collected so far (atomically; a later save replaces it whole)."""
        if not self.settings.save or not self.rows:
            return None
        self.written = write_rows(self.rows, self.results_path)
        return self.written
