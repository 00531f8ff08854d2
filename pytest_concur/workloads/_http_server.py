"""A slow web site on 127.0.0.1, run as a script in its own process (standard library only).

Started by ``LatencyServer`` as ``python _http_server.py --latency S --body-bytes N
--max-seconds T``. It prints ``port <n>`` on stdout once it listens, answers every GET
after sleeping ``latency`` seconds (``?latency=S`` overrides it per request), and stops
when its standard input closes (the parent went away), on SIGTERM, or after
``max-seconds`` in any case, so it cannot outlive the session that started it.

It runs as a file, not as ``-m pytest_concur...``, so that it imports nothing heavy.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def _body(size: int) -> bytes:
    """Deterministic content, so a client can check every byte it got."""
    pattern = b"pytest-concur "
    return (pattern * (size // len(pattern) + 1))[:size]


def _handler(latency_s: float, body: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            delay = float(query.get("latency", [latency_s])[0])
            time.sleep(delay)  # the "network": this server stands in for a slow remote site
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # a request log would cost CPU and fill the parent's pipe

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # many clients connect at once; the default 5 drops SYNs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--body-bytes", type=int, default=1024)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args(argv)
    server = _Server(("127.0.0.1", 0), _handler(args.latency, _body(args.body_bytes)))

    def stop(*_: object) -> None:
        # shutdown() waits for serve_forever to return, so it must not run on its thread
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    threading.Timer(args.max_seconds, stop).start()

    def watch_parent() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
        stop()

    threading.Thread(target=watch_parent, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()
    os._exit(0)  # the timer thread may still be waiting; nothing else needs cleaning up


if __name__ == "__main__":
    sys.exit(main())
