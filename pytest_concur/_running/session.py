"""Session state: the rows measured so far, where they go, and what changed on the way."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .._measuring.environment import Environment
from .._measuring.gil import GilWatch
from .._storing.journal import Journal, JournalFolder
from .._storing.layout import final_path
from .._storing.recovery import recover
from .._storing.schema import ROUNDS_SCHEMA, RUNS_SCHEMA
from .._storing.spill import Spill, check_writable, fallback_folder, unwritable_reason
from ..models import Model
from .configuration import Settings
from .run_record import RunOrigin, as_metadata, runs_row

if TYPE_CHECKING:
    import pandas as pd


@dataclass(slots=True)
class ConcurSession:
    """Everything pytest-concur keeps for one pytest session (on config.stash, never global).

    Rows are not kept here: they go to a :class:`~pytest_concur._storing.spill.Spill` as they
    arrive, which holds a few thousand in memory and the rest on disk, so a session of
    any size stays small and an interrupted one loses nothing already measured.
    """

    settings: Settings
    environment: Environment
    models: Mapping[str, Model]
    gil: GilWatch = field(default_factory=GilWatch)
    #: the session's rounds file once it is written (None when nothing was saved)
    written: Path | None = None
    #: what the user must hear about where rows went and what went wrong
    notices: list[str] = field(default_factory=list)
    #: the results folder cannot be written: rows go to the fallback from the start
    unwritable: str | None = None
    #: xdist worker: the rows of the item in progress, on disk until a report has them
    journal: Journal | None = None
    #: xdist controller: the workers' journals, adopted at the end (rows of crashed items)
    journals: JournalFolder | None = None
    #: where the run came from, recorded in the runs table (None on an xdist worker)
    origin: RunOrigin | None = None
    #: the runs-table row as key/values, for the metadata of files written after save()
    run_metadata: dict[str, str] = field(default_factory=dict)
    #: the system check's one warning line (the report's first line); None: nothing to say
    system_check: str | None = None
    _spill: Spill | None = field(default=None, repr=False)
    _scratch: Path | None = field(default=None, repr=False)  # rows of a --concur-no-save run
    #: each table's file once saved (in the results folder, or the scratch of --concur-no-save)
    _saved: dict[str, Path] = field(default_factory=dict, repr=False)
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    #: (xdist worker, test id) of every item whose report the controller read
    _delivered: set[tuple[Any, Any]] = field(default_factory=set, repr=False)

    @property
    def results_path(self) -> Path:
        return final_path(self.settings.results_dir, self.environment.run_id)

    @property
    def rows_measured(self) -> int:
        """Rounds received so far (all of them, however many were spilled to disk)."""
        return self._spill.counts.get("rounds", 0) if self._spill is not None else 0

    def check_results_folder(self, *, create: bool) -> str | None:
        """Why rows could not be saved in the results folder; None when they can.

        ``create`` makes the folder and writes a probe into it (when experiments are
        about to run); without it nothing is created (when it is not yet known).
        """
        if not self.settings.save:
            return None
        folder = self.settings.results_dir
        return check_writable(folder) if create else unwritable_reason(folder)

    def recover(self) -> None:
        """Merge what killed sessions left in the results folder (their rows were measured)."""
        if self.settings.save and self.settings.results_dir.is_dir():
            self.notices.extend(recover(self.settings.results_dir))

    def _spill_for_rows(self) -> Spill:
        if self._spill is None:
            run_id = self.environment.run_id
            if not self.settings.save:
                self._scratch = Path(tempfile.mkdtemp(prefix="pytest-concur-"))
                self._spill = Spill(self._scratch, run_id)
            elif self.unwritable is not None:
                self._spill = Spill(fallback_folder(), run_id)
                self.notices.append(
                    f"results folder {self.settings.results_dir} cannot be written "
                    f"({self.unwritable}); rows are kept in {fallback_folder()} instead"
                )
            else:
                self._spill = Spill(self.settings.results_dir, run_id, fallback=fallback_folder())
        return self._spill

    def add_rows(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        table: str = "rounds",
        schema: pa.Schema = ROUNDS_SCHEMA,
    ) -> None:
        """Take rows of ``table`` (rounds, or a companion kind with its schema)."""
        if rows:
            self._spill_for_rows().add(rows, table=table, schema=schema)

    def add_reported_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """On the xdist controller: an item's rows, read from its report."""
        self._delivered.update((row.get("xdist_worker"), row.get("test_id")) for row in rows)
        self.add_rows(rows)

    def journal_row(self, row: Mapping[str, Any]) -> None:
        """On a worker: keep a measured row on disk until its report carries it."""
        if self.journal is not None:
            self.journal.write(row)

    def rows_delivered(self) -> None:
        """On a worker: the item's rows are on its report, the journal may forget them."""
        if self.journal is not None:
            self.journal.clear()

    def _adopt_journals(self) -> None:
        """Rows that workers measured but never reported: a worker crashed mid-item."""
        if self.journals is None:
            return
        adopted = 0
        for row in self.journals.undelivered(self._delivered):
            self.add_rows([row])
            adopted += 1
        self.notices.extend(self.journals.notices)
        if adopted:
            self.notices.append(
                f"{adopted} rows of test items whose xdist worker crashed or was interrupted "
                f"before the controller read their report were taken from its journal"
            )

    def item_done(self) -> None:
        """A test item ended: a good moment to spill rows, between measurements."""
        if self._spill is not None:
            self._spill.checkpoint()

    def save(self, *, complete: bool = True) -> Path | None:
        """Write every table's rows into its file; never raises for a folder that fails.

        ``complete`` False (an interrupted session) marks every row
        ``session_complete=False``. Returns the rounds file, None when nothing was saved.
        """
        self._adopt_journals()
        spill = self._spill
        if spill is None:
            return None
        self._record_run(spill, complete=complete)
        written = spill.finish(complete=complete)
        self.notices.extend(spill.notices)
        spill.notices.clear()
        self._saved = dict(written)
        self._frames.clear()
        if self.settings.save:
            self.written = written.get("rounds")
        return self.written

    def _record_run(self, spill: Spill, *, complete: bool) -> None:
        """The runs-table row, and its facts in every file's metadata."""
        if self.origin is None:
            return
        folder = self.settings.results_dir if self.settings.save else None
        row, notices = runs_row(
            self.origin, self.environment, rounds=self.rows_measured, complete=complete,
            results_dir=folder,
        )  # fmt: skip
        self.notices.extend([*self.origin.notes, *notices])
        self.system_check = row["system_check"]
        spill.provenance = self.run_metadata = as_metadata(row)
        spill.add([row], table="runs", schema=RUNS_SCHEMA)

    def table(self, kind: str = "rounds") -> pd.DataFrame | None:
        """This session's rows of ``kind`` (rounds, tasks, cores) as a frame; None if none.

        Whether or not the session saves (``--concur-no-save`` keeps its files in a
        scratch folder until the end), every output gets its rows here, from the
        session that holds them, never from a file another hook was to write. Read
        once after :meth:`save` and kept, so the terminal report, claims and outputs
        all see the same rows; each caller gets its own shallow copy to add columns to.
        """
        from .._storing.frames import KINDS, load_kind, rows_frame

        schema, categories = KINDS[kind]
        frame = self._frames.get(kind)
        if frame is None:
            saved = self._saved.get(kind)
            if saved is not None:
                frame = load_kind(saved, kind, schema, categories)
                pa.default_memory_pool().release_unused()  # Arrow's buffers of the read
                self._frames[kind] = frame
            elif self._spill is None or not self._spill.counts.get(kind):
                return None
            else:
                # not written (yet, or anywhere): what is on disk and in memory
                import pandas as pd

                parts, rows = self._spill.leftovers(kind)
                frames = [load_kind(parts, kind, schema, categories)] if parts else []
                frames.append(rows_frame(rows, kind))
                return pd.concat(frames, ignore_index=True)
        return frame.copy(deep=False)

    def report_frame(self) -> pd.DataFrame | None:
        """The measured rounds (see :meth:`table`)."""
        return self.table("rounds")

    def close(self) -> None:
        """Let go of locks, journals, and the rows of a run that saves nothing."""
        self._frames.clear()
        if self._spill is not None:
            self._spill.close()
        if self.journal is not None:
            self.journal.close()
        if self.journals is not None:
            self.journals.remove()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
