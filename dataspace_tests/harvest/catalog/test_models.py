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
    "dataservice_datasets",
}


def _check_upgrade(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        assert m.current_version(conn) == 0
    assert upgrade(engine, target=1) == 1
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("harvest_items")}
    assert "ix_harvest_items_job_status" not in indexes
    assert upgrade(engine) == SCHEMA_VERSION == 2
    assert TABLES <= set(sa.inspect(engine).get_table_names())
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("harvest_items")}
    assert "ix_harvest_items_job_status" in indexes
    assert upgrade(engine) == SCHEMA_VERSION  # idempotent: nothing applied twice
    with engine.connect() as conn:
        versions = conn.execute(sa.select(m.schema_version.c.version).order_by(m.schema_version.c.version)).scalars()
        assert list(versions) == [1, 2]
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
