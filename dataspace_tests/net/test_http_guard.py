"""The guarded client's safety: URLs read as the client connects, addresses checked at connect time, deadlines, retries."""

from __future__ import annotations

import socket
import threading
import time
import types
from collections.abc import Iterator

import pytest
import urllib3

from dataspace_assets.errors import DataspaceError
from dataspace_assets.net import http
from dataspace_assets.net.http import GuardedHttp, HttpError, HttpOptions, http_config_errors, url_problem

PATH = "udata/dcat/flat.jsonld"


def client(**config) -> GuardedHttp:
    base = {"allow_private_addresses": True, "retries": 0, "retry_backoff": 0.05}
    return GuardedHttp(user_agent="dataspace/test", options=HttpOptions.from_config({**base, **config}))


def hits(server, path: str = PATH) -> list:
    return [r for r in server.requests if r[1].lstrip("/").split("?")[0] == path]


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> list:
    """Make every outgoing connection fail before a packet leaves, recording where it would have gone."""
    attempts: list = []

    def refuse(self, address, *args, **kwargs):  # noqa: ANN001
        attempts.append(address)
        raise ConnectionRefusedError(f"test: a connection to {address} was attempted")

    def refuse_create(address, *args, **kwargs):  # noqa: ANN001
        attempts.append(address)
        raise ConnectionRefusedError(f"test: a connection to {address} was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse_create)
    return attempts


# ------------------------------------------------------------------ URLs


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:{port}\\@example.com/x.ttl", "backslash"),
        ("http://example.com/a b.ttl", "a space"),
        ("http://example.com/a\x00.ttl", "NUL"),
        ("http://example.com/a\r\nHost: x", "control character"),
        ("http://user:pw@example.com/x.ttl", "user info"),
        ("http://127.0.0.1:{port}@example.com/x.ttl", "user info"),
        ("http://example.com:99999/x.ttl", "Port out of range"),
        ("http://example.com:0/x.ttl", "port 0"),
        ("http://[::1/x.ttl", "cannot be parsed"),
        ("http://2130706433/x.ttl", "non-standard spelling"),
        ("http://0x7f.0.0.1/x.ttl", "non-standard spelling"),
        ("http://0177.0.0.1/x.ttl", "non-standard spelling"),
        ("http://127.1/x.ttl", "non-standard spelling"),
        ("gopher://example.com/", "unsupported URL scheme"),
    ],
)
def test_tricky_urls_are_refused_before_any_connection(url: str, problem: str, http_server, no_connection) -> None:
    url = url.format(port=http_server.port)
    assert problem in (url_problem(url) or "")
    with pytest.raises(HttpError) as info:
        client().get(url)  # even with private addresses allowed
    assert str(info.value).startswith(f"{url}: ") and problem in str(info.value)
    assert no_connection == [] and http_server.requests == []


def test_plain_urls_pass() -> None:
    for url in (
        "http://example.com/a.ttl",
        "https://[2606:4700::1111]:8443/x?y=1#z",
        "https://cafe.be/catalog",
        "https://Data.Gouv.FR/api/1/site/catalog.ttl?page=1&q=%20",
        "https://bücher.example/katalog.ttl",  # an IDN host, sent IDNA-encoded
    ):
        assert url_problem(url) is None


# ------------------------------------------------------------------ addresses at connect time


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "[::1]",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::ffff:a9fe:a9fe]",  # IPv4-mapped metadata address
        "[::127.0.0.1]",  # IPv4-compatible
        "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "[fe80::1]",
        "[fec0::1]",
        "[fd00::1]",
        "224.0.0.1",
        "240.0.0.1",
        "192.88.99.1",
        "localhost",
    ],
)
def test_non_public_addresses_are_refused_before_any_connection(host: str, no_connection) -> None:
    url = f"http://{host}:8080/catalog.ttl"
    with pytest.raises(HttpError) as info:
        GuardedHttp(user_agent="t").get(url)
    assert "refused to connect to private address" in str(info.value)
    assert '"allow_private_addresses": true' in str(info.value)
    assert no_connection == []


def test_the_address_connected_to_is_the_address_checked(monkeypatch: pytest.MonkeyPatch, no_connection) -> None:
    """DNS rebinding: a name that answers public first and loopback next must not reach loopback."""
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1"])
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host, port, *args, **kwargs):  # noqa: ANN001
        if host == "rebind.example":
            lookups.append(host)
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(HttpError):
        guarded = GuardedHttp(user_agent="t", options=HttpOptions(retries=1, backoff=0))
        guarded.get("http://rebind.example/catalog.ttl")
    assert lookups == ["rebind.example"]  # resolved once, even across the retry ...
    assert [a[0] for a in no_connection] == ["93.184.216.34"] * 2  # ... and every attempt pinned to that answer


def test_private_addresses_need_the_switch_and_then_work(http_server, monkeypatch) -> None:
    url = http_server.url(PATH)
    with pytest.raises(HttpError, match="refused to connect to private address 127.0.0.1"):
        GuardedHttp(user_agent="t").get(url)
    assert hits(http_server) == []
    assert client().get(url).status_code == 200


def test_ipv6_loopback_with_the_switch(http_server) -> None:
    # The fixture server listens on 127.0.0.1 only: [::1] is refused by the kernel, not by the guard.
    with pytest.raises(HttpError, match=r"^Connection failed for url: http://\[::1\]"):
        client().get(f"http://[::1]:{http_server.port}/{PATH}")


# ------------------------------------------------------------------ retries


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(http, "time", types.SimpleNamespace(sleep=recorded.append))
    return recorded


def test_429_honours_retry_after(http_server, waits) -> None:
    http_server.route(PATH, status=429, headers={"Retry-After": "7"})
    with pytest.raises(HttpError, match="^429 Client Error"):
        client(retries=2, deadline=3600).get(http_server.url(PATH))
    assert waits == [7.0, 7.0]
    assert len(hits(http_server)) == 3


def test_retry_after_is_capped(http_server, waits) -> None:
    http_server.route(PATH, status=503, headers={"Retry-After": "999999"})
    with pytest.raises(HttpError, match="^503 Server Error"):
        client(retries=1, deadline=3600).get(http_server.url(PATH))
    assert waits == [http.MAX_RETRY_AFTER]


def test_a_post_body_is_never_sent_twice(http_server, waits) -> None:
    http_server.route(PATH, status=503)
    with pytest.raises(HttpError, match="^503 Server Error"):
        client(retries=3).post(http_server.url(PATH), data=b"<GetRecords/>")
    assert [r[0] for r in hits(http_server)] == ["POST"]
    assert waits == []


# ------------------------------------------------------------------ deadline


@pytest.fixture
def drip_server() -> Iterator[tuple[int, list[int]]]:
    """A server that answers one byte every 0.3 s: headers first (mode "body") or dripping the status line too."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    sent: list[int] = []
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            request = conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/turtle\r\nContent-Length: 100000\r\n\r\n"
            body = b"#" * 100000
            if b"/stall" in request:  # part of the body, then silence longer than the read timeout
                conn.sendall(head + body[:10])
                stop.wait(3)
                return
            if b"/headers" in request:
                payload = head + body  # even the status line comes one byte at a time
            else:
                conn.sendall(head)
                payload = body
            for i in range(len(payload)):
                if stop.is_set():
                    return
                try:
                    conn.sendall(payload[i : i + 1])
                except OSError:
                    return
                sent.append(1)
                time.sleep(0.3)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], sent
    stop.set()
    listener.close()


@pytest.mark.parametrize("path", ["body", "headers"])
def test_a_dripping_server_cannot_hold_a_request_past_its_deadline(drip_server, path: str) -> None:
    port, sent = drip_server
    url = f"http://127.0.0.1:{port}/{path}"
    with pytest.raises(HttpError) as info:
        client(timeout=1, deadline=1.5, retries=2).get(url)
    assert str(info.value) == f'Deadline of 1.5s exceeded for url: {url} (config "deadline")'
    assert len(sent) < 1000  # stopped long before the body ended


def test_a_server_silent_mid_body_is_a_timeout(drip_server) -> None:
    port, _sent = drip_server
    url = f"http://127.0.0.1:{port}/stall"
    with pytest.raises(HttpError) as info:
        client(timeout=0.5, deadline=30).get(url)
    assert str(info.value) == f"Timeout after 0.5s for url: {url}"


def test_the_default_deadline_follows_timeout_and_retries() -> None:
    assert HttpOptions.from_config({"timeout": 3, "retries": 0}).total_deadline == 9
    assert HttpOptions.from_config({"timeout": 3, "retries": 1, "retry_backoff": 1}).total_deadline == 19
    assert HttpOptions.from_config({"deadline": 5}).total_deadline == 5


# ------------------------------------------------------------------ bounded config values


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"retries": 10**6}, 'Config key "retries" must be between 0 and 10'),
        ({"retries": -1}, 'Config key "retries" must be between 0 and 10'),
        ({"timeout": float("inf")}, 'Config key "timeout" must be a finite number'),
        ({"timeout": 1e400}, 'Config key "timeout" must be a finite number'),
        ({"timeout": float("nan")}, 'Config key "timeout" must be a finite number'),
        ({"timeout": 0}, 'Config key "timeout" must be above 0'),
        ({"timeout": 601}, 'Config key "timeout" must be between 0 and 600'),
        ({"retry_backoff": 1e308}, 'Config key "retry_backoff" must be between 0 and 60'),
        ({"max_bytes": 10**12}, 'Config key "max_bytes" must be between'),
        ({"max_bytes": "big"}, 'Config key "max_bytes" must be int'),
        ({"deadline": 10**5}, 'Config key "deadline" must be between 0 and 3600'),
    ],
)
def test_config_values_are_bounded(config: dict, message: str) -> None:
    assert any(e.startswith(message) for e in http_config_errors(config))
    with pytest.raises(DataspaceError, match=message.replace("(", r"\(")):
        HttpOptions.from_config(config)


def test_local_files_must_be_regular_and_capped(tmp_path) -> None:
    import os

    fifo = tmp_path / "pipe.ttl"
    os.mkfifo(fifo)
    with pytest.raises(HttpError, match="not a regular file"):
        GuardedHttp(user_agent="t", options=HttpOptions(allow_local_files=True)).get(fifo.as_uri())
    big = tmp_path / "big.ttl"
    big.write_bytes(b"#" * 101)
    with pytest.raises(HttpError, match="File too large"):
        GuardedHttp(user_agent="t", options=HttpOptions(allow_local_files=True, max_bytes=100)).get(big.as_uri())
