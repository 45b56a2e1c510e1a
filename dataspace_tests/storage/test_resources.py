"""The Dagster resource over the store."""

from __future__ import annotations

import dagster as dg

from dataspace_assets.storage.resources import DataspaceStore


def test_from_settings_is_local_and_lazy(tmp_settings) -> None:
    resource = DataspaceStore.from_settings(tmp_settings)
    assert resource.azure_connection_string is None
    assert not tmp_settings.home.exists()  # nothing opened yet
    store = resource.get_store()
    item = store.write("feed_a", b"x")
    assert item.location.startswith(tmp_settings.blobs_dir.as_uri())
    assert store.count("feed_a") == 1
    store.close()


def test_usable_in_an_asset(tmp_settings, dagster_instance) -> None:
    @dg.asset
    def writer(dataspace_store: DataspaceStore) -> None:
        dataspace_store.get_store().write("feed_a", b"from an asset")

    result = dg.materialize(
        [writer], instance=dagster_instance, resources={"dataspace_store": DataspaceStore.from_settings(tmp_settings)}
    )
    assert result.success
    store = DataspaceStore.from_settings(tmp_settings).get_store()
    assert store.latest("feed_a").content == b"from an asset"
    store.close()
