"""Per-core busy fractions over each round, sampled from /proc/stat by a separate process.

A sampler thread inside the measured interpreter would wait for the GIL behind a busy
test (MEASUREMENT.md: asked for 10 ms samples it got a third of them) and would slow
it; on Python 3.12+ it would also make every ``fork`` warn. So the sampler is its own
small process, started once per session (``python -I -S`` on this file: standard
library only, no site, no imports of the package). It forks once and the first process
exits, so it is not a child of the measuring process: a round's process-tree walk
(process_tree.py) never meets it and costs one syscall when the test starts no process.

It samples on an absolute schedule all session long into a ring buffer in a mapped file
(in /dev/shm where there is one); a round asks it nothing, and at its end reads its
window from the ring: the newest sample at or before its start and every one since. A
few memory reads instead of two message exchanges per round (440 us before). Layout:

    header  magic u32, cpus u32, capacity u32, sampler pid u32, interval ns u64, count u64
    slot i  seq u64, CLOCK_MONOTONIC ns i64, 8 tick counters u64 per CPU, seq u64

Sample k goes to slot ``k % capacity`` with ``seq = k + 1`` before and after its data,
then ``count = k + 1``; a reader keeps a slot only when both seqs say ``k + 1`` (one being
rewritten is skipped, never read torn). Counters: ``user, nice, system, idle, iowait,
irq, softirq, steal`` in clock ticks. The process ends when stdin closes or says quit.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_FIELDS = 8  # user nice system idle iowait irq softirq steal (guest is inside user)
_ANSWER_TIMEOUT_S = 10.0
_START_TIMEOUT_S = 60.0
_MAGIC = 0x434E4352  # "CNCR"
_HEADER = struct.Struct("<IIIIQQ")
_COUNT_AT = 24
_PID_AT = 12
_CAPACITY = 4096  # 6.8 minutes of samples at the default 0.1 s
_U64 = struct.Struct("<Q")


def read_cpu_ticks(text: str) -> list[list[int]]:
    """Per-CPU tick counters from the text of /proc/stat, in CPU-number order."""
    cpus: list[tuple[int, list[int]]] = []
    for line in text.splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *values = line.split()
            counters = [int(value) for value in values[:_FIELDS]]
            counters += [0] * (_FIELDS - len(counters))
            cpus.append((int(name[3:]), counters))
    return [counters for _, counters in sorted(cpus)]


def _slot_struct(cpus: int) -> struct.Struct:
    return struct.Struct(f"<Qq{cpus * _FIELDS}QQ")


def _serve(path: str, interval_ns: int) -> None:  # pragma: no cover - the sampler process
    """The sampler process: a sample every interval into the ring until stdin closes.

    It leaves the measuring process's children first (forks, and the first process
    exits): a process with no children skips the process-tree walk of every round in one
    syscall (process_tree.has_children), which a live sampler child would cost at every
    snapshot. Its pid goes into the ring's header for the parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the session's; stdin ends us
    if os.fork() > 0:
        os._exit(0)
    fd = os.open("/proc/stat", os.O_RDONLY)
    with open(path, "r+b") as handle:
        ring = mmap.mmap(handle.fileno(), 0)
    _, cpus, capacity, _, _, _ = _HEADER.unpack_from(ring, 0)
    struct.pack_into("<I", ring, _PID_AT, os.getpid())
    slot = _slot_struct(cpus)
    count = 0
    next_ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    buffer = b""
    while True:
        at = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        ticks = read_cpu_ticks(os.pread(fd, 1 << 16, 0).decode("ascii"))
        flat = [value for cpu in ticks[:cpus] for value in cpu]
        flat += [0] * (cpus * _FIELDS - len(flat))
        offset = _HEADER.size + (count % capacity) * slot.size
        _U64.pack_into(ring, offset, count + 1)
        slot.pack_into(ring, offset, count + 1, at, *flat, count + 1)
        count += 1
        _U64.pack_into(ring, _COUNT_AT, count)
        next_ns += interval_ns
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if next_ns < now:  # fell behind (the machine is overloaded): skip, don't burst
            next_ns = now + interval_ns
        readable, _, _ = select.select([0], [], [], (next_ns - now) / 1e9)
        if readable:
            chunk = os.read(0, 4096)
            buffer += chunk
            if not chunk or b"quit" in buffer:
                return


@dataclass(frozen=True, slots=True)
class CoreSamples:
    """One round's samples: monotonic ns and per-CPU tick counters at each instant."""

    interval_s: float
    times_ns: tuple[int, ...]
    ticks: tuple[tuple[tuple[int, ...], ...], ...]

    def rows(self, *, keys: Mapping[str, Any], round_start_ns: int) -> list[dict[str, Any]]:
        """Rows of the ``cores`` table: one per CPU per interval between two samples that
        reaches into the round (a round shorter than an interval may have none)."""
        rows: list[dict[str, Any]] = []
        for index in range(len(self.times_ns) - 1):
            t0, t1 = self.times_ns[index], self.times_ns[index + 1]
            if t1 <= round_start_ns:
                continue  # wholly before the round: no part of its timeline
            for cpu, (before, after) in enumerate(
                zip(self.ticks[index], self.ticks[index + 1], strict=True)
            ):
                delta = [b - a for a, b in zip(before, after, strict=True)]
                total = sum(delta)
                row = dict(keys)
                row.update(
                    cpu=cpu,
                    sample=index,
                    start_s=(t0 - round_start_ns) / 1e9,
                    end_s=(t1 - round_start_ns) / 1e9,
                    ticks=total,
                    busy=_share(total - delta[3] - delta[4], total),
                    user=_share(delta[0] + delta[1], total),
                    system=_share(delta[2] + delta[5] + delta[6], total),
                    iowait=_share(delta[4], total),
                    steal=_share(delta[7], total),
                )
                rows.append(row)
        return rows

    def cores_busy(self) -> float | None:
        """CPUs busy system-wide between the first and last sample, in cores."""
        if len(self.times_ns) < 2:
            return None
        busy = total = 0
        for before, after in zip(self.ticks[0], self.ticks[-1], strict=True):
            # counters only grow by whole ticks: the sum of the deltas is the delta of sums
            ticks = sum(after) - sum(before)
            busy += ticks - (after[3] - before[3]) - (after[4] - before[4])  # not idle, iowait
            total += ticks
        if total == 0:
            return None
        return busy / total * len(self.ticks[0])


def _share(part: int, total: int) -> float | None:
    # under one tick per interval there is nothing to say: null, not a made-up zero
    return part / total if total > 0 else None


class SamplerError(RuntimeError):
    """The sampler process stopped sampling."""


def _ring_folder() -> str:
    # /dev/shm is memory: the ring never touches a disk
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


class CoreSampler:
    """The parent side: one sampler process for the session and its ring of samples."""

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval must be positive, got {interval_s!r}")
        self.interval_s = interval_s
        with open("/proc/stat", encoding="ascii") as handle:
            self._cpus = len(read_cpu_ticks(handle.read())) or 1
        self._slot = _slot_struct(self._cpus)
        # each CPU's counters in a slot's flat values
        self._cpu_slices = [slice(cpu * _FIELDS, (cpu + 1) * _FIELDS) for cpu in range(self._cpus)]
        # at most 4 MiB of ring, at least 256 samples
        self._capacity = max(256, min(_CAPACITY, (4 << 20) // self._slot.size))
        size = _HEADER.size + self._capacity * self._slot.size
        fd, self._path = tempfile.mkstemp(prefix="pytest-concur-cores-", dir=_ring_folder())
        try:
            os.ftruncate(fd, size)
            self._ring = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        interval_ns = int(interval_s * 1e9)
        _HEADER.pack_into(self._ring, 0, _MAGIC, self._cpus, self._capacity, 0, interval_ns, 0)
        from .subreaper import not_a_subreaper  # here: the sampler process runs as a script

        command = [sys.executable, "-I", "-S", os.path.abspath(__file__), self._path]
        with not_a_subreaper():  # the forked sampler must not be adopted back by the session
            self._process = subprocess.Popen(
                [*command, str(interval_ns)], stdin=subprocess.PIPE, close_fds=True
            )
            try:  # the first process forks, then exits (a first start may compile .pyc files)
                self._process.wait(_START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
                os.unlink(self._path)
                raise SamplerError(
                    f"the core sampler did not start in {_START_TIMEOUT_S}s"
                ) from None
        self._linked = True
        self._start_ns = 0
        self._pid = 0  # the sampler's, once it has forked away from this process
        self._pidfd = -1

    @property
    def pid(self) -> int:
        return self._pid or self._process.pid

    def cpu_s(self) -> float | None:
        """CPU time the sampler process has used so far (Linux's per-process CPU clock)."""
        try:
            return time.clock_gettime(((~self.pid) << 3) | 2)
        except OSError:
            return None

    def _count(self) -> int:
        count: int = _U64.unpack_from(self._ring, _COUNT_AT)[0]
        return count

    def _read(self, index: int) -> tuple[int, tuple[int, ...]] | None:
        values = self._slot.unpack_from(
            self._ring, _HEADER.size + (index % self._capacity) * self._slot.size
        )
        if values[0] != index + 1 or values[-1] != index + 1:
            return None  # being rewritten
        return values[1], values[2:-1]

    def _check_alive(self) -> None:
        if not self._pid:
            if self._process.returncode != 0:
                raise SamplerError(f"the core sampler failed (exit {self._process.returncode})")
            return
        # its pidfd turns readable when it ends, zombie or reaped (it is not our child)
        if select.select([self._pidfd], [], [], 0)[0]:
            raise SamplerError(f"the core sampler (pid {self._pid}) ended")

    def start(self) -> None:
        """Mark the round's start; the first time, wait for the sampler's first sample."""
        if self._linked:
            deadline = time.monotonic() + _ANSWER_TIMEOUT_S
            while self._count() == 0:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise SamplerError(f"the core sampler took no sample in {_ANSWER_TIMEOUT_S}s")
                time.sleep(0.001)
            os.unlink(self._path)  # both sides have it mapped: nothing is left behind
            self._linked = False
            self._pid = struct.unpack_from("<I", self._ring, _PID_AT)[0]
            self._pidfd = os.pidfd_open(self._pid)
        self._start_ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)

    def _wait_gone(self, timeout: float) -> None:
        """Wait until the forked sampler has ended (it is not our child: no wait())."""
        if self._pid and not select.select([self._pidfd], [], [], timeout)[0]:
            raise SamplerError(f"the core sampler (pid {self._pid}) did not quit")

    def samples_since(self, since_ns: int) -> CoreSamples:
        """The newest sample at or before ``since_ns``, every one after it, and at least two."""
        self._check_alive()
        newest = self._count() - 1
        oldest = max(0, newest - self._capacity + 2)
        found: list[tuple[int, tuple[int, ...]]] = []
        index = newest
        while index >= oldest:
            sample = self._read(index)
            if sample is not None:
                found.append(sample)
                if sample[0] <= since_ns and len(found) >= 2:
                    break
            index -= 1
        found.reverse()
        cpus = self._cpu_slices
        return CoreSamples(
            interval_s=self.interval_s,
            times_ns=tuple([at for at, _ in found]),
            ticks=tuple([tuple([flat[cpu] for cpu in cpus]) for _, flat in found]),
        )

    def stop(self) -> CoreSamples:
        """The round's samples, from the ring."""
        return self.samples_since(self._start_ns)

    def close(self) -> None:
        """End the sampler process, wait for it, and drop the ring."""
        stdin = self._process.stdin
        if stdin is not None:
            # quit, not only EOF: a forked pool worker may still hold the pipe's write end
            with contextlib.suppress(OSError), stdin:
                stdin.write(b"quit\n")
                stdin.flush()
        try:
            self._process.wait(_ANSWER_TIMEOUT_S)
            self._wait_gone(_ANSWER_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired, SamplerError):
            for pid in {self._process.pid, self._pid} - {0}:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            self._process.wait()
        finally:
            if self._linked:
                self._linked = False
                os.unlink(self._path)
            if self._pidfd >= 0:
                os.close(self._pidfd)
                self._pidfd = -1
            self._ring.close()


class CoreSampling:
    """The session's per-core sampling: its process starts on first use; if it fails,
    sampling stops for the session with a MeasurementWarning (a lost timeline is said)."""

    def __init__(self, interval_s: float | None) -> None:
        self.interval_s = interval_s
        self._sampler: CoreSampler | None = None
        self._failed = interval_s is None

    @property
    def exclude(self) -> tuple[int, ...]:
        """Pids to leave out of the measured process tree (the sampler's own)."""
        return (self._sampler.pid,) if self._sampler is not None else ()

    def cpu_s(self) -> float | None:
        return self._sampler.cpu_s() if self._sampler is not None else None

    def begin(self) -> bool:
        """Start sampling a round; False when sampling is off or lost."""
        if self._failed:
            return False
        try:
            if self._sampler is None:
                assert self.interval_s is not None
                self._sampler = CoreSampler(self.interval_s)
            self._sampler.start()
        except (OSError, SamplerError) as exc:
            self._lose(exc)
            return False
        return True

    def end(self) -> CoreSamples | None:
        """The round's samples (None if the sampler was lost)."""
        if self._sampler is None or self._failed:
            return None
        try:
            return self._sampler.stop()
        except (OSError, SamplerError, ValueError) as exc:
            self._lose(exc)
            return None

    def machine_busy(self, since_ns: int) -> float | None:
        """Cores busy machine-wide since ``since_ns`` (monotonic), as far as the samples
        reach; None when sampling is off or lost."""
        if self._sampler is None or self._failed:
            return None
        try:
            return self._sampler.samples_since(since_ns).cores_busy()
        except (OSError, SamplerError, ValueError) as exc:
            self._lose(exc)
            return None

    def _lose(self, error: Exception) -> None:
        self._failed = True
        self.close()
        lost_sampler(error)

    def close(self) -> None:
        if self._sampler is not None:
            sampler, self._sampler = self._sampler, None
            sampler.close()


def lost_sampler(error: Exception) -> None:
    """Say that per-core timelines stop here: a lost measurement is never silent."""
    from .._warning_types import MeasurementWarning

    warnings.warn(
        MeasurementWarning(f"per-core sampling stopped for the rest of the session: {error}"),
        stacklevel=2,
    )


if __name__ == "__main__":  # pragma: no cover - the sampler process
    _serve(sys.argv[1], int(sys.argv[2]))
