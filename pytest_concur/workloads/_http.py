"""A local slow web site and three ways to fetch from it: blocking, polling and asynchronous.

The site stands in for the internet of a web crawler: ``LatencyServer`` starts it on
127.0.0.1 in a process of its own (so its work does not compete for this interpreter's
GIL) and stops it on exit. Every answer takes ``latency_s`` seconds, the waiting that a
crawler's concurrency is meant to overlap.

The three clients answer the notes' questions about calls:

* ``fetch``: blocking. The calling thread is suspended by the OS in ``recv`` until the
  answer arrives; it uses no CPU while it waits.
* ``fetch_polling``: non-blocking. The socket never suspends the caller; it asks again
  and again until the answer is there (synchronous polling), so it keeps a core busy.
* ``fetch_async``: asynchronous. A coroutine on an event loop sends the request and goes
  on; the loop is notified (epoll) when the answer arrives.

Each returns the number of body bytes received, after checking status and length.
"""

from __future__ import annotations

import asyncio
import errno
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Final, final
from urllib.parse import urlsplit

DEFAULT_TIMEOUT_S: Final = 30.0
_SERVER_SCRIPT: Final = Path(__file__).with_name("_http_server.py")


class FetchError(RuntimeError):
    """The server's answer was not a complete 200 response."""


@final
class LatencyServer:
    """A web site on 127.0.0.1 whose every answer takes ``latency_s`` seconds.

    Use it as a context manager (``with LatencyServer(0.02) as site: ...``); the server
    process is started on entry and stopped on exit. It also stops by itself when this
    process goes away and after ``max_seconds``, so it is bounded in time whatever
    happens. Its ``pid`` lets a measurement leave it out: it plays the remote side.
    """

    def __init__(
        self,
        latency_s: float = 0.05,
        *,
        body_bytes: int = 1024,
        max_seconds: float = 3600.0,
        start_timeout_s: float = 30.0,
    ) -> None:
        if not latency_s >= 0:
            raise ValueError(f"latency_s must be a non-negative number, got {latency_s!r}")
        if body_bytes < 0:
            raise ValueError(f"body_bytes must be non-negative, got {body_bytes!r}")
        if not max_seconds > 0:
            raise ValueError(f"max_seconds must be positive, got {max_seconds!r}")
        self.latency_s = float(latency_s)
        self.body_bytes = body_bytes
        self._max_seconds = max_seconds
        self._start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not running; use it as a context manager")
        return self._port

    @property
    def pid(self) -> int:
        """The server process's id (to leave it out of measurements)."""
        if self._process is None:
            raise RuntimeError("the server is not running; use it as a context manager")
        return self._process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def urls(self, count: int, *, latency_s: float | None = None) -> list[str]:
        """``count`` distinct page addresses, as a crawler would visit them."""
        query = "" if latency_s is None else f"?latency={latency_s}"
        return [f"http://127.0.0.1:{self.port}/page/{index}{query}" for index in range(count)]

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("the server is already running")
        # kept open while the server runs, closed in stop(): a with-block cannot span that
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        command = [
            sys.executable, "-I", "-S", str(_SERVER_SCRIPT), "--latency", str(self.latency_s),
            "--body-bytes", str(self.body_bytes), "--max-seconds", str(self._max_seconds),
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
        )
        try:
            self._port = self._read_port(self._process)
        except BaseException:
            self.stop()
            raise

    def _read_port(self, process: subprocess.Popen[bytes]) -> int:
        assert process.stdout is not None
        deadline = time.monotonic() + self._start_timeout_s
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise RuntimeError(
                        f"the test web server did not start within {self._start_timeout_s} s"
                        f"{self._stderr_text()}"
                    )
                chunk = os.read(process.stdout.fileno(), 64)
                if not chunk:
                    raise RuntimeError(
                        f"the test web server exited with status {process.wait()}"
                        f"{self._stderr_text()}"
                    )
                line += chunk
        words = line.split()
        if len(words) != 2 or words[0] != b"port" or not words[1].isdigit():
            raise RuntimeError(f"the test web server said {line!r}, not its port")
        return int(words[1])

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return f": {text}" if text else ""

    def stop(self) -> None:
        """Stop the server and wait for it (closing its stdin asks it to go)."""
        process, self._process, self._port = self._process, None, None
        if process is not None:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
            try:
                process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> LatencyServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "stopped"
        return f"<LatencyServer {where} latency={self.latency_s}s>"


def _address(url: str) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"only http:// addresses are supported, got {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    request = f"GET {path} HTTP/1.0\r\nHost: {parts.hostname}\r\n\r\n".encode()
    return parts.hostname, parts.port or 80, request


def body_length(response: bytes) -> int:
    """Check a whole HTTP/1.0 response (status 200, full body) and return the body size."""
    head, separator, body = response.partition(b"\r\n\r\n")
    if not separator:
        raise FetchError(f"incomplete response headers: {response[:80]!r}")
    lines = head.split(b"\r\n")
    status = lines[0].split()
    if len(status) < 2 or status[1] != b"200":
        raise FetchError(f"unexpected status line {lines[0]!r}")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            expected = int(value.strip())
            if len(body) != expected:
                raise FetchError(f"body has {len(body)} bytes, Content-Length says {expected}")
            break
    return len(body)


def fetch(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    """Blocking GET: the caller sleeps in the kernel until the answer is complete."""
    host, port, request = _address(url)
    with socket.create_connection((host, port), timeout=timeout_s) as connection:
        connection.sendall(request)
        chunks: list[bytes] = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return body_length(b"".join(chunks))


def fetch_polling(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    """Non-blocking GET: every call returns at once; the caller polls until the answer is in.

    The socket is non-blocking, so the OS never suspends the caller; between attempts it
    just tries again (a busy loop), which is what "not suspended" costs in CPU.
    """
    host, port, request = _address(url)
    deadline = time.monotonic() + timeout_s
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as connection:
        connection.setblocking(False)
        status = connection.connect_ex((host, port))
        while status not in (0, errno.EISCONN):
            if status not in (errno.EINPROGRESS, errno.EALREADY, errno.EAGAIN):
                raise ConnectionError(status, f"{os.strerror(status)}: {url}")
            _check_deadline(deadline, url)
            status = connection.connect_ex((host, port))
        sent = 0
        while sent < len(request):
            try:
                sent += connection.send(request[sent:])
            except BlockingIOError:
                _check_deadline(deadline, url)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = connection.recv(65536)
            except BlockingIOError:
                _check_deadline(deadline, url)
                continue
            if not chunk:
                break
            chunks.append(chunk)
    return body_length(b"".join(chunks))


def _check_deadline(deadline: float, url: str) -> None:
    if time.monotonic() > deadline:
        raise TimeoutError(f"no answer from {url} in time")


async def fetch_async(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    """Asynchronous GET: the coroutine yields to its event loop until the answer arrives."""
    host, port, request = _address(url)
    async with asyncio.timeout(timeout_s):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(request)
            await writer.drain()
            response = await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()
    return body_length(response)
