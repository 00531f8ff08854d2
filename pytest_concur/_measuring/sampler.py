"""Per-core busy fractions over each round, sampled from /proc/stat by a separate process.

A sampler thread inside the measured interpreter would wait for the GIL behind a busy
test (MEASUREMENT.md: asked for 10 ms samples it got a third of them) and would slow
it; on Python 3.12+ it would also make every ``fork`` warn. So the sampler is its own
small process, started once per session (``python -I -S`` on this file: standard
library only, no site, no imports of the package), excluded from the measured process
tree, and told over a pipe when a round starts and stops:

    parent: ``start <interval ns>``  sampler: takes a first sample, answers ``ok``
    ...     (a sample every interval, on an absolute schedule, until:)
    parent: ``stop``                 sampler: takes a last sample, answers ``data <json>``

A sample is ``[CLOCK_MONOTONIC ns, [[user, nice, system, idle, iowait, irq, softirq,
steal] for each CPU]]`` in clock ticks. The parent turns consecutive samples into rows
of the ``cores`` table.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

_FIELDS = 8  # user nice system idle iowait irq softirq steal (guest is inside user)
_ANSWER_TIMEOUT_S = 10.0


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


def _sample() -> list[Any]:
    with open("/proc/stat", encoding="ascii") as handle:
        text = handle.read()
    return [time.clock_gettime_ns(time.CLOCK_MONOTONIC), read_cpu_ticks(text)]


def _serve() -> None:  # pragma: no cover - runs in the sampler process, tested end to end
    """The sampler process: obey ``start``/``stop`` lines on stdin until it closes."""
    buffer = b""
    samples: list[list[Any]] = []
    interval_ns = 0
    next_ns: int | None = None
    while True:
        timeout = None
        if next_ns is not None:
            timeout = max(0.0, (next_ns - time.clock_gettime_ns(time.CLOCK_MONOTONIC)) / 1e9)
        readable, _, _ = select.select([0], [], [], timeout)
        if not readable:
            samples.append(_sample())
            assert next_ns is not None
            next_ns += interval_ns
            now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            if next_ns < now:  # fell behind (the machine is overloaded): skip, don't burst
                next_ns = now + interval_ns
            continue
        chunk = os.read(0, 4096)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command, _, argument = line.decode("ascii").partition(" ")
            if command == "start":
                interval_ns = int(argument)
                samples = [_sample()]
                next_ns = samples[0][0] + interval_ns
                os.write(1, b"ok\n")
            elif command == "stop":
                samples.append(_sample())
                next_ns = None
                os.write(1, b"data " + json.dumps(samples).encode("ascii") + b"\n")
                samples = []
            elif command == "quit":
                return


@dataclass(frozen=True, slots=True)
class CoreSamples:
    """One round's samples: monotonic ns and per-CPU tick counters at each instant."""

    interval_s: float
    times_ns: tuple[int, ...]
    ticks: tuple[tuple[tuple[int, ...], ...], ...]

    def rows(self, *, keys: Mapping[str, Any], round_start_ns: int) -> list[dict[str, Any]]:
        """Rows of the ``cores`` table: one per CPU per interval between two samples."""
        rows: list[dict[str, Any]] = []
        for index in range(len(self.times_ns) - 1):
            t0, t1 = self.times_ns[index], self.times_ns[index + 1]
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
            delta = [b - a for a, b in zip(before, after, strict=True)]
            busy += sum(delta) - delta[3] - delta[4]
            total += sum(delta)
        if total == 0:
            return None
        return busy / total * len(self.ticks[0])


def _share(part: int, total: int) -> float | None:
    # under one tick per interval there is nothing to say: null, not a made-up zero
    return part / total if total > 0 else None


class SamplerError(RuntimeError):
    """The sampler process stopped answering."""


class CoreSampler:
    """The parent side: one sampler process for the session, started on first use."""

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval must be positive, got {interval_s!r}")
        self.interval_s = interval_s
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
        )
        self._buffer = b""

    @property
    def pid(self) -> int:
        return self._process.pid

    def cpu_s(self) -> float | None:
        """CPU time the sampler process has used so far (Linux's per-process CPU clock)."""
        try:
            return time.clock_gettime(((~self.pid) << 3) | 2)
        except OSError:
            return None

    def _stream(self, name: str) -> IO[bytes]:
        stream = getattr(self._process, name)
        assert stream is not None  # both pipes were asked for
        return stream  # type: ignore[no-any-return]

    def _answer(self) -> bytes:
        out = self._stream("stdout")
        deadline = time.monotonic() + _ANSWER_TIMEOUT_S
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            readable, _, _ = select.select([out], [], [], max(left, 0.0))
            if not readable:
                raise SamplerError(f"the core sampler did not answer in {_ANSWER_TIMEOUT_S}s")
            chunk = os.read(out.fileno(), 1 << 20)
            if not chunk:
                raise SamplerError(f"the core sampler ended (exit status {self._process.poll()})")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def _send(self, line: str) -> None:
        try:
            self._stream("stdin").write(line.encode("ascii") + b"\n")
        except (BrokenPipeError, OSError) as exc:
            raise SamplerError(f"the core sampler ended: {exc}") from None

    def start(self) -> None:
        """Take the first sample; returns once it is taken, before the round starts."""
        self._send(f"start {int(self.interval_s * 1e9)}")
        answer = self._answer()
        if answer != b"ok":
            raise SamplerError(f"the core sampler answered {answer[:80]!r} to start")

    def stop(self) -> CoreSamples:
        """Take the last sample and return the round's samples."""
        self._send("stop")
        answer = self._answer()
        if not answer.startswith(b"data "):
            raise SamplerError(f"the core sampler answered {answer[:80]!r} to stop")
        samples = json.loads(answer[5:])
        return CoreSamples(
            interval_s=self.interval_s,
            times_ns=tuple(int(t) for t, _ in samples),
            ticks=tuple(tuple(tuple(cpu) for cpu in ticks) for _, ticks in samples),
        )

    def close(self) -> None:
        """End the sampler process and wait for it."""
        if self._process.poll() is not None:
            self._stream("stdin").close()
            self._stream("stdout").close()
            return
        try:
            # quit, not only EOF: a forked pool worker may still hold the pipe's write end
            self._send("quit")
            self._stream("stdin").close()
            self._process.wait(_ANSWER_TIMEOUT_S)
        except (OSError, SamplerError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            self._stream("stdout").close()


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
        """Stop sampling the round and return its samples (None if the sampler was lost)."""
        if self._sampler is None or self._failed:
            return None
        try:
            return self._sampler.stop()
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
    from .._warnings import MeasurementWarning

    warnings.warn(
        MeasurementWarning(f"per-core sampling stopped for the rest of the session: {error}"),
        stacklevel=2,
    )


if __name__ == "__main__":  # pragma: no cover - the sampler process
    _serve()
