"""`DataspaceIOManager`: any plain `@dg.asset` stores its str/bytes/dict/list result as a data space item.

The item is one blob plus one index row under the asset's name (the key's parts joined by `_`), exactly
like a collector's, so handlers and harvesters read it like any component. Downstream assets receive the
newest item back as a `Data` (`.json()`, `.text()`, `.content`, `.data`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from dataspace_assets.storage.index import check_name
from dataspace_assets.storage.resources import DataspaceStore
from dataspace_assets.storage.store import CONTENT_TYPES, Data, UnsupportedPayload, serialise

IO_MANAGER_KEY = "dataspace_io_manager"
CONTENT_TYPE_METADATA = "dataspace/content_type"  # asset metadata overriding the inferred content type


def item_name(key: dg.AssetKey) -> str:
    """The data space name of an asset: its key's parts joined by `_` (`weather/daily` -> `weather_daily`)."""
    return check_name("_".join(key.path))


def content_type_of(value: Any) -> str:
    """The stored MIME type of a result: JSON for dict/list, UTF-8 text for str, else binary."""
    if isinstance(value, dict | list):
        return CONTENT_TYPES["json"]
    if isinstance(value, str):
        return CONTENT_TYPES["text"]
    return CONTENT_TYPES["binary"]


class DataspaceIOManager(dg.ConfigurableIOManager):
    """Stores asset results in the data space (blob + index row) and loads them back as `Data`."""

    store: DataspaceStore

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        name = item_name(context.asset_key)
        if obj is None:
            context.log.info(f"{name}: the asset returned None, nothing stored")
            context.add_output_metadata({"dataspace/stored": False})
            return
        content_type = (context.definition_metadata or {}).get(CONTENT_TYPE_METADATA) or content_type_of(obj)
        try:
            payload = serialise(obj)
        except UnsupportedPayload as exc:
            raise dg.Failure(description=f"asset {name} {exc}", allow_retries=False) from exc
        data = self.store.get_store().write(name, payload, date=datetime.now(UTC), content_type=str(content_type))
        context.add_output_metadata(
            {
                "dataspace/stored": True,
                "dagster/uri": dg.MetadataValue.url(data.location),
                "dataspace/hash": data.hash,
                "dataspace/size": dg.MetadataValue.int(data.size),
                "dataspace/item_id": dg.MetadataValue.int(int(data.id)),
                "dataspace/content_type": data.content_type,
            }
        )

    def load_input(self, context: dg.InputContext) -> Data:
        name = item_name(context.asset_key)
        data = self.store.get_store().latest(name)
        if data is None:
            raise dg.Failure(description=f"asset {name} has no stored item in the data space yet", allow_retries=False)
        return data
