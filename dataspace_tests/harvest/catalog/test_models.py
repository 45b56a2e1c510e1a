"""The catalogue schema: versioned migrations from an empty database, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from dataspace_assets.harvest.catalog import SCHEMA_VERSION, Catalog, upgrade
from dataspace_assets.harvest.catalog import models as m
from dataspace_assets.storage.database import create_engine

TABLES = {
    "harvest_schema_version", "licenses", "harvest_sources", "harvest_jobs", "harvest_items", "contact_points",
    "datasets", "resources", "dataset_contact_points", "dataservices", "dataservice_contact_points",
    "dataservice_datasets", "harvest_source_locks", "harvest_launch_requests",
}


def _check_upgrade(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        assert m.current_version(conn) == 0
    assert upgrade(engine, target=1) == 1
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("harvest_items")}
    assert "ix_harvest_items_job_status" not in indexes
    assert upgrade(engine) == SCHEMA_VERSION == 4
    assert TABLES <= set(sa.inspect(engine).get_table_names())
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("harvest_items")}
    assert "ix_harvest_items_job_status" in indexes
    assert upgrade(engine) == SCHEMA_VERSION  # idempotent: nothing applied twice
    with engine.connect() as conn:
        versions = conn.execute(sa.select(m.schema_version.c.version).order_by(m.schema_version.c.version)).scalars()
        assert list(versions) == [1, 2, 3, 4]
    engine.dispose()


def test_upgrade_from_empty_sqlite(tmp_path: Path) -> None:
    _check_upgrade(f"sqlite:///{tmp_path / 'c.db'}")


@pytest.mark.services
def test_upgrade_from_empty_postgresql(pg_url: str) -> None:
    _check_upgrade(pg_url)


def test_open_migrates_and_seeds_licences(tmp_path: Path) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'c.db'}")
    assert catalog.schema_version() == SCHEMA_VERSION
    from dataspace_assets.harvest.licenses import SEED_LICENSES  # no skip: a missing registry is a failure

    assert catalog.count("licenses") == len(SEED_LICENSES)
    assert catalog.seed_licenses() == 0  # re-opening adds nothing
    registry = catalog.license_registry()
    assert registry.get(SEED_LICENSES[0].id).title == SEED_LICENSES[0].title


def test_datetimes_come_back_timezone_aware(tmp_path: Path) -> None:
    from datetime import datetime

    catalog = Catalog.open(f"sqlite:///{tmp_path / 'c.db'}")
    from dataspace_assets.harvest.catalog import HarvestSource

    source = catalog.insert_source(
        HarvestSource(id="a" * 32, slug="", name="Naive", url="http://x.test/", backend="factory", domain="x.test",
                      validation_on=datetime(2024, 1, 2, 3, 4, 5))
    )
    stored = catalog.get_source(source.id)
    assert stored.validation_on.isoformat() == "2024-01-02T03:04:05+00:00"
    assert stored.created_at.tzinfo is not None


def _insert_dataset(conn: sa.Connection, id_: str, remote: str | None, created: str, deleted: str | None = None) -> None:
    from datetime import datetime

    conn.execute(
        m.datasets.insert().values(
            id=id_, slug=id_, title=id_, harvest_source_id="s" * 32, harvest_remote_id=remote, harvest={"remote_id": remote},
            created_at=datetime.fromisoformat(created), last_modified=datetime.fromisoformat(created),
            deleted=datetime.fromisoformat(deleted) if deleted else None,
        )
    )


def _check_duplicates_are_set_aside(url: str, caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine(url)
    upgrade(engine, target=2)
    with engine.begin() as conn:
        _insert_dataset(conn, "old-deleted", "r1", "2024-01-01", deleted="2024-01-05")
        _insert_dataset(conn, "kept", "r1", "2024-01-02")
        _insert_dataset(conn, "dupe", "r1", "2024-01-03")
        _insert_dataset(conn, "alone", "r2", "2024-01-01")
        _insert_dataset(conn, "unharvested", None, "2024-01-01")
        _insert_dataset(conn, "unharvested-too", None, "2024-01-01")
    with caplog.at_level("WARNING", logger="dataspace_assets.harvest"):
        assert upgrade(engine) == 4
    [report] = [r.getMessage() for r in caplog.records if "migration 3" in r.getMessage()]
    assert report == (
        f"harvest catalogue migration 3: datasets: source {'s' * 32}, remote id 'r1': kept kept, "
        "deleted the duplicate(s) dupe, old-deleted"
    )
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(m.datasets))}
    assert rows["kept"].harvest_remote_id == "r1" and rows["kept"].deleted is None
    assert rows["dupe"].harvest_remote_id is None and rows["dupe"].deleted is not None  # kept, set aside
    assert rows["dupe"].harvest["duplicate_of"] == "kept"
    assert rows["alone"].harvest_remote_id == "r2"
    # the database now refuses a second record for one (source, remote id)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        _insert_dataset(conn, "again", "r1", "2024-02-01")
    engine.dispose()


def test_migration_3_sets_duplicates_aside_sqlite(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _check_duplicates_are_set_aside(f"sqlite:///{tmp_path / 'c.db'}", caplog)


@pytest.mark.services
def test_migration_3_sets_duplicates_aside_postgresql(pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    _check_duplicates_are_set_aside(pg_url, caplog)
