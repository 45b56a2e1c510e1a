"""The handler server's Parquet routes on a real uvicorn: listing, files, byte ranges, 404s, the allow-list, Azure."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pyarrow.parquet as pq
import pytest

from dataspace_assets.dataspace.parquetize.batches import Parquetizer
from dataspace_assets.dataspace.parquetize.plan import parse_plan
from dataspace_assets.dataspace.server import build_app, byte_range
from dataspace_assets.storage.parquet import ParquetIndex
from dataspace_assets.storage.store import CONTENT_TYPES, DataStore
from dataspace_tests.dataspace.http_helpers import running

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
PLAN = {"BATCH": "1h", "GROUPS": [{"GROUP": "1w", "KEYS": ["line"]}], "START": "2026-03-01"}
TOML = f"""
[collectors.feed]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
PARQUETIZE = {{ BATCH = "1h", GROUPS = [{{ GROUP = "1w", KEYS = ["line"] }}], START = "2026-03-01" }}

[collectors.plain]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[collectors.later]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
PARQUETIZE = {{ BATCH = "1d" }}
"""
LINES = ("7", "a b/c")  # a key value that needs quoting in a URL, and holds a slash


def _parquetize(store: DataStore) -> None:
    """Three hourly files and one weekly file per line (the weekly level keeps the hourly files)."""
    for hour in range(3):
        for minute in (0, 30):
            rows = [{"line": line, "delay": float(hour * 60 + minute)} for line in LINES]
            store.write("city_feed", json.dumps(rows).encode(), date=T0 + timedelta(hours=hour, minutes=minute),
                        content_type=CONTENT_TYPES["json"])
    parquetizer = Parquetizer(store, "city_feed", parse_plan(PLAN))
    for hour in range(3):
        parquetizer.batch(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    parquetizer.roll_up(1, T0, T0 + timedelta(days=7))


@pytest.fixture
def deployment(configs, tmp_settings):
    configs.toml("city.toml", TOML)
    store = DataStore.from_settings(tmp_settings)
    _parquetize(store)
    yield store
    store.close()


@pytest.fixture
def server(deployment, tmp_settings):
    with running(build_app(tmp_settings)) as srv:
        yield srv


def test_the_listing_describes_every_recorded_file(server, deployment) -> None:
    answer = server.get("/parquet/city_feed/")
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert (body["component"], body["levels"], body["media_type"]) == ("city_feed", ["1h", "1w"],
                                                                       "application/vnd.apache.parquet")
    recorded = ParquetIndex(deployment.engine, "city_feed").files()
    assert [(f["level"], f["start"], f["rows"]) for f in body["files"]] == [
        (r.level, r.start.isoformat(), r.rows) for r in recorded]
    assert [f["level"] for f in body["files"]].count("1h") == 3
    weekly = {f["keys"]["line"]: f for f in body["files"] if f["level"] == "1w"}
    assert set(weekly) == set(LINES)
    for entry in body["files"]:
        blob = next(r for r in recorded if r.name == entry["name"])
        assert entry["byte_size"] == len(deployment.blobs.read(blob.location))
        assert entry["url"] == f"http://127.0.0.1:{server.port}{entry['path']}"
    assert weekly["a b/c"]["name"].endswith("_line=a%20b%2Fc.parquet")
    hourly = server.get("/parquet/city_feed/?level=1h").json()["files"]
    assert [f["start"] for f in hourly] == [(T0 + timedelta(hours=h)).isoformat() for h in range(3)]
    bad = server.get("/parquet/city_feed/?level=5m")
    assert bad.status == 400 and bad.json()["parameter"] == "level"


def test_a_file_streams_its_blob_and_reads_back(server, deployment) -> None:
    files = server.get("/parquet/city_feed/").json()["files"]
    for entry in files:
        answer = server.get(quote(entry["path"], safe="/%=_."))
        assert answer.status == 200, entry["path"]
        assert answer.headers["content-type"] == "application/vnd.apache.parquet"
        assert int(answer.headers["content-length"]) == entry["byte_size"] == len(answer.body)
        assert answer.headers["accept-ranges"] == "bytes"
        table = pq.read_table(io.BytesIO(answer.body))
        assert table.num_rows == entry["rows"]
    weekly = next(f for f in files if f.get("keys", {}).get("line") == "a b/c")
    rows = pq.read_table(io.BytesIO(server.get(weekly["path"]).body)).to_pylist()
    assert sorted(r["delay"] for r in rows) == [0.0, 30.0, 60.0, 90.0, 120.0, 150.0]
    assert {r["line"] for r in rows} == {"a b/c"}
    first_hour = server.get(files[0]["path"])
    assert sorted((r["line"], r["delay"]) for r in pq.read_table(io.BytesIO(first_hour.body)).to_pylist()) == [
        ("7", 0.0), ("7", 30.0), ("a b/c", 0.0), ("a b/c", 30.0)]


def test_head_and_byte_ranges(server) -> None:
    entry = server.get("/parquet/city_feed/").json()["files"][0]
    whole = server.get(entry["path"]).body
    head = server.request("HEAD", entry["path"])
    assert (head.status, head.body, int(head.headers["content-length"])) == (200, b"", len(whole))
    magic = server.request("GET", entry["path"], headers={"Range": "bytes=0-3"})
    assert (magic.status, magic.body) == (206, b"PAR1")
    assert magic.headers["content-range"] == f"bytes 0-3/{len(whole)}"
    tail = server.request("GET", entry["path"], headers={"Range": "bytes=-8"})  # what Parquet readers ask first
    assert (tail.status, tail.body) == (206, whole[-8:])
    middle = server.request("GET", entry["path"], headers={"Range": f"bytes=10-{len(whole) + 100}"})
    assert middle.body == whole[10:] and middle.headers["content-range"] == f"bytes 10-{len(whole) - 1}/{len(whole)}"
    past = server.request("GET", entry["path"], headers={"Range": f"bytes={len(whole)}-"})
    assert past.status == 416 and past.json()["size"] == len(whole)
    several = server.request("GET", entry["path"], headers={"Range": "bytes=0-1,5-6"})  # not supported: all of it
    assert (several.status, several.body) == (200, whole)
    # The listing's SHA-256 is the whole file's, and every answer's Repr-Digest (RFC 9530), ranges included.
    digest = hashlib.sha256(whole)
    assert entry["sha256"] == digest.hexdigest()
    expected = f"sha-256=:{base64.b64encode(digest.digest()).decode()}:"
    assert {head.headers["repr-digest"], magic.headers["repr-digest"], tail.headers["repr-digest"]} == {expected}


class RangeFile(io.RawIOBase):
    """A remote file read only through `Range` requests, as an HTTP Parquet reader reads one."""

    def __init__(self, server, path: str, size: int) -> None:
        self.server, self.path, self.size, self.position, self.fetched = server, path, size, 0, 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: 0, 1: self.position, 2: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        if self.position >= self.size or not len(buffer):
            return 0
        last = min(self.position + len(buffer), self.size) - 1
        answer = self.server.request("GET", self.path, headers={"Range": f"bytes={self.position}-{last}"})
        assert answer.status == 206
        buffer[: len(answer.body)] = answer.body
        self.position += len(answer.body)
        self.fetched += len(answer.body)
        return len(answer.body)


def test_a_parquet_reader_reads_a_file_through_byte_ranges(server) -> None:
    entry = next(f for f in server.get("/parquet/city_feed/").json()["files"] if f["level"] == "1w")
    remote = RangeFile(server, entry["path"], entry["byte_size"])
    parquet = pq.ParquetFile(remote)
    assert parquet.metadata.num_rows == entry["rows"]
    assert parquet.read(columns=["delay"]).column("delay").to_pylist() == pq.read_table(
        io.BytesIO(server.get(entry["path"]).body)).column("delay").to_pylist()


@pytest.mark.parametrize(
    ("size", "header", "expected"),
    [(100, None, None), (100, "bytes=0-9", (0, 10)), (100, "bytes=90-", (90, 10)), (100, "bytes=-5", (95, 5)),
     (100, "bytes=-500", (0, 100)), (100, "bytes=100-", False), (100, "bytes=9-3", False), (100, "bytes=-0", False),
     (100, "items=0-1", None), (100, "bytes=-", None), (100, "bytes=1-2,4-5", None), (0, "bytes=0-", False)],
)
def test_byte_range(size: int, header: str | None, expected) -> None:
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/parquet/nope/",  # no such component
        "/parquet/city_plain/",  # a component without PARQUETIZE
        "/parquet/city_feed",  # no trailing slash
        "/parquet/city_feed/5m/",
        "/parquet/city_feed/1h/2026-03-02_00-00-00_to_2026-03-02_02-00-00.parquet",  # not a recorded window
        "/parquet/city_feed/1w/2026-03-02_00-00-00_to_2026-03-09_00-00-00_line=8.parquet",
        "/parquet/city_feed/1h/",
        "/parquet/city_feed/1h/../../../home/dataspace.db",
        "/parquet/city_feed/1h/..%2F..%2F..%2Fhome%2Fdataspace.db",
        "/parquet/city_feed/..%2F..%2Fhome/dataspace.db",
        "/parquet/city_feed/1h/%2e%2e/%2e%2e/etc/passwd",
        "/parquet/city_feed/1h/2026-03-02_00-00-00/../../../../../etc/passwd",
        "/parquet/..%2Fhome/1h/dataspace.db",
    ],
)
def test_unknown_names_and_traversal_are_json_404s(server, path: str) -> None:
    answer = server.get(path)
    assert answer.status == 404, path
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) == {"status", "error"}


def test_the_blob_key_is_not_a_public_name(server, deployment) -> None:
    (item, *_) = ParquetIndex(deployment.engine, "city_feed").files("1h")
    blob_name = item.location.rsplit("/", 1)[-1]  # `<window>-<random>.parquet`
    assert blob_name != item.name
    assert server.get(f"/parquet/city_feed/1h/{blob_name}").status == 404
    assert server.get(f"/parquet/city_feed/1h/{item.name}").status == 200


def test_a_blob_gone_behind_the_table_is_a_404(server, deployment) -> None:
    (item, *_) = ParquetIndex(deployment.engine, "city_feed").files("1h")
    deployment.blobs.delete(item.location)
    answer = server.get(f"/parquet/city_feed/1h/{item.name}")
    assert answer.status == 404 and "no longer stored" in answer.json()["error"]


def test_a_component_without_files_yet_lists_none_on_the_read_only_store(server, deployment) -> None:
    answer = server.get("/parquet/city_later/")
    assert answer.status == 200 and answer.json()["files"] == []
    # the read-only server did not create the table: the component never wrote a file
    import sqlalchemy as sa

    assert not sa.inspect(deployment.engine).has_table("city_later_parquetize")


def test_the_allow_list_and_method_check_apply(deployment, tmp_settings) -> None:
    path = "/parquet/city_feed/1h/" + ParquetIndex(deployment.engine, "city_feed").files("1h")[0].name
    with running(build_app(tmp_settings, allowed_hosts=["10.9.9.9"])) as closed:
        for method, target in (("GET", "/parquet/city_feed/"), ("GET", path), ("HEAD", path), ("POST", path),
                               ("GET", "/parquet/nope/"), ("GET", "/parquet/city_feed/1h/../../x")):
            answer = closed.request(method, target)
            assert answer.status == 403, (method, target)
            assert b"PAR1" not in answer.body
    with running(build_app(tmp_settings)) as open_:
        for method in ("POST", "PUT", "DELETE"):
            answer = open_.request(method, path)
            assert answer.status == 405 and answer.json()["error"] == "method not allowed"


def test_openapi_lists_the_parquet_routes(server) -> None:
    paths = server.get("/openapi.json").json()["paths"]
    assert "/parquet/city_feed/" in paths and "/parquet/city_feed/{level}/{file}" in paths
    assert "/parquet/city_later/" in paths and "/parquet/city_plain/" not in paths
    answers = paths["/parquet/city_feed/{level}/{file}"]["get"]["responses"]
    assert "application/vnd.apache.parquet" in answers["200"]["content"]


@pytest.mark.services
def test_files_stream_from_azure_blobs(azurite, configs, tmp_settings) -> None:
    from dataspace_assets.storage.blobs import AzureBlobStore
    from dataspace_assets.storage.database import create_engine

    configs.toml("city.toml", TOML)
    store = DataStore(AzureBlobStore(azurite.new_container(), connection_string=azurite.connection_string),
                      create_engine(f"sqlite:///{tmp_settings.home / 'azure-index.db'}"))
    try:
        _parquetize(store)
        with running(build_app(tmp_settings, store=store)) as srv:
            files = srv.get("/parquet/city_feed/").json()["files"]
            assert len(files) == 5
            for entry in files:
                answer = srv.get(entry["path"])
                assert answer.status == 200 and len(answer.body) == entry["byte_size"]
                assert pq.read_table(io.BytesIO(answer.body)).num_rows == entry["rows"]
            ranged = srv.request("GET", files[0]["path"], headers={"Range": "bytes=-4"})
            assert (ranged.status, ranged.body) == (206, b"PAR1")
            (item, *_) = ParquetIndex(store.engine, "city_feed").files("1h")
            store.blobs.delete(item.location)
            assert srv.get(f"/parquet/city_feed/1h/{item.name}").status == 404
    finally:
        store.close()


@pytest.mark.services
def test_postgresql_index_on_read_only_connections(pg_url, configs, tmp_settings, monkeypatch) -> None:
    from dataspace_assets.settings import load_settings

    monkeypatch.setenv("DATASPACE_DATABASE_URL", pg_url)
    settings = load_settings()
    configs.toml("city.toml", TOML)
    store = DataStore.from_settings(settings)
    try:
        _parquetize(store)
        with running(build_app(settings)) as srv:  # its own read-only store on PostgreSQL
            files = srv.get("/parquet/city_feed/").json()["files"]
            assert len(files) == 5
            answer = srv.get(files[-1]["path"])
            assert answer.status == 200 and pq.read_table(io.BytesIO(answer.body)).num_rows == files[-1]["rows"]
            assert srv.get("/parquet/city_later/").json()["files"] == []  # no table, none created
    finally:
        store.close()
