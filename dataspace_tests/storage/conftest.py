"""Stores on real backends: SQLite and PostgreSQL indexes, local and Azurite blobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataspace_assets.storage.blobs import LocalBlobStore
from dataspace_assets.storage.database import create_engine
from dataspace_assets.storage.store import DataStore


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The index on SQLite, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(database_url: str, tmp_path: Path):
    data_store = DataStore(LocalBlobStore(tmp_path / "blobs"), create_engine(database_url))
    yield data_store
    data_store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path):
    data_store = DataStore(LocalBlobStore(tmp_path / "blobs"), create_engine(f"sqlite:///{tmp_path / 'index.db'}"))
    yield data_store
    data_store.close()
