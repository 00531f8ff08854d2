"""File processing on real files: read each file from storage and checksum it.

What it measures, honestly: ``make_files`` writes the files, ``fsync``s them and asks the
kernel to drop their pages from the page cache (``posix_fadvise(POSIX_FADV_DONTNEED)``,
which works for clean pages without root). ``process_file`` drops the file's pages again
and reads it in 1 MiB blocks, so every read goes to the block device rather than to a
copy in memory, then CRC-32s it (cheap next to the read). No ``O_DIRECT``: it needs
aligned buffers and is refused by some file systems (tmpfs); the page cache is what
ordinary programs read through anyway.

Caveats that the numbers show rather than hide: on tmpfs nothing can be dropped (the
files live in memory, ``dropped`` says so); on a virtual machine the host may cache the
guest's disk, so "storage" can be nearly as fast as memory, and reading becomes
CPU work of the kernel (copying), not waiting.
"""

from __future__ import annotations

import os
import random
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

BLOCK_BYTES: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class FileSet:
    """Files written by ``make_files``: their paths and the CRC-32 each must read back as."""

    folder: Path
    paths: tuple[str, ...]
    checksums: tuple[int, ...]
    size_bytes: int
    #: whether the kernel accepted dropping the files from the page cache
    dropped: bool

    @property
    def total_bytes(self) -> int:
        return self.size_bytes * len(self.paths)


def drop_from_cache(path: str | os.PathLike[str]) -> bool:
    """Ask the kernel to forget the file's cached pages, so the next read hits storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        return False  # not supported here: reads will come from memory, as on tmpfs
    finally:
        os.close(fd)
    return True


def make_files(
    folder: str | os.PathLike[str], count: int = 16, size_bytes: int = 4 << 20, *, seed: int = 0
) -> FileSet:
    """Write ``count`` files of ``size_bytes`` incompressible bytes to ``folder`` (durably)."""
    if count < 1 or size_bytes < 1:
        raise ValueError(f"count and size_bytes must be positive, got {count}, {size_bytes}")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    generator = random.Random(seed)
    paths: list[str] = []
    checksums: list[int] = []
    dropped = True
    for index in range(count):
        data = generator.randbytes(size_bytes)
        path = target / f"data-{index:04d}.bin"
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # written pages are clean now, so they can be dropped
        dropped = drop_from_cache(path) and dropped
        paths.append(str(path))
        checksums.append(zlib.crc32(data))
    return FileSet(target, tuple(paths), tuple(checksums), size_bytes, dropped)


def process_file(path: str | os.PathLike[str]) -> int:
    """Read the file from storage (its cached pages dropped first) and return its CRC-32."""
    drop_from_cache(path)
    checksum = 0
    block = bytearray(BLOCK_BYTES)
    view = memoryview(block)
    with open(path, "rb", buffering=0) as handle:
        while count := handle.readinto(block):
            checksum = zlib.crc32(view[:count], checksum)
    return checksum
