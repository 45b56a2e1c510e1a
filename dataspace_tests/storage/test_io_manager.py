"""DataspaceIOManager: a plain @dg.asset's result becomes a data space item; downstream gets it back as Data."""

from __future__ import annotations

import dagster as dg
import pytest

from dataspace_assets.storage.io_manager import IO_MANAGER_KEY, DataspaceIOManager, item_name
from dataspace_assets.storage.reader import DataReader
from dataspace_assets.storage.resources import DataspaceStore
from dataspace_assets.storage.store import DataStore


@dg.asset(io_manager_key=IO_MANAGER_KEY, key_prefix=["weather"])
def daily() -> dict:
    return {"temperature": 12.5, "city": "Liège"}


@dg.asset(io_manager_key=IO_MANAGER_KEY, ins={"daily": dg.AssetIn(key=["weather", "daily"])})
def summary(daily) -> str:
    # The upstream item comes back as a data space `Data`.
    return f"{daily.json()['city']}: {daily.json()['temperature']} ({daily.content_type})"


@dg.asset(io_manager_key=IO_MANAGER_KEY)
def raw() -> bytes:
    return b"\x00\xff"


@dg.asset(io_manager_key=IO_MANAGER_KEY, metadata={"dataspace/content_type": "application/geo+json"})
def shapes() -> dict:
    return {"type": "FeatureCollection", "features": []}


@dg.asset(io_manager_key=IO_MANAGER_KEY)
def nothing() -> None:
    return None


@dg.asset(io_manager_key=IO_MANAGER_KEY)
def wrong() -> int:
    return 3


@pytest.fixture
def resources(tmp_settings):
    store = DataspaceStore.from_settings(tmp_settings)
    return {"dataspace_store": store, IO_MANAGER_KEY: DataspaceIOManager(store=store)}


def test_results_are_stored_as_items_and_loaded_back_as_data(resources, tmp_settings, dagster_instance) -> None:
    result = dg.materialize([daily, summary, raw, shapes, nothing], resources=resources, instance=dagster_instance)
    assert result.success
    store = DataStore.from_settings(tmp_settings)
    try:
        reader = DataReader(store)
        weather = reader.latest("weather_daily")
        assert weather.json() == {"temperature": 12.5, "city": "Liège"}
        assert weather.content_type == "application/json"
        text = reader.latest("summary")
        assert text.text() == "Liège: 12.5 (application/json)"
        assert text.content_type == "text/plain; charset=utf-8"
        assert reader.latest("raw").content == b"\x00\xff"
        assert reader.latest("shapes").content_type == "application/geo+json"
        assert store.count("nothing") == 0
        metadata = result.asset_materializations_for_node("weather__daily")[0].metadata
        assert metadata["dataspace/item_id"].value == weather.id
        assert metadata["dagster/uri"].value == weather.location
    finally:
        store.close()


def test_an_unsupported_result_fails_with_a_clear_message(resources, dagster_instance) -> None:
    result = dg.materialize([wrong], resources=resources, instance=dagster_instance, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "asset wrong returned a builtins.int" in failure.description


def test_a_missing_upstream_item_fails_the_downstream_step(resources, dagster_instance) -> None:
    result = dg.materialize([daily, summary], resources=resources, instance=dagster_instance, raise_on_error=False,
                            selection=[summary.key])
    assert not result.success


def test_item_names_join_the_key() -> None:
    assert item_name(dg.AssetKey(["weather", "daily"])) == "weather_daily"
