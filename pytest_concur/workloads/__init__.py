"""Reference workloads from the study notes, each correct and checked.

Every function here is defined at module level, so process-based models can pickle it.

* CPU-bound: ``pi_digits`` (pi to 1000 places by a pure-Python spigot), checked by
  ``is_pi`` (Machin's formula) and ``PI_1000_SHA256``.
* IO-bound, network: ``LatencyServer`` (a slow site on 127.0.0.1 in its own process) and
  ``fetch`` (blocking), ``fetch_polling`` (non-blocking, polled), ``fetch_async``.
* IO-bound, files: ``make_files`` and ``process_file`` (read from storage, not the cache).
* Waiting: ``sleep``, ``async_sleep``, and ``swarm`` (10,000 threads or coroutines).
* Switching: ``ping_pong`` between two threads, two processes or two coroutines.
* Placement: ``pinned`` runs a function on chosen CPUs (``one_cpu()``) in any worker;
  ``on_cpus`` pins the caller, and what it starts, for a block.
"""

from __future__ import annotations

from ._files import FileSet, drop_from_cache, make_files, process_file
from ._http import FetchError, LatencyServer, body_length, fetch, fetch_async, fetch_polling
from ._pi import PI_50, PI_1000_SHA256, is_pi, pi_digits, pi_machin, sha256
from ._pinning import Pinned, on_cpus, one_cpu, pinned, usable_cpus
from ._switching import PAIRS, PingPongError, ping_pong
from ._waiting import SWARM_KINDS, async_sleep, sleep, swarm

__all__ = [
    "PAIRS",
    "PI_50",
    "PI_1000_SHA256",
    "SWARM_KINDS",
    "FetchError",
    "FileSet",
    "LatencyServer",
    "PingPongError",
    "Pinned",
    "async_sleep",
    "body_length",
    "drop_from_cache",
    "fetch",
    "fetch_async",
    "fetch_polling",
    "is_pi",
    "make_files",
    "on_cpus",
    "one_cpu",
    "pi_digits",
    "pi_machin",
    "ping_pong",
    "pinned",
    "process_file",
    "sha256",
    "sleep",
    "swarm",
    "usable_cpus",
]
