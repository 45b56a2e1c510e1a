"""HTTP hygiene of harvests: User-Agent, timeouts, bounded retries, no redirects, no private addresses, local files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dataspace_assets.harvest.backends.base import HarvestException, SourceInfo
from dataspace_assets.harvest.http import HarvestHttp, HarvestHttpError, HttpOptions

PATH = "udata/dcat/flat.jsonld"


def client(**options) -> HarvestHttp:
    base = {"allow_private_addresses": True, "retries": 0, "retry_backoff": 0.05}
    return HarvestHttp.for_source(
        SourceInfo(id="s", slug="s", name="s", url="http://x", backend="dcat", domain="x", config={**base, **options}),
        user_agent="dataspace/test dcat",
    )


def hits(server, path: str = PATH) -> list[tuple[str, str, dict]]:
    return [r for r in server.requests if r[1].lstrip("/").split("?")[0] == path]


def clear_route_after_first_hit(server, path: str) -> None:
    """Lift a fault once the first request came in, so the retry succeeds."""

    def watch() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if hits(server, path):
                server.routes.pop(path, None)
                return
            time.sleep(0.002)

    threading.Thread(target=watch, daemon=True).start()


def test_user_agent_and_body(http_server) -> None:
    response = client().get(http_server.url(PATH))
    assert response.content == (Path(http_server.root) / PATH).read_bytes()
    [(method, _path, headers)] = hits(http_server)
    assert method == "GET" and headers["User-Agent"] == "dataspace/test dcat"


def test_a_server_error_is_retried_then_succeeds(http_server) -> None:
    http_server.route(PATH, status=500)
    clear_route_after_first_hit(http_server, PATH)
    response = client(retries=2, retry_backoff=0.3).get(http_server.url(PATH))
    assert response.status_code == 200
    assert len(hits(http_server)) == 2


def test_retries_are_bounded(http_server) -> None:
    http_server.route(PATH, status=503)
    url = http_server.url(PATH)
    with pytest.raises(HarvestHttpError) as info:
        client(retries=2).get(url)
    assert str(info.value) == f"503 Server Error: Service Unavailable for url: {url}"
    assert len(hits(http_server)) == 3


def test_client_errors_are_not_retried(http_server) -> None:
    url = http_server.url("udata/dcat/missing.xml")
    with pytest.raises(HarvestHttpError, match=f"^404 Client Error: Not Found for url: {url}$"):
        client(retries=3).get(url)
    assert len(hits(http_server, "udata/dcat/missing.xml")) == 1


def test_timeout(http_server) -> None:
    http_server.route(PATH, delay=1.0)
    url = http_server.url(PATH)
    with pytest.raises(HarvestHttpError) as info:
        client(timeout=0.2).get(url)
    assert str(info.value) == f"Timeout after 0.2s for url: {url}"


def test_redirects_are_refused(http_server) -> None:
    http_server.route(PATH, status=302, headers={"Location": "http://elsewhere.test/x"})
    url = http_server.url(PATH)
    with pytest.raises(HarvestHttpError) as info:
        client().get(url)
    assert str(info.value) == f"HTTP 302 redirect refused for url: {url} (to http://elsewhere.test/x)"


def test_truncated_body(http_server) -> None:
    http_server.route(PATH, truncate=100)
    url = http_server.url(PATH)
    with pytest.raises(HarvestHttpError, match=f"^Incomplete response for url: {url}: "):
        client().get(url)


def test_private_addresses_are_refused_unless_allowed(http_server) -> None:
    url = http_server.url(PATH)
    with pytest.raises(HarvestHttpError) as info:
        client(allow_private_addresses=False).get(url)
    assert str(info.value).startswith(f"{url}: refused to connect to private address 127.0.0.1")
    assert hits(http_server) == []
    assert isinstance(info.value, HarvestException)


def test_size_limit(http_server) -> None:
    url = http_server.url(PATH)
    with pytest.raises(HarvestHttpError, match="^Response too large for url: "):
        client(max_bytes=10).get(url)


def test_local_files_need_the_switch(tmp_path: Path) -> None:
    target = tmp_path / "c.ttl"
    target.write_text("# empty")
    url = target.as_uri()
    with pytest.raises(HarvestHttpError) as info:
        client().get(url)
    assert str(info.value) == f'{url}: local files are not allowed for this source (config "allow_local_files")'
    response = client(allow_local_files=True).get(url)
    assert response.content == b"# empty" and response.headers["Content-Type"] == "text/turtle"


def test_unsupported_scheme() -> None:
    with pytest.raises(HarvestHttpError, match="^ftp://x.test/a: unsupported URL scheme 'ftp'$"):
        client().get("ftp://x.test/a")


def test_options_from_config_defaults() -> None:
    options = HttpOptions.from_config({})
    assert (options.allow_private_addresses, options.allow_local_files, options.retries) == (False, False, 2)


def _record_waits(monkeypatch: pytest.MonkeyPatch, waits: list[float]) -> None:
    """Record the client's back-off sleeps instead of sleeping (only the client's: the server still sleeps)."""
    import types

    from dataspace_assets.net import http

    monkeypatch.setattr(http, "time", types.SimpleNamespace(sleep=waits.append))


def test_retries_back_off_exponentially(http_server, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    _record_waits(monkeypatch, waits)
    http_server.route(PATH, status=502)
    with pytest.raises(HarvestHttpError, match="^502 Server Error"):
        client(retries=3, retry_backoff=0.5).get(http_server.url(PATH))
    assert waits == [0.5, 1.0, 2.0]
    assert len(hits(http_server)) == 4


def test_a_timeout_is_retried(http_server, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    _record_waits(monkeypatch, waits)
    http_server.route(PATH, delay=1.0)
    url = http_server.url(PATH)
    with pytest.raises(HarvestHttpError) as info:
        client(timeout=0.2, retries=1, retry_backoff=0.1).get(url)
    assert str(info.value) == f"Timeout after 0.2s for url: {url}"
    assert waits == [0.1]
    assert len(hits(http_server)) == 2
