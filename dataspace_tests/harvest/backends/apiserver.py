"""A local HTTP server for the API backends (CKAN, DKAN, ODS, CSW): answers by path and query, counts concurrency.

Routes map a path (and optionally query values) to an answer: the bytes of a real fixture file, or a body
given inline. Every request is recorded with its headers; the most requests in flight at once is kept.
"""

from __future__ import annotations

import http.server
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Answer = tuple[int, str, bytes]  # status, content type, body
Handler = Callable[[dict[str, list[str]], bytes], Answer]


@dataclass
class Request:
    """One request the server saw."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class _Stats:
    active: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def file_answer(path: Path, content_type: str = "application/json") -> Answer:
    """A 200 answer with the bytes of a file."""
    return 200, content_type, Path(path).read_bytes()


class ApiServer:
    """Serves registered handlers on 127.0.0.1; unknown paths give 404."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.handlers: dict[str, Handler] = {}
        self.uncounted: set[str] = set()  # paths answered at once and not counted (a benchmark's stats)
        self.requests: list[Request] = []
        self.stats = _Stats()
        server = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms delayed-ACK stall per answer

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server._handle(self, self.rfile.read(length) if length else b"")

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 64

            def handle_error(self, request, client_address) -> None:
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), RequestHandler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- lifecycle
    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    # --- routes
    def on(self, path: str, handler: Handler) -> None:
        """Answer `path` (no query) with the handler."""
        self.handlers[path.lstrip("/")] = handler

    def answer(self, path: str, status: int, content_type: str, body: bytes | str) -> None:
        """Answer `path` always with this status, type and body."""
        data = body.encode() if isinstance(body, str) else body
        self.on(path, lambda query, body_in: (status, content_type, data))

    def reset(self) -> None:
        self.handlers.clear()
        self.requests.clear()
        with self.stats.lock:
            self.stats.peak = 0

    @property
    def peak(self) -> int:
        """The most requests in flight at once since the last reset."""
        return self.stats.peak

    def seen(self, path: str) -> list[Request]:
        """The requests of one path, in order."""
        return [r for r in self.requests if r.path == path.lstrip("/")]

    # --- serving
    def _handle(self, handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(parts.path).lstrip("/")
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        if path in self.uncounted:
            self._send(handler, *self.handlers[path](query, body))
            return
        with self.stats.lock:
            self.stats.active += 1
            self.stats.peak = max(self.stats.peak, self.stats.active)
            self.requests.append(Request(handler.command, path, query, dict(handler.headers.items()), body))
        try:
            if self.delay:
                time.sleep(self.delay)
            route = self.handlers.get(path)
            self._send(handler, *(route(query, body) if route else (404, "text/plain", b"not found")))
        finally:  # counted until the answer is written: the count never under-reports
            with self.stats.lock:
                self.stats.active -= 1

    @staticmethod
    def _send(handler: http.server.BaseHTTPRequestHandler, status: int, content_type: str, data: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


__all__ = ["ApiServer", "Request", "file_answer"]
