"""The Dagster resource that gives assets the data space store."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from dataspace_assets.settings import Settings
from dataspace_assets.storage.blobs import AzureBlobStore, BlobStore, LocalBlobStore
from dataspace_assets.storage.database import create_engine
from dataspace_assets.storage.store import DataStore


class DataspaceStore(dg.ConfigurableResource):
    """Blobs (local folder or Azure Blob container) plus the SQL index of every stored item."""

    database_url: str
    blobs_dir: str
    azure_connection_string: str | None = None
    azure_account_url: str | None = None  # production: account URL plus key, SAS token or managed identity
    azure_account_name: str | None = None
    azure_account_key: str | None = None
    azure_sas_token: str | None = None
    azure_container: str = "dataspace"

    _store: DataStore | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> DataspaceStore:
        """Local blobs by default; Azure when the settings carry a connection string."""
        return cls(
            database_url=settings.database_url,
            blobs_dir=str(settings.blobs_dir),
            azure_connection_string=settings.azure_connection_string,
            azure_container=settings.azure_container,
        )

    def _credential(self) -> Any:
        if self.azure_account_key:
            return {"account_name": self.azure_account_name, "account_key": self.azure_account_key}
        return self.azure_sas_token  # None: DefaultAzureCredential (managed identity, az login, ...)

    def _blobs(self) -> BlobStore:
        if self.azure_connection_string or self.azure_account_url:
            return AzureBlobStore(
                self.azure_container,
                connection_string=self.azure_connection_string,
                account_url=self.azure_account_url,
                credential=self._credential(),
            )
        return LocalBlobStore(self.blobs_dir)

    def get_store(self) -> DataStore:
        """The store, opened on first use (so loading definitions touches no database or blob service)."""
        if self._store is None:
            self._store = DataStore(self._blobs(), create_engine(self.database_url))
        return self._store

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
