"""Writing items (blob + index row, rollback) and the reader API, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.blobs import LocalBlobStore
from dataspace_assets.storage.database import create_engine
from dataspace_assets.storage.store import CONTENT_TYPES, DataStore, UnsupportedPayload, serialise

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fill(store, name: str = "feed_a", seconds=(0, 10, 20, 30, 40)) -> None:
    for s in seconds:
        store.write(name, f'{{"s": {s}}}'.encode(), date=at(s), content_type=CONTENT_TYPES["json"])


def secs(items) -> list[int]:
    return [int((d.date - T0).total_seconds()) for d in items]


# ---------------------------------------------------------------- serialisation


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("héllo", "héllo".encode()),
        (b"\x00raw", b"\x00raw"),
        (bytearray(b"ba"), b"ba"),
        ({"a": [1, "é"]}, '{"a": [1, "é"]}'.encode()),
        ([1, 2], b"[1, 2]"),
    ],
)
def test_serialise(value, expected) -> None:
    assert serialise(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "returned a builtins.int; expected None, str, bytes, dict or list"),
        (3.5, "returned a builtins.float; expected None, str, bytes, dict or list"),
        ({"when": datetime(2026, 1, 1)}, "the returned dict is not JSON-serialisable: Object of type datetime is not JSON serializable"),
    ],
)
def test_serialise_refuses(value, message) -> None:
    with pytest.raises(UnsupportedPayload) as info:
        serialise(value)
    assert str(info.value) == message


# ---------------------------------------------------------------- writing


def test_write_stores_blob_and_row(store) -> None:
    data = store.write("feed_a", b'{"x": 1}', date=at(5), content_type="application/json")
    assert data.hash == hashlib.md5(b'{"x": 1}').hexdigest()
    assert data.size == 8
    assert store.blobs.read(data.location) == b'{"x": 1}'
    latest = store.latest("feed_a")
    assert (latest.id, latest.date, latest.hash, latest.size, latest.content_type) == (
        data.id, at(5), data.hash, 8, "application/json"
    )
    assert latest.json() == {"x": 1}


def test_dates_come_back_timezone_aware_utc(store) -> None:
    brussels = timezone(timedelta(hours=2))
    store.write("feed_a", b"x", date=datetime(2026, 6, 1, 14, 0, tzinfo=brussels))
    got = store.latest("feed_a").date
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_same_second_writes_keep_both_items(store) -> None:
    first = store.write("feed_a", b"one", date=at(0))
    second = store.write("feed_a", b"two", date=at(0))
    assert first.location != second.location
    assert [d.content for d in store.between("feed_a", None, None)] == [b"one", b"two"]
    assert [d.hash for d in store.between("feed_a", None, None)] == [
        hashlib.md5(b"one").hexdigest(), hashlib.md5(b"two").hexdigest()
    ]


def test_failed_row_removes_the_blob(sqlite_store) -> None:
    store = sqlite_store
    store.write("feed_a", b"kept", date=at(0))
    # A real database refusal: a trigger aborts every further insert.
    with store.engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TRIGGER refuse BEFORE INSERT ON feed_a BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
        ))
    with pytest.raises(DataspaceError, match=r"^could not index the new item of feed_a: refused by test$"):
        store.write("feed_a", b"lost", date=at(1))
    assert store.count("feed_a") == 1
    assert len(store.blobs.keys("feed_a/")) == 1
    assert store.latest("feed_a").content == b"kept"
    assert visible_blobs_exist(store, "feed_a")


class WatchedBlobs(LocalBlobStore):
    """A real local blob store that, once a blob has landed, records what a reader of the index sees."""

    def __init__(self, root, seen: list) -> None:
        super().__init__(root)
        self.seen = seen
        self.store: DataStore | None = None

    def write(self, key: str, data: bytes, content_type: str) -> str:
        location = super().write(key, data, content_type)
        name = key.split("/")[0]
        self.seen.append((self.exists(location), self.store.count(name), self.store.latest(name)))
        return location


def test_row_appears_only_after_its_blob(database_url, tmp_path) -> None:
    seen: list = []
    blobs = WatchedBlobs(tmp_path / "blobs", seen)
    store = DataStore(blobs, create_engine(database_url))
    blobs.store = store
    first = store.write("feed_a", b"one", date=at(0))
    store.write("feed_a", b"two", date=at(1))
    # While each blob was being written, readers saw only the items before it.
    assert [(exists, count, item and item.id) for exists, count, item in seen] == [(True, 0, None), (True, 1, first.id)]
    assert [d.content for d in store.between("feed_a", None, None)] == [b"one", b"two"]
    store.close()


def visible_blobs_exist(store, name: str) -> bool:
    """Every row a reader can see points to a blob that is there."""
    return all(store.blobs.exists(d.location) for d in store.between(name, None, None))


def test_failed_row_removes_the_blob_on_postgres(pg_url, tmp_path) -> None:
    store = DataStore(LocalBlobStore(tmp_path / "blobs"), create_engine(pg_url))
    store.write("feed_a", b"kept", date=at(0))
    with store.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE feed_a ADD CONSTRAINT small CHECK (size < 5)"))
    with pytest.raises(DataspaceError, match="could not index the new item of feed_a"):
        store.write("feed_a", b"too large", date=at(1))
    assert store.count("feed_a") == 1
    assert len(store.blobs.keys("feed_a/")) == 1
    assert visible_blobs_exist(store, "feed_a") and store.latest("feed_a").content == b"kept"
    store.close()


def test_invalid_name_is_refused_before_anything_is_written(sqlite_store) -> None:
    with pytest.raises(DataspaceError, match="^invalid component name 'bad-name'"):
        sqlite_store.write("bad-name", b"x")
    assert sqlite_store.blobs.keys() == []


def test_tables_get_their_own_date_index(store) -> None:
    store.write("feed_a", b"x", date=at(0))
    store.write("feed_b", b"x", date=at(0))
    inspector = sa.inspect(store.engine)
    # Each table's own date index, and the unique index on harvester windows.
    assert sorted(i["name"] for i in inspector.get_indexes("feed_a")) == ["ix_feed_a_date", "ix_feed_a_window"]
    assert sorted(i["name"] for i in inspector.get_indexes("feed_b")) == ["ix_feed_b_date", "ix_feed_b_window"]


# ---------------------------------------------------------------- reading


def test_reading_an_unknown_component_is_empty_and_creates_nothing(store) -> None:
    assert store.latest("nothing_here") is None
    assert store.between("nothing_here", None, None) == []
    assert store.count("nothing_here") == 0
    assert not sa.inspect(store.engine).has_table("nothing_here")


def test_latest_and_first(store) -> None:
    fill(store)
    assert secs([store.latest("feed_a")]) == [40]
    assert secs([store.first("feed_a")]) == [0]


def test_latest_before_is_strict(store) -> None:
    fill(store)
    assert secs([store.latest_before("feed_a", at(20))]) == [10]
    assert secs([store.latest_before("feed_a", at(21))]) == [20]
    assert store.latest_before("feed_a", at(0)) is None


def test_n_latest_before_newest_first(store) -> None:
    fill(store)
    assert secs(store.latest_n_before("feed_a", at(35), 2)) == [30, 20]
    assert secs(store.latest_n_before("feed_a", at(35), 10)) == [30, 20, 10, 0]


def test_after_is_strict_ascending_with_limit_and_offset(store) -> None:
    fill(store)
    assert secs(store.after("feed_a", at(10))) == [20, 30, 40]
    assert secs(store.after("feed_a", at(10), limit=2)) == [20, 30]
    assert secs(store.after("feed_a", at(10), limit=2, offset=1)) == [30, 40]


def test_between_is_an_open_interval(store) -> None:
    fill(store)
    assert secs(store.between("feed_a", at(0), at(40))) == [10, 20, 30]
    assert secs(store.between("feed_a", None, at(20))) == [0, 10]
    assert secs(store.between("feed_a", at(20), None)) == [30, 40]
    assert secs(store.between("feed_a", at(0), at(40), limit=1, offset=1)) == [20]


def test_naive_query_bounds_are_utc(store) -> None:
    fill(store)
    assert secs([store.latest_before("feed_a", datetime(2026, 1, 1, 0, 0, 15))]) == [10]


def test_markers_are_invisible_to_readers(store) -> None:
    fill(store, seconds=(0, 10))
    store.write_marker("feed_a", at(20))
    store.write_marker("feed_a", at(-10))
    assert secs([store.latest("feed_a")]) == [10]
    assert secs([store.first("feed_a")]) == [0]
    assert secs([store.latest_before("feed_a", at(30))]) == [10]
    assert secs(store.latest_n_before("feed_a", at(30), 5)) == [10, 0]
    assert secs(store.after("feed_a", at(-20))) == [0, 10]
    assert secs(store.between("feed_a", None, None)) == [0, 10]
    assert store.count("feed_a") == 2
    assert store.last_date("feed_a") == at(20)
    assert store.last_date("feed_a", markers=False) == at(10)


def test_data_loads_bytes_lazily_once(store) -> None:
    fill(store, seconds=(0,))
    data = store.latest("feed_a")
    assert data._content is None
    assert data.json() == {"s": 0}
    # The bytes are cached: reading again does not need the blob any more.
    store.blobs.delete(data.location)
    assert data.text() == '{"s": 0}'
    with pytest.raises(DataspaceError, match="is missing"):
        store.latest("feed_a").content


@pytest.mark.parametrize(
    ("content_type", "payload", "decoded"),
    [
        ("application/json", b'{"a": 1}', {"a": 1}),
        ("text/plain; charset=utf-8", "é".encode(), "é"),
        ("application/octet-stream", b"\x00", b"\x00"),
    ],
)
def test_data_decodes_by_content_type(sqlite_store, content_type, payload, decoded) -> None:
    sqlite_store.write("feed_a", payload, date=at(0), content_type=content_type)
    assert sqlite_store.latest("feed_a").data == decoded


# ---------------------------------------------------------------- added by the mutation review


def test_write_returns_utc_dates(sqlite_store) -> None:
    # The returned Data (not only what is read back) carries the UTC date, aware even for a naive input.
    brussels = timezone(timedelta(hours=2))
    aware = sqlite_store.write("feed_a", b"x", date=datetime(2026, 6, 1, 14, 0, tzinfo=brussels))
    naive = sqlite_store.write("feed_a", b"y", date=datetime(2026, 6, 1, 15, 0))
    assert (aware.date.tzinfo, aware.date) == (UTC, datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    assert (naive.date.tzinfo, naive.date) == (UTC, datetime(2026, 6, 1, 15, 0, tzinfo=UTC))


def test_write_without_date_is_dated_now(sqlite_store) -> None:
    before = datetime.now(UTC)
    data = sqlite_store.write("feed_a", b"x")
    after = datetime.now(UTC)
    assert before <= data.date <= after
    assert before - timedelta(seconds=1) <= sqlite_store.latest("feed_a").date <= after + timedelta(seconds=1)


@pytest.mark.parametrize("payload", ["text", {"a": 1}, bytearray(b"ba")])
def test_write_refuses_non_bytes_before_anything_is_written(sqlite_store, payload) -> None:
    with pytest.raises(UnsupportedPayload, match=f"^payload must be bytes, not {type(payload).__name__}$"):
        sqlite_store.write("feed_a", payload)
    assert sqlite_store.blobs.keys() == []
    assert sqlite_store.count("feed_a") == 0


@pytest.mark.parametrize(
    ("content_type", "payload", "decoded"),
    [
        ("application/geo+json", b'{"type": "Point"}', {"type": "Point"}),
        ("Application/JSON; charset=utf-8", b"[1]", [1]),
        ("text/csv", b"a,b", "a,b"),
    ],
)
def test_data_decodes_json_suffixes_and_any_text(sqlite_store, content_type, payload, decoded) -> None:
    sqlite_store.write("feed_a", payload, date=at(0), content_type=content_type)
    assert sqlite_store.latest("feed_a").data == decoded


def test_from_settings_is_local_without_azure(tmp_settings) -> None:
    store = DataStore.from_settings(tmp_settings)
    assert isinstance(store.blobs, LocalBlobStore)
    assert store.blobs.root == tmp_settings.blobs_dir
    store.close()
