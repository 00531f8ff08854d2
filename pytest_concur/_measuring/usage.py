"""What a measured region consumed: the value every accounting backend returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Usage:
    """What one region consumed; CPU and switches cover the whole process tree."""

    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    ctx_voluntary: int
    ctx_involuntary: int
    max_rss_bytes: int
    descendants_seen: int

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_sys_s


@dataclass(frozen=True, slots=True)
class Measured:
    """A region's usage, and the exception that ended it, if any."""

    usage: Usage
    error: BaseException | None
