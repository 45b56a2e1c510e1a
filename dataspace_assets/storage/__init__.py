"""Storage shared by the pillars: blob stores (local, Azure), the SQL index, the reader API, Dagster resources."""

from dataspace_assets.storage.blobs import AzureBlobStore, BlobStore, LocalBlobStore, blob_key
from dataspace_assets.storage.store import CONTENT_TYPES, Data, DataStore, UnsupportedPayload, serialise

__all__ = [
    "CONTENT_TYPES",
    "AzureBlobStore",
    "BlobStore",
    "Data",
    "DataStore",
    "LocalBlobStore",
    "UnsupportedPayload",
    "blob_key",
    "serialise",
]
