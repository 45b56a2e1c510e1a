"""The Azure Blob backend against Azurite, alone and under the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.blobs import AzureBlobStore
from dataspace_assets.storage.database import create_engine
from dataspace_assets.storage.resources import DataspaceStore
from dataspace_assets.storage.store import DataStore

pytestmark = pytest.mark.services


def test_write_read_delete(azurite) -> None:
    container = azurite.new_container()
    blobs = AzureBlobStore(container, connection_string=azurite.connection_string)
    location = blobs.write("a_b/2026-01-01_00-00-00-0000abcd", b"\x00\x01bytes", "application/octet-stream")
    assert location == f"{azurite.account_url}/{container}/a_b/2026-01-01_00-00-00-0000abcd"
    assert blobs.read(location) == b"\x00\x01bytes"
    assert blobs.keys("a_b/") == ["a_b/2026-01-01_00-00-00-0000abcd"]
    blobs.delete(location)
    assert not blobs.exists(location)
    with pytest.raises(DataspaceError, match="is missing"):
        blobs.read(location)
    blobs.close()


def test_creates_missing_container_and_refuses_overwrite(azurite) -> None:
    blobs = AzureBlobStore(f"fresh-{uuid.uuid4().hex[:12]}", connection_string=azurite.connection_string)
    blobs.write("a_b/k", b"one", "text/plain")
    with pytest.raises(DataspaceError, match="already exists"):
        blobs.write("a_b/k", b"two", "text/plain")
    assert blobs.read("a_b/k") == b"one"
    blobs.close()


def test_account_url_and_key_credential(azurite) -> None:
    container = azurite.new_container()
    blobs = AzureBlobStore(
        container,
        account_url=azurite.account_url,
        credential={"account_name": azurite.account_name, "account_key": azurite.account_key},
    )
    location = blobs.write("a_b/k", b"prod-style", "text/plain")
    assert blobs.read(location) == b"prod-style"
    blobs.close()


def test_store_on_azure_same_second(azurite, tmp_path) -> None:
    container = azurite.new_container()
    store = DataStore(
        AzureBlobStore(container, connection_string=azurite.connection_string),
        create_engine(f"sqlite:///{tmp_path / 'index.db'}"),
    )
    moment = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    first = store.write("a_b", b"one", date=moment)
    second = store.write("a_b", b"two", date=moment)
    assert first.location != second.location
    assert [d.content for d in store.between("a_b", None, None)] == [b"one", b"two"]
    assert len(store.blobs.keys("a_b/")) == 2
    store.close()


def test_resource_picks_azure_from_connection_string(azurite, tmp_path) -> None:
    container = azurite.new_container()
    resource = DataspaceStore(
        database_url=f"sqlite:///{tmp_path / 'index.db'}",
        blobs_dir=str(tmp_path / "unused"),
        azure_connection_string=azurite.connection_string,
        azure_container=container,
    )
    store = resource.get_store()
    data = store.write("a_b", b"via resource")
    assert data.location.startswith(f"{azurite.account_url}/{container}/")
    assert not (tmp_path / "unused").exists()
    store.close()


def test_resource_with_account_url_and_key(azurite, tmp_path) -> None:
    container = azurite.new_container()
    resource = DataspaceStore(
        database_url=f"sqlite:///{tmp_path / 'index.db'}",
        blobs_dir=str(tmp_path / "unused"),
        azure_account_url=azurite.account_url,
        azure_account_name=azurite.account_name,
        azure_account_key=azurite.account_key,
        azure_container=container,
    )
    store = resource.get_store()
    data = store.write("a_b", b"with key")
    assert store.latest("a_b").content == b"with key" and data.location.startswith(azurite.account_url)
    store.close()


def test_store_from_settings_uses_azure_with_a_connection_string(azurite, tmp_settings) -> None:
    import dataclasses

    container = azurite.new_container()
    settings = dataclasses.replace(
        tmp_settings, azure_connection_string=azurite.connection_string, azure_container=container
    )
    store = DataStore.from_settings(settings)
    data = store.write("a_b", b"on azure")
    assert isinstance(store.blobs, AzureBlobStore)
    assert data.location.startswith(f"{azurite.account_url}/{container}/a_b/")
    assert store.latest("a_b").content == b"on azure"
    assert not settings.blobs_dir.exists()
    store.close()


def test_missing_blobs_and_containers_are_quiet(azurite) -> None:
    blobs = AzureBlobStore(f"absent-{uuid.uuid4().hex[:12]}", connection_string=azurite.connection_string)
    # A container nobody wrote to yet: no keys, and deleting is a no-op.
    assert blobs.keys() == []
    blobs.write("a_b/kept", b"kept", "text/plain")
    blobs.delete(f"{blobs.container.url}/a_b/gone")
    blobs.delete("a_b/also-gone")
    assert blobs.keys() == ["a_b/kept"]
    blobs.close()


def test_location_in_another_container_is_refused(azurite) -> None:
    container, other = azurite.new_container(), azurite.new_container()
    blobs = AzureBlobStore(container, connection_string=azurite.connection_string)
    foreign = f"{azurite.account_url}/{other}/a_b/k"
    with pytest.raises(DataspaceError, match=f"^blob {foreign} is not in container {container}$"):
        blobs.read(foreign)
    blobs.close()


def test_container_is_created_once_per_store(azurite) -> None:
    blobs = AzureBlobStore(f"once-{uuid.uuid4().hex[:12]}", connection_string=azurite.connection_string)
    calls = []
    create = blobs.container.create_container
    blobs.container.create_container = lambda *a, **k: calls.append(1) or create(*a, **k)
    for i in range(3):
        blobs.write(f"a_b/{i}", b"x", "text/plain")
    assert calls == [1] and blobs.keys("a_b/") == ["a_b/0", "a_b/1", "a_b/2"]
    blobs.close()


def test_orphan_blobs_are_found_and_repaired_on_azure(azurite, tmp_path) -> None:
    from dataspace_assets.dataspace.storage_check import check_storage
    from datetime import timedelta

    container = azurite.new_container()
    blobs = AzureBlobStore(container, connection_string=azurite.connection_string)
    store = DataStore(blobs, create_engine(f"sqlite:///{tmp_path / 'index.db'}"))
    kept = store.write("a_feed", b"{}", date=datetime(2026, 1, 1, tzinfo=UTC))
    orphan = blobs.write("a_feed/2026-01-01_00-00-01-deadbeef", b"lost", "application/json")
    assert blobs.location("a_feed/2026-01-01_00-00-01-deadbeef") == orphan
    assert [key for key, _ in blobs.listing("a_feed/")] == sorted([kept.location.split(f"/{container}/")[1],
                                                                   "a_feed/2026-01-01_00-00-01-deadbeef"])
    young = check_storage(store)
    assert young.orphans == [] and young.young == 1  # just written: a write may be in progress
    report = check_storage(store, repair=True, min_age=timedelta(0))
    assert report.orphans == ["a_feed/2026-01-01_00-00-01-deadbeef"] and report.removed == 1
    assert not blobs.exists(orphan) and blobs.exists(kept.location)
    store.close()


def test_download_streams_a_blob_or_a_byte_range(azurite) -> None:
    blobs = AzureBlobStore(azurite.new_container(), connection_string=azurite.connection_string)
    payload = bytes(range(256)) * 64
    location = blobs.write("a_b/k", payload, "application/octet-stream")
    whole = blobs.download(location)
    assert (whole.size, whole.length, b"".join(whole.chunks)) == (len(payload), len(payload), payload)
    part = blobs.download(location, 100, 50)
    assert (part.start, part.length, b"".join(part.chunks)) == (100, 50, payload[100:150])
    assert b"".join(blobs.download(location, len(payload) - 3, 10).chunks) == payload[-3:]
    assert blobs.download(location, len(payload)).length == 0
    with pytest.raises(DataspaceError, match="is missing"):
        blobs.download(location + "-gone")
    blobs.close()
