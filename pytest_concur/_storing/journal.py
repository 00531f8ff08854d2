"""A worker's rows of the test item in progress, on disk until its report carries them.

Under pytest-xdist, rows ride on a test item's call report to the controller. A worker
that crashes (``os._exit``, a segfault, the OOM killer) or is interrupted in the middle
of an item sends no report, and the rounds it measured for that item would be lost.
So each worker also appends every row to its journal, one JSON line per round.

A report that a worker has sent is not yet one the controller has read: on Ctrl-C the
controller stops with reports still on their way (more of them while it is busy, as at
its first report, when it sets up for experiments). So a worker does not forget rows once
they are on a report: it keeps writing, and only when its journal has grown past
``RETAIN_BYTES`` does it switch to a second file, emptying it first. The rows of the
items reported last are always in one of the two. At the end of the session the
controller adopts the journaled rows of items whose report it never read.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Container, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, final

JOURNAL_KEY: Final = "concur_journal"
#: A journal file past this size, at an item's end, hands over to its twin (emptied).
RETAIN_BYTES: Final = 4 * 1024 * 1024


@final
class Journal:
    """One worker's journal: append-only lines in two files that take turns."""

    def __init__(self, folder: Path, worker: str, retain_bytes: int = RETAIN_BYTES) -> None:
        self._paths = tuple(folder / f"{worker}-{os.getpid()}-{n}.jsonl" for n in (0, 1))
        self._current = 0
        self._retain_bytes = retain_bytes
        self._fd: int | None = None
        self._broken = False

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row.

        A journal that cannot be written is given up: the rows still go on reports, only
        the insurance against a crash is lost.
        """
        if self._broken:
            return
        # NaN stays NaN: Python's json writes and reads it (both ends are this package)
        line = json.dumps(dict(row)) + "\n"
        try:
            if self._fd is None:
                path = self._paths[self._current]
                path.parent.mkdir(parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC
                self._fd = os.open(path, flags, 0o644)
            # one write per line: a crash can cut only the last line, which readers skip
            os.write(self._fd, line.encode())
        except OSError:
            self._broken = True

    def clear(self) -> None:
        """The item's rows are on their way in a report, which the controller may never
        read: they are kept until this file is full, then the twin file takes over."""
        if self._fd is None or self._broken:
            return
        try:
            if os.fstat(self._fd).st_size < self._retain_bytes:
                return
            os.close(self._fd)
        except OSError:
            self._broken = True
            return
        self._fd = None  # the next write empties the twin and appends there
        self._current = 1 - self._current

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@final
class JournalFolder:
    """The controller's folder of worker journals, made on first use, removed at the end."""

    def __init__(self) -> None:
        self._path: Path | None = None
        #: journals that could not be read: their rows are lost, and the user is told
        self.notices: list[str] = []

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix="pytest-concur-journal-"))
        return self._path

    def has_rows(self) -> bool:
        """Whether any worker journaled a row that no report delivered (cheap: file sizes)."""
        if self._path is None:
            return False
        return any(journal.stat().st_size > 0 for journal in self._path.glob("*.jsonl"))

    def undelivered(
        self, delivered: Container[tuple[Any, Any]] = ()
    ) -> Iterator[dict[str, Any]]:
        """Rows that workers journaled but no report delivered; each journal then empties.

        ``delivered`` holds the ``(xdist_worker, test_id)`` of every item whose report the
        controller read: its rows are already in, and are skipped.
        """
        if self._path is None:
            return
        for journal in sorted(self._path.glob("*.jsonl")):
            try:
                text = journal.read_text(encoding="utf-8", errors="replace")
                journal.write_bytes(b"")
            except OSError as exc:
                self.notices.append(f"could not read the journal {journal}: {exc}")
                continue
            for line in text.splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # the line a crash cut short
                if isinstance(row, dict) and (
                    (row.get("xdist_worker"), row.get("test_id")) not in delivered
                ):
                    yield row

    def remove(self) -> None:
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None


def worker_journal(config: object) -> Journal | None:
    """This xdist worker's journal, where the controller asked for one; None elsewhere."""
    given = getattr(config, "workerinput", None)
    folder = given.get(JOURNAL_KEY) if isinstance(given, dict) else None
    if not isinstance(folder, str):
        return None
    assert isinstance(given, dict)
    return Journal(Path(folder), str(given.get("workerid", "worker")))


@final
class JournalHooks:
    """The xdist hook on the controller that tells each worker where to keep its journal."""

    def __init__(self, folder: JournalFolder) -> None:
        self._folder = folder

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[JOURNAL_KEY] = str(self._folder.path)
