"""The test services themselves: each fixture gives a real, working service."""

import time

import requests
import sqlalchemy as sa


def test_postgres_gives_fresh_databases(pg_url: str, postgres_cluster) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x int)"))
        conn.execute(sa.text("INSERT INTO t VALUES (41), (1)"))
        assert conn.execute(sa.text("SELECT sum(x) FROM t")).scalar() == 42
    engine.dispose()
    other = sa.create_engine(postgres_cluster.create_database())
    with other.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE tablename = 't'")).scalar() == 0
    other.dispose()


def test_azurite_stores_blobs_with_real_authentication(azurite) -> None:
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
    from azure.storage.blob import BlobServiceClient

    container = azurite.new_container()
    client = BlobServiceClient.from_connection_string(azurite.connection_string)
    client.get_blob_client(container, "a/b.txt").upload_blob(b"hello")
    assert client.get_blob_client(container, "a/b.txt").download_blob().readall() == b"hello"

    wrong = azurite.connection_string.replace(azurite.account_key, "d3Jvbmcga2V5" * 4)
    try:
        BlobServiceClient.from_connection_string(wrong).get_blob_client(container, "a/b.txt").download_blob()
    except (ClientAuthenticationError, HttpResponseError) as exc:
        assert "403" in str(exc) or "Authorization" in str(exc)
    else:
        raise AssertionError("a wrong account key must be refused")


def test_fixture_server_serves_real_files(http_server, fixtures_dir) -> None:
    path = "udata-ods/empty.json"
    answer = requests.get(http_server.url(path), timeout=5)
    assert answer.status_code == 200
    assert answer.content == (fixtures_dir / path).read_bytes()
    assert answer.headers["Content-Type"] == "application/json"
    assert requests.get(http_server.url("missing/file.ttl"), timeout=5).status_code == 404
    assert requests.get(http_server.url("../shared/DESIGN.md"), timeout=5).status_code == 404
    assert http_server.requests[0][0] == "GET"


def test_fixture_server_routes_faults(http_server) -> None:
    http_server.route("udata-ods/empty.json", status=503, content_type="text/plain")
    answer = requests.get(http_server.url("udata-ods/empty.json"), timeout=5)
    assert (answer.status_code, answer.headers["Content-Type"]) == (503, "text/plain")

    http_server.route("virtual/page.ttl", body=b"<a> <b> <c> .", content_type="text/turtle")
    assert requests.get(http_server.url("virtual/page.ttl?page=2"), timeout=5).text == "<a> <b> <c> ."

    http_server.route("virtual/moved", status=302, headers={"Location": "http://127.0.0.1:9/x"}, body=b"")
    moved = requests.get(http_server.url("virtual/moved"), timeout=5, allow_redirects=False)
    assert (moved.status_code, moved.headers["Location"]) == (302, "http://127.0.0.1:9/x")

    http_server.route("virtual/slow", body=b"late", delay=0.3)
    started = time.monotonic()
    try:
        requests.get(http_server.url("virtual/slow"), timeout=0.1)
    except requests.Timeout:
        pass
    else:
        raise AssertionError("a delayed answer must time out a short client timeout")
    assert time.monotonic() - started < 5

    http_server.route("virtual/cut", body=b"x" * 1000, truncate=10)
    try:
        body = requests.get(http_server.url("virtual/cut"), timeout=5).content
    except requests.exceptions.ChunkedEncodingError:
        body = None
    assert body is None or len(body) < 1000


def test_redis_answers_ping(redis_server) -> None:
    import redis

    client = redis.Redis.from_url(redis_server.url)
    assert client.ping() is True
    client.set("k", "v")
    assert client.get("k") == b"v"
