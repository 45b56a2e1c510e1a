"""The read-only reader on SQLite and PostgreSQL: the prepared latest-before query, cursors, no writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.blobs import LocalBlobStore
from dataspace_assets.storage.reader import BlobCache, DataReader, read_only_engine
from dataspace_assets.storage.store import DataStore

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def pair(database_url, tmp_path):
    from dataspace_assets.storage.database import create_engine

    store = DataStore(LocalBlobStore(tmp_path / "blobs"), create_engine(database_url))
    read_only = DataStore(LocalBlobStore(tmp_path / "blobs"), read_only_engine(database_url))
    yield store, read_only
    store.close()
    read_only.close()


def test_latest_before_and_cursor_reads(pair) -> None:
    store, read_only = pair
    for i in range(3):
        store.write("feed", str(i).encode(), date=T0 + timedelta(minutes=i))
    store.write("feed", b"tie", date=T0 + timedelta(minutes=2))
    store.write_marker("feed", T0 + timedelta(minutes=5))
    reader = DataReader(read_only, ["feed"], blob_cache=BlobCache(read_only.blobs.read))
    assert reader.latest_before("feed", T0 + timedelta(minutes=10)).content == b"tie"  # markers are invisible
    assert reader.latest_before("feed", T0 + timedelta(minutes=2)).content == b"1"
    assert reader.latest_before("feed", datetime(2026, 5, 1, 8, 1)).content == b"0"  # naive = UTC
    assert reader.latest_before("feed", T0) is None
    assert reader.latest_before("feed", T0 + timedelta(minutes=2)).date == T0 + timedelta(minutes=1)
    first_tie = reader.items_after("feed", T0 + timedelta(minutes=1), 2, limit=1)[0]
    assert first_tie.content == b"2"
    assert [d.content for d in reader.items_after("feed", first_tie.date, int(first_tie.id))] == [b"tie"]
    assert reader.newest_cursor("feed")[0] == T0 + timedelta(minutes=2)
    with pytest.raises(DataspaceError, match="component 'other' is not readable here"):
        reader.latest("other")


def test_read_only_connections_refuse_writes(pair) -> None:
    store, read_only = pair
    store.write("feed", b"x", date=T0)
    with pytest.raises(DataspaceError, match="could not index"):
        read_only.write("feed", b"forged", date=T0)
    with pytest.raises(sa.exc.DBAPIError), read_only.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM feed"))
    assert store.count("feed") == 1
