"""A real uvicorn server in a thread on a free loopback port, and a raw HTTP client that sends paths as written."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Running:
    host: str
    port: int

    def request(self, method: str, path: str, *, source: str | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        """One request with `path` sent byte for byte (no normalisation), optionally from a given local address."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30,
                                          source_address=(source, 0) if source else None)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            body = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            conn.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)


@contextmanager
def running(app, host: str = "127.0.0.1") -> Iterator[Running]:
    """Serve `app` with uvicorn until the block ends."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield Running(host, port)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
