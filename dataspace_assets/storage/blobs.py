"""Blob stores: where the bytes of every stored item live (a local folder or an Azure Blob container).

A blob is addressed by a *key* (`<name>/<YYYY-MM-DD_HH-MM-SS>-<suffix>`) when written and by the
*location* the store returns (a `file://` or `https://` URI) ever after; the SQL index keeps the location.
"""

from __future__ import annotations

import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from dataspace_assets.errors import DataspaceError


def blob_key(name: str, date: datetime) -> str:
    """The key of a new blob of component `name` dated `date` (UTC).

    The random suffix keeps two writes in the same second apart: the original overwrote one blob.
    """
    stamp = date.astimezone(UTC).strftime("%Y-%m-%d_%H-%M-%S")
    return f"{name}/{stamp}-{secrets.token_hex(4)}"


CHUNK_SIZE = 1 << 20  # bytes per chunk a download yields


@dataclass
class Download:
    """Part of a blob being read: its total size, the range served and the bytes, a chunk at a time."""

    size: int  # the whole blob
    start: int  # first byte served
    length: int  # bytes served
    chunks: Iterator[bytes]
    close: Callable[[], None] = field(default=lambda: None)  # for a download not read to its end


def clamp(size: int, offset: int, length: int | None) -> tuple[int, int]:
    """(start, length) of a requested range inside a blob of `size` bytes."""
    start = min(max(offset, 0), size)
    end = size if length is None else min(size, start + max(length, 0))
    return start, end - start


class BlobStore(ABC):
    """Write, read and delete blobs by location."""

    @abstractmethod
    def write(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under a new key and return its location; never overwrite an existing blob."""

    @abstractmethod
    def read(self, location: str) -> bytes:
        """The bytes stored at `location` (raises `DataspaceError` when missing)."""

    @abstractmethod
    def delete(self, location: str) -> None:
        """Remove the blob at `location` if it exists."""

    @abstractmethod
    def exists(self, location: str) -> bool:
        """Whether a blob is stored at `location`."""

    @abstractmethod
    def keys(self, prefix: str = "") -> list[str]:
        """Every key starting with `prefix`, sorted (used by checks and tests)."""

    def location(self, key: str) -> str:
        """The location `write` returned (or would return) for `key`."""
        raise NotImplementedError

    def download(self, location: str, offset: int = 0, length: int | None = None) -> Download:
        """The bytes [offset, offset + length) of a blob, streamed (raises `DataspaceError` when missing).

        The blob is found before this returns, so a server can answer 404 before it starts a response.
        """
        data = self.read(location)
        start, size = clamp(len(data), offset, length)
        return Download(len(data), start, size, iter([data[start : start + size]]))

    def listing(self, prefix: str = "") -> list[tuple[str, datetime]]:
        """Every (key, last modified in UTC) starting with `prefix`, sorted by key (the storage check)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release clients; the default store holds none."""


class LocalBlobStore(BlobStore):
    """Blobs as files under one folder (the embedded default: `.dataspace/blobs`)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    def _path(self, location: str) -> Path:
        path = Path(unquote(urlparse(location).path)) if location.startswith("file://") else Path(location)
        if not path.is_absolute():
            path = self.root / path
        return path

    def write(self, key: str, data: bytes, content_type: str) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # "x" refuses to overwrite: a key collision must fail, not corrupt another item.
            with open(path, "xb") as handle:
                handle.write(data)
        except FileExistsError as exc:
            raise DataspaceError(f"blob {path} already exists") from exc
        return path.as_uri()

    def read(self, location: str) -> bytes:
        # The common case, a location this store wrote, skips URL parsing: readers call this per item.
        path = unquote(location[7:]) if location.startswith("file:///") else self._path(location)
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError as exc:
            raise DataspaceError(f"blob {location} is missing") from exc

    def download(self, location: str, offset: int = 0, length: int | None = None) -> Download:
        path = self._path(location).resolve()
        if not path.is_relative_to(self.root):  # a location is ours only inside our folder
            raise DataspaceError(f"blob {location} is not in {self.root}")
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed by the generator)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise DataspaceError(f"blob {location} is missing") from exc
        total = os.fstat(handle.fileno()).st_size
        start, size = clamp(total, offset, length)

        def chunks() -> Iterator[bytes]:
            with handle:
                handle.seek(start)
                left = size
                while left > 0:
                    chunk = handle.read(min(CHUNK_SIZE, left))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk

        return Download(total, start, size, chunks(), handle.close)

    def delete(self, location: str) -> None:
        self._path(location).unlink(missing_ok=True)

    def exists(self, location: str) -> bool:
        return self._path(location).is_file()

    def keys(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        found = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return sorted(k for k in found if k.startswith(prefix))

    def location(self, key: str) -> str:
        return (self.root / key).as_uri()

    def listing(self, prefix: str = "") -> list[tuple[str, datetime]]:
        out = []
        for key in self.keys(prefix):
            try:
                modified = datetime.fromtimestamp((self.root / key).stat().st_mtime, UTC)
            except FileNotFoundError:  # deleted while we listed: not there any more
                continue
            out.append((key, modified))
        return out


class AzureBlobStore(BlobStore):
    """Blobs in one Azure Blob Storage container (Azurite in development and tests).

    Connect with a connection string (Azurite, development) or an account URL plus a credential (a SAS
    token, an `{"account_name", "account_key"}` dict, or None for `DefaultAzureCredential` in production).
    """

    def __init__(
        self,
        container: str,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: Any = None,
    ) -> None:
        # Imported here: the Azure SDK is slow to import and only deployments on Azure need it.
        from azure.storage.blob import BlobServiceClient

        if connection_string:
            self.service = BlobServiceClient.from_connection_string(connection_string)
        elif account_url:
            if credential is None:
                from azure.identity import DefaultAzureCredential

                self.service = BlobServiceClient(account_url, credential=DefaultAzureCredential())
            else:
                self.service = BlobServiceClient(account_url, credential=credential)
        else:
            raise DataspaceError("Azure blob store: set a connection string or an account URL")
        self.container_name = container
        self.container = self.service.get_container_client(container)
        self._container_checked = False

    def _ensure_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        if self._container_checked:
            return
        try:
            self.container.create_container()
        except ResourceExistsError:
            pass
        self._container_checked = True

    def _name(self, location: str) -> str:
        """The blob name inside our container from a stored URL (or a bare key)."""
        if "://" not in location:
            return location
        path = unquote(urlparse(location).path)
        marker = f"/{self.container_name}/"
        if marker not in path:
            raise DataspaceError(f"blob {location} is not in container {self.container_name}")
        return path.split(marker, 1)[1]

    def write(self, key: str, data: bytes, content_type: str) -> str:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        self._ensure_container()
        blob = self.container.get_blob_client(key)
        try:
            blob.upload_blob(data, overwrite=False, content_settings=ContentSettings(content_type=content_type))
        except ResourceExistsError as exc:
            raise DataspaceError(f"blob {blob.url} already exists") from exc
        return f"{self.container.url}/{quote(key)}"

    def read(self, location: str) -> bytes:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.container.download_blob(self._name(location)).readall()
        except ResourceNotFoundError as exc:
            raise DataspaceError(f"blob {location} is missing") from exc

    def download(self, location: str, offset: int = 0, length: int | None = None) -> Download:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        name = self._name(location)
        try:
            total = self.container.get_blob_client(name).get_blob_properties().size
            start, size = clamp(total, offset, length)
            if size == 0:
                return Download(total, start, 0, iter(()))
            # The first request is made now (a missing blob fails here); the rest streams as it is read.
            stream = self.container.download_blob(name, offset=start, length=size)
        except ResourceNotFoundError as exc:
            raise DataspaceError(f"blob {location} is missing") from exc
        except HttpResponseError as exc:
            raise DataspaceError(f"blob {location}: {exc.reason or exc.status_code}") from exc
        return Download(total, start, size, iter(stream.chunks()))

    def delete(self, location: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.container.delete_blob(self._name(location))
        except ResourceNotFoundError:
            pass

    def exists(self, location: str) -> bool:
        return self.container.get_blob_client(self._name(location)).exists()

    def keys(self, prefix: str = "") -> list[str]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return sorted(b.name for b in self.container.list_blobs(name_starts_with=prefix or None))
        except ResourceNotFoundError:
            return []

    def location(self, key: str) -> str:
        return f"{self.container.url}/{quote(key)}"

    def listing(self, prefix: str = "") -> list[tuple[str, datetime]]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            blobs = list(self.container.list_blobs(name_starts_with=prefix or None))
        except ResourceNotFoundError:
            return []
        return sorted((b.name, b.last_modified.astimezone(UTC)) for b in blobs)

    def close(self) -> None:
        self.service.close()

