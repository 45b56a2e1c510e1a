"""The Dagster resource that gives assets the data space store."""

from __future__ import annotations

import os
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
        """Local blobs by default; Azure when the settings carry a connection string.

        A secret that came from the environment is handed over as `dg.EnvVar`, so the UI, GraphQL and run
        config show the variable's name, never its value (the run resolves it when the resource starts).
        """
        return cls(
            database_url=_from_env("DATASPACE_DATABASE_URL", settings.database_url),
            blobs_dir=str(settings.blobs_dir),
            azure_connection_string=_from_env("DATASPACE_AZURE_CONNECTION_STRING", settings.azure_connection_string),
            azure_container=settings.azure_container,
        )

    def _credential(self) -> Any:
        if self.azure_account_key:
            return {"account_name": _value(self.azure_account_name), "account_key": _value(self.azure_account_key)}
        return _value(self.azure_sas_token)  # None: DefaultAzureCredential (managed identity, az login, ...)

    def _blobs(self) -> BlobStore:
        if self.azure_connection_string or self.azure_account_url:
            return AzureBlobStore(
                self.azure_container,
                connection_string=_value(self.azure_connection_string),
                account_url=_value(self.azure_account_url),
                credential=self._credential(),
            )
        return LocalBlobStore(self.blobs_dir)

    def get_store(self) -> DataStore:
        """The store, opened on first use (so loading definitions touches no database or blob service)."""
        if self._store is None:
            self._store = DataStore(self._blobs(), create_engine(_value(self.database_url)))
        return self._store

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _from_env(variable: str, value: str | None) -> str | dg.EnvVar | None:
    """The value as a reference to its environment variable when it came from there, else as it is."""
    if value is not None and os.environ.get(variable) == value:
        return dg.EnvVar(variable)
    return value


def _value(field: str | None) -> str | None:
    """A field's real value: Dagster resolves `dg.EnvVar` in runs; a resource used directly resolves it here."""
    if isinstance(field, dg.EnvVar):
        return field.get_value()
    return field
