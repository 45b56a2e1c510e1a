"""Component table names and their per-table index names."""

from __future__ import annotations

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.index import check_name, index_name


@pytest.mark.parametrize("name", ["stib_gtfs", "a_b1", "_x", "A" * 63])
def test_valid_names(name) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a.b", "a b", "é_x", "A" * 64])
def test_invalid_names(name) -> None:
    with pytest.raises(DataspaceError, match="invalid component name"):
        check_name(name)


def test_index_names_are_per_table_and_fit_postgres() -> None:
    assert index_name("stib_gtfs") == "ix_stib_gtfs_date"
    long_a, long_b = "a" * 60 + "_x", "a" * 60 + "_y"
    assert index_name(long_a) != index_name(long_b)
    assert len(index_name(long_a)) <= 63


def test_a_table_of_an_older_release_gets_the_harvester_columns(tmp_path) -> None:
    import sqlalchemy as sa

    from dataspace_assets.storage.blobs import LocalBlobStore
    from dataspace_assets.storage.database import create_engine
    from dataspace_assets.storage.store import DataStore, harvester_cursor

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:  # the table as the previous release created it
        conn.execute(sa.text(
            "CREATE TABLE feed (id INTEGER PRIMARY KEY, date DATETIME NOT NULL, location VARCHAR(1024), "
            "content_type VARCHAR(255), hash VARCHAR(32), size BIGINT)"
        ))
        conn.execute(sa.text("INSERT INTO feed (date, location) VALUES ('2026-01-01 00:00:00', 'file:///x')"))
    store = DataStore(LocalBlobStore(tmp_path / "blobs"), engine)
    cursor = harvester_cursor(store, "feed")
    assert cursor.source_id is None and cursor.window_key is None
    columns = {c["name"] for c in sa.inspect(engine).get_columns("feed")}
    assert {"window_key", "source_id", "note"} <= columns
    assert "ix_feed_window" in {i["name"] for i in sa.inspect(engine).get_indexes("feed")}
    store.close()
