"""pytest-xdist: the session's identity for workers, and one measuring worker at a time.

Rows ride on call-phase reports, so xdist brings them to the controller, which writes
the session's one file; nothing here moves rows. What this module adds:

- The controller hands every worker the session's run id and start time, so all rows
  of one session share them, while each worker computes the rest of its environment
  itself (a worker may run another interpreter or sit on another host).
- Exclusive measurement. The controller makes a per-session folder and passes a lock
  file in it to every worker through ``workerinput``. A worker holds an exclusive
  ``flock`` on that file around each measured round (the before- and after-snapshots
  and the timed window between them), so no two workers of the session measure at the
  same time on one host, while collection, fixture setup and teardown go on in
  parallel. The lock is taken per round, not per test item: a waiting worker waits at
  most one round, not a whole item of many rounds, and the time it waited is stored
  (``lock_wait_s``). Each round starts and stops its own pool inside the window, so
  nothing of a round outlives its lock.
- Workers on other hosts open the same path on their own host, so the lock keeps
  apart the workers that share a machine, which are the ones that disturb each other.
  Where that path cannot be made (another temporary folder layout, or a user without
  rights to it), a worker uses the same folder name under its own host's temporary
  folder, which every such worker of the session on that host agrees on.
- A local worker on another interpreter (``--tx popen//python=...``) keeps its own
  ``sys.path``: pytest-xdist would give it the controller's, whose standard library and
  site-packages belong to another Python, and it could not even load its plugins
  (pytest-xdist issue #1049).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, final

from .._storing.locking import LOCKING, lock, unlock

RUN_ID_KEY: Final = "concur_run_id"
STARTED_AT_KEY: Final = "concur_started_at"
LOCK_KEY: Final = "concur_measure_lock"
#: the controller's --dist: xdist sets a worker's own to "no"
DIST_KEY: Final = "concur_dist"


def distribution(config: object) -> str | None:
    """On an xdist worker, how the controller distributes items (``--dist``); else None."""
    given = worker_input(config)
    return None if given is None else str(given.get(DIST_KEY, "load"))


def worker_input(config: object) -> dict[str, Any] | None:
    """What the controller sent this worker; None outside an xdist worker."""
    value = getattr(config, "workerinput", None)
    return value if isinstance(value, dict) else None


def is_worker(config: object) -> bool:
    return worker_input(config) is not None


def session_identity(config: object) -> tuple[str | None, datetime | None]:
    """The controller's run id and start time on a worker; (None, None) elsewhere."""
    given = worker_input(config) or {}
    run_id = given.get(RUN_ID_KEY)
    started = given.get(STARTED_AT_KEY)
    return (
        run_id if isinstance(run_id, str) else None,
        datetime.fromisoformat(started) if isinstance(started, str) else None,
    )


def _open_lock_file(path: Path) -> int:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@final
class MeasureLock:
    """An exclusive ``flock`` on one file, shared by the workers of a session on a host."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file: the controller's path, or this host's fallback once opened."""
        return self._path

    def _open(self) -> int:
        if self._fd is None:
            try:
                # a remote worker gets the controller's path: make it on this host too
                self._fd = _open_lock_file(self._path)
            except OSError:
                # e.g. the controller's $TMPDIR does not exist on this host and cannot be
                # made: failing here would fail every round of this worker
                fallback = Path(tempfile.gettempdir(), self._path.parent.name, self._path.name)
                if fallback == self._path:
                    raise
                self._fd = _open_lock_file(fallback)
                self._path = fallback
        return self._fd

    @contextmanager
    def hold(self) -> Iterator[float]:
        """Hold the lock for the block; yields how many seconds it took to get it."""
        fd = self._open()
        asked = time.perf_counter()
        lock(fd, wait=True)
        waited = time.perf_counter() - asked
        try:
            yield waited
        finally:
            unlock(fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_NO_LOCK: Final = nullcontext(None)


@dataclass(frozen=True, slots=True)
class MeasureGuard:
    """How this process keeps its measured rounds apart from other workers' rounds.

    ``exclusive`` is what rows record: no other worker of this session measured on
    this host while the round ran (always so without xdist, where one process runs
    every round).
    """

    exclusive: bool
    lock: MeasureLock | None = None

    def hold(self) -> AbstractContextManager[float | None]:
        """Around one measured round; yields the lock wait in seconds, None without a lock."""
        if self.lock is None:
            return _NO_LOCK  # every round outside xdist: no generator to make and run
        return self.lock.hold()

    def close(self) -> None:
        if self.lock is not None:
            self.lock.close()


def measure_guard(config: object, *, allow_overlap: bool) -> MeasureGuard:
    """The guard for this process: no lock outside xdist, the session's lock on a worker."""
    given = worker_input(config)
    if given is None:
        return MeasureGuard(exclusive=True)
    path = given.get(LOCK_KEY)
    if allow_overlap or not isinstance(path, str) or not LOCKING:
        # overlap was asked for, the controller sent no lock, or this system cannot lock
        # files: nothing keeps rounds apart, and the rows say so
        return MeasureGuard(exclusive=False)
    return MeasureGuard(exclusive=True, lock=MeasureLock(Path(path)))


def keep_own_sys_path(spec: Any) -> bool:
    """Let a local worker on a named interpreter keep that interpreter's own ``sys.path``.

    pytest-xdist sends every local (popen) worker the controller's ``sys.path`` and
    replaces the worker's with it; for a worker that runs another Python that means the
    wrong standard library and site-packages (pytest-xdist issue #1049). xdist leaves
    ``sys.path`` alone for workers it does not consider local, adding only the working
    directory, so the spec stops saying popen once the gateway is up (it was read to
    start the process and is read again only for that choice). Returns whether it did.
    """
    if not getattr(spec, "popen", False) or not getattr(spec, "python", None):
        return False
    spec.popen = None
    return True


@final
class ControllerHooks:
    """xdist hooks on the controller: each worker gets the session's identity and lock."""

    def __init__(self, run_id: str, started_at: datetime, *, allow_overlap: bool) -> None:
        self._run_id = run_id
        self._started_at = started_at
        self._allow_overlap = allow_overlap
        self._folder: Path | None = None

    def lock_path(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix=f"pytest-concur-{self._run_id}-"))
        return self._folder / "measure.lock"

    def pytest_configure_node(self, node: Any) -> None:
        keep_own_sys_path(node.gateway.spec)
        node.workerinput[RUN_ID_KEY] = self._run_id
        node.workerinput[STARTED_AT_KEY] = self._started_at.isoformat()
        option = getattr(getattr(node, "config", None), "option", None)
        node.workerinput[DIST_KEY] = str(getattr(option, "dist", "load"))
        if not self._allow_overlap:
            node.workerinput[LOCK_KEY] = str(self.lock_path())

    def close(self) -> None:
        """Remove the session's lock folder (workers have ended when pytest unconfigures)."""
        if self._folder is not None:
            with contextlib.suppress(FileNotFoundError):  # already gone: nothing to clean
                shutil.rmtree(self._folder)
            self._folder = None
