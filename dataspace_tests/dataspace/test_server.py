"""The handler server on a real uvicorn: routes, typed parameters, errors, the allow-list, no file serving."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from dataspace_assets.dataspace.server import build_app, client_allowed, parse_allowed_hosts
from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.store import CONTENT_TYPES, DataStore
from dataspace_tests.dataspace.http_helpers import running

HANDLERS = '''
from dataspace_assets.dataspace.components import Handler
from dataspace_assets.dataspace.original import retrieve_latest_row, retrieve_between_datetime


class Echo(Handler):
    def run(self, n=7, x=0.5, s="none", flag=None):
        return {"n": n, "x": x, "s": s, "flag": flag,
                "types": [type(n).__name__, type(x).__name__, type(s).__name__, type(flag).__name__]}


class Nothing(Handler):
    def run(self):
        return None


class Boom(Handler):
    def run(self):
        raise RuntimeError("very secret traceback detail")


class Blob(Handler):
    def run(self):
        return bytes([0, 1, 2, 255])


class Words(Handler):
    def run(self):
        return "héllo wörld"


class Latest(Handler):
    def run(self):
        return self.reader.latest("h_feed")


class Peek(Handler):
    def run(self, name="h_feed"):
        item = self.reader.latest(name)
        return item.json() if item else None


class Writer(Handler):
    def run(self):
        store = self.reader._DataReader__store
        store.write("h_feed", b'{"forged": true}', content_type="application/json")
        return "written"


class Old:
    """Written for digitaltwin-dataspace 0.0.1: built with the tables, reads with retrieve_*."""

    def __init__(self, tables):
        self.tables = tables

    def run(self):
        row = retrieve_latest_row(self.tables["h_feed"])
        every = retrieve_between_datetime(self.tables["h_feed"], None, None)
        return {"latest": row.data, "count": len(every), "tables": sorted(self.tables)}


class PushOnly:
    def on_new(self, item):
        pass
'''

TOML = """
[collectors.feed]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[collectors.empty]
PATH = "tests.Echo"
DATA_TYPE = "binary"
DATA_FORMAT = "x"

[handlers.echo]
PATH = "handlers_mod.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
QUERY_PARAMETERS = { n = "int", x = "float", s = "str", flag = "bool" }

[handlers.nothing]
PATH = "handlers_mod.Nothing"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[handlers.boom]
PATH = "handlers_mod.Boom"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[handlers.blob]
PATH = "handlers_mod.Blob"
DATA_TYPE = "binary"
DATA_FORMAT = "x"

[handlers.words]
PATH = "handlers_mod.Words"
DATA_TYPE = "text"
DATA_FORMAT = "x"

[handlers.latest]
PATH = "handlers_mod.Latest"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[handlers.peek]
PATH = "handlers_mod.Peek"
DATA_TYPE = "json"
DATA_FORMAT = "x"
COMPONENTS = ["empty"]
QUERY_PARAMETERS = { name = "str" }

[handlers.writer]
PATH = "handlers_mod.Writer"
DATA_TYPE = "text"
DATA_FORMAT = "x"

[handlers.old]
PATH = "handlers_mod.Old"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[handlers.push]
PATH = "handlers_mod.PushOnly"
DATA_TYPE = "json"
DATA_FORMAT = "x"
ON_NEW = ["feed"]
"""

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def deployment(configs, tmp_settings):
    configs.module("handlers_mod", HANDLERS)
    configs.toml("h.toml", TOML)
    store = DataStore.from_settings(tmp_settings)
    for i in range(3):
        store.write("h_feed", json.dumps({"i": i}).encode(), date=T0 + timedelta(minutes=i),
                    content_type=CONTENT_TYPES["json"])
    yield store
    store.close()


@pytest.fixture
def server(deployment, tmp_settings):
    with running(build_app(tmp_settings)) as srv:
        yield srv


def test_typed_parameters_are_url_decoded_and_cast(server) -> None:
    answer = server.get("/h_echo?n=42&x=2.5&s=hello%20big+world&flag=false&undeclared=1")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"n": 42, "x": 2.5, "s": "hello big world", "flag": False,
                             "types": ["int", "float", "str", "bool"]}
    # bool is parsed, not Python truthiness; a repeated key: the last one wins; absent ones keep defaults.
    assert server.get("/h_echo?flag=0").json()["flag"] is False
    assert server.get("/h_echo?flag=TRUE").json()["flag"] is True
    assert server.get("/h_echo?flag=1").json()["flag"] is True
    assert server.get("/h_echo?n=1&n=2").json()["n"] == 2
    assert server.get("/h_echo").json()["n"] == 7


@pytest.mark.parametrize(
    ("query", "name"),
    [("n=abc", "n"), ("n=1.5", "n"), ("n=", "n"), ("x=nan", "x"), ("x=ten", "x"), ("flag=yes", "flag"),
     ("flag", "flag")],
)
def test_a_bad_parameter_is_a_400_naming_it(server, query: str, name: str) -> None:
    answer = server.get(f"/h_echo?{query}")
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["parameter"] == name
    assert repr(name) in answer.json()["error"]


def test_none_is_404_and_an_exception_is_500_with_an_id_only(server) -> None:
    missing = server.get("/h_nothing")
    assert missing.status == 404 and missing.json()["error"] == "no data for this query"
    failed = server.get("/h_boom")
    assert failed.status == 500
    body = failed.json()
    assert set(body) == {"status", "error", "error_id"} and len(body["error_id"]) == 12
    assert b"secret" not in failed.body and b"Traceback" not in failed.body


def test_responses_follow_the_data_type(server) -> None:
    blob = server.get("/h_blob")
    assert (blob.status, blob.headers["content-type"], blob.body) == (200, "application/octet-stream", bytes([0, 1, 2, 255]))
    words = server.get("/h_words")
    assert words.headers["content-type"] == "text/plain; charset=utf-8"
    assert words.body.decode("utf-8") == "héllo wörld"
    latest = server.get("/h_latest")  # a stored item goes out as stored
    assert latest.json() == {"i": 2} and latest.headers["content-type"] == "application/json"


def test_unknown_paths_and_trailing_slashes_are_json_404s(server) -> None:
    for path in ("/h_echo/", "/nope", "/", "/h-feed"):
        answer = server.get(path)
        assert answer.status == 404, path
        assert answer.json() == {"status": 404, "error": "not found"}


def test_the_v002_route_returns_the_latest_item_before_a_timestamp(server) -> None:
    answer = server.get("/h-feed/")
    assert answer.status == 200 and answer.json() == {"i": 2}
    assert answer.headers["content-type"] == "application/json"
    before = server.get("/h-feed/?timestamp=2026-03-01T12:01:30%2B00:00")
    assert before.json() == {"i": 1}
    plus_decoded = server.get("/h-feed/?timestamp=2026-03-01T12:01:30+00:00")  # `+` became a space
    assert plus_decoded.json() == {"i": 1}
    naive = server.get("/h-feed/?timestamp=2026-03-01T12:01:00")  # strictly before, naive = UTC
    assert naive.json() == {"i": 0}
    none = server.get("/h-feed/?timestamp=2026-03-01T12:00:00Z")
    assert none.status == 404
    empty = server.get("/h-empty/")
    assert empty.status == 404 and empty.headers["content-type"] == "application/json"
    bad = server.get("/h-feed/?timestamp=yesterday")
    assert bad.status == 400 and bad.json()["parameter"] == "timestamp"


def test_openapi_describes_every_route(server) -> None:
    document = server.get("/openapi.json").json()
    echo = document["paths"]["/h_echo"]["get"]
    assert {p["name"]: p["schema"]["type"] for p in echo["parameters"]} == {
        "n": "integer", "x": "number", "s": "string", "flag": "boolean"}
    assert "/h-feed/" in document["paths"] and "/h-empty/" in document["paths"]
    assert "/h_push" not in document["paths"]  # push-only: no route
    assert server.get("/h_push").status == 404


def test_handlers_only_read_their_components_and_never_write(server, deployment) -> None:
    assert server.get("/h_peek?name=h_empty").status == 404  # readable, and empty
    assert server.get("/h_peek?name=h_feed").status == 500  # not in its COMPONENTS
    assert server.get("/h_writer").status == 500  # even the store behind the reader refuses writes
    assert deployment.count("h_feed") == 3
    assert [b for b in deployment.blobs.keys("h_feed/")].__len__() == 3


def test_a_handler_written_for_the_original_gets_its_tables(server) -> None:
    answer = server.get("/h_old")
    assert answer.status == 200
    assert answer.json() == {"latest": {"i": 2}, "count": 3, "tables": ["h_empty", "h_feed"]}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"])
def test_methods_other_than_get_and_head_are_405(server, method: str) -> None:
    answer = server.request(method, "/h_echo")
    assert answer.status == 405
    assert answer.headers["allow"] == "GET, HEAD"
    assert answer.json()["error"] == "method not allowed"


def test_head_is_answered_like_get_without_a_body(server) -> None:
    answer = server.request("HEAD", "/h-feed/")
    assert answer.status == 200 and answer.body == b""


@pytest.fixture
def secret_files(tmp_settings, monkeypatch, tmp_path):
    """A `.env` in the working directory and in the configs root, with a recognisable secret."""
    secret = "DATASPACE_SECRET=hunter2-" + "x" * 100
    (tmp_path / ".env").write_text(secret)
    (tmp_settings.configs_dir / ".env").write_text(secret)
    monkeypatch.chdir(tmp_path)
    return len(secret)


@pytest.mark.parametrize(
    "path",
    ["/.env", "/../.env", "/%2e%2e/.env", "/%2E%2E%2F.env", "/configs/.env", "/dataspace/h.toml", "//etc/passwd",
     "/h_echo/../.env", "/.", "/static/.env"],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_no_file_is_ever_served(server, secret_files, path: str, method: str) -> None:
    answer = server.request(method, path)
    assert answer.status in (400, 404)
    assert b"hunter2" not in answer.body
    assert answer.headers.get("content-length") != str(secret_files)


def test_the_allow_list_applies_to_every_method_including_head(deployment, tmp_settings, secret_files) -> None:
    app = build_app(tmp_settings, allowed_hosts=["10.0.0.0/8", "192.168.1.7"])
    with running(app) as srv:
        for method in ("GET", "HEAD", "OPTIONS", "POST", "DELETE"):
            for path in ("/h_echo", "/.env", "/", "/h-feed/", "/openapi.json"):
                answer = srv.request(method, path)
                assert answer.status == 403, (method, path)
                assert b"hunter2" not in answer.body
                if method != "HEAD":
                    assert answer.json() == {"status": 403, "error": "forbidden"}


def test_an_empty_allow_list_forbids_everything(deployment, tmp_settings) -> None:
    with running(build_app(tmp_settings, allowed_hosts=[])) as srv:
        assert srv.get("/h_echo").status == 403


def test_cidr_ranges_and_localhost_are_accepted(deployment, tmp_settings) -> None:
    with running(build_app(tmp_settings, allowed_hosts=["127.0.0.0/8"])) as srv:
        assert srv.get("/h_echo").status == 200
        # Another loopback source address is in the range too.
        assert srv.request("GET", "/h_echo", source="127.0.0.2").status == 200
    with running(build_app(tmp_settings, allowed_hosts=["127.0.0.1/32"])) as srv:
        assert srv.request("GET", "/h_echo", source="127.0.0.2").status == 403
    with running(build_app(tmp_settings, allowed_hosts=["localhost"])) as srv:
        assert srv.get("/h_echo").status == 200


def test_ipv6_loopback_is_allowed_by_default(deployment, tmp_settings) -> None:
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with running(build_app(tmp_settings), host="::1") as srv:
        assert srv.get("/h_echo").status == 200
    with running(build_app(tmp_settings, allowed_hosts=["127.0.0.1"]), host="::1") as srv:
        assert srv.get("/h_echo").status == 403


def test_allowed_hosts_parsing() -> None:
    networks = parse_allowed_hosts(["127.0.0.1", "10.1.0.0/16", "::1", "localhost"])
    assert client_allowed("10.1.200.3", networks)
    assert not client_allowed("10.2.0.1", networks)
    assert client_allowed("::ffff:127.0.0.1", networks)  # IPv4-mapped
    assert not client_allowed(None, networks) and not client_allowed("testclient", networks)
    with pytest.raises(DataspaceError, match="'no such host.invalid' is not an address"):
        parse_allowed_hosts(["no such host.invalid"])


def test_unknown_handlers_are_an_error(deployment, tmp_settings) -> None:
    with pytest.raises(DataspaceError, match=r"unknown handler\(s\): h_nope \(handlers: h_blob, "):
        build_app(tmp_settings, handlers=["h_echo", "h_nope"])


def test_only_selected_handlers_are_served_and_extra_routes_sit_behind_the_allow_list(deployment, tmp_settings) -> None:
    def broken(request):
        raise RuntimeError("catalogue secret")

    extra = [Route("/catalog", lambda request: PlainTextResponse("catalogue"), methods=["GET"]),
             Route("/broken", broken, methods=["GET"])]
    with running(build_app(tmp_settings, handlers=["h_echo"], extra_routes=extra)) as srv:
        assert srv.get("/h_echo").status == 200
        assert srv.get("/h_blob").status == 404
        assert srv.get("/catalog").body == b"catalogue"
        assert srv.request("POST", "/catalog").status == 405
        failed = srv.get("/broken")
        assert failed.status == 500 and "error_id" in failed.json() and b"secret" not in failed.body
    with running(build_app(tmp_settings, extra_routes=extra, allowed_hosts=["10.0.0.1"])) as srv:
        assert srv.get("/catalog").status == 403


def test_the_example_handler_serves_the_example_data_as_the_readme_curls_it(project_settings) -> None:
    import shlex
    from urllib.parse import urlsplit

    from dataspace_assets.cli import main
    from dataspace_tests.services import PROJECT_ROOT

    assert main(["run", "--collectors", "example_air_quality", "--now"]) == 0
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    curl = [line for line in readme.splitlines() if line.startswith("curl ")]
    assert len(curl) == 3
    url = urlsplit(shlex.split(curl[0])[-1])
    assert (url.hostname, url.port) == ("127.0.0.1", 8888)
    with running(build_app(project_settings)) as srv:
        answer = srv.get(url.path + (f"?{url.query}" if url.query else ""))
        assert answer.status == 200 and answer.headers["content-type"] == "application/json"
        snapshot = answer.json()
        assert snapshot["city"] == "Brussels" and len(snapshot["readings"]) == 4
        stamp = int(datetime.fromisoformat(snapshot["time"]).timestamp())
        assert srv.get(f"{url.path}?start_timestamp={stamp - 1}&end_timestamp={stamp + 1}").json() == snapshot
        # before this snapshot: the newest of the simulated day of history the first run stored
        older = srv.get(f"{url.path}?end_timestamp={stamp}").json()
        assert datetime.fromisoformat(older["time"]) < datetime.fromisoformat(snapshot["time"])
        assert srv.get(f"{url.path}?start_timestamp=soon").status == 400
    # The second line: the published catalogue, served by the same server (`dataspace serve`).
    from dataspace_assets.run_command import extra_routes

    catalogue = urlsplit(shlex.split(curl[1].split("#")[0])[-1])
    with running(build_app(project_settings, extra_routes=extra_routes(project_settings))) as srv:
        answer = srv.get(f"{catalogue.path}?{catalogue.query}")
        assert answer.status == 200 and answer.headers["content-type"].startswith("text/turtle")
        assert b"hydra:PartialCollectionView" in answer.body or b"PartialCollectionView" in answer.body
    # The third: the collector's Parquet files, once a window of its simulated history is written.
    from dataspace_assets.dataspace.parquetize.batches import Parquetizer
    from dataspace_assets.dataspace.parquetize.plan import parse_plan
    from dataspace_assets.dataspace.server import load_server_config

    (collector,) = [c for c in load_server_config(project_settings).collectors if c.full_name == "example_air_quality"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    store = DataStore.from_settings(project_settings)
    try:
        written = Parquetizer(store, "example_air_quality", parse_plan(collector.parquetize)).batch(
            hour, hour + timedelta(hours=1))
    finally:
        store.close()
    assert written.rows > 0
    listing = urlsplit(shlex.split(curl[2].split("#")[0])[-1])
    with running(build_app(project_settings)) as srv:
        files = srv.get(listing.path).json()["files"]
        assert [(f["start"], f["rows"]) for f in files] == [(hour.isoformat(), written.rows)]
        download = srv.get(urlsplit(files[0]["url"]).path)
        assert download.status == 200 and download.body.startswith(b"PAR1")
