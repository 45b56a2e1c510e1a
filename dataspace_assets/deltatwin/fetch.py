"""Data inputs and resources made local: http(s) downloaded with the guarded client, local files used in place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from dataspace_assets import __version__
from dataspace_assets.deltatwin.values import DataFile
from dataspace_assets.errors import DataspaceError
from dataspace_assets.net.http import GuardedHttp, HttpError, HttpOptions

USER_AGENT = f"dataspace-deltatwin/{__version__}"
FALLBACK_NAME = "data"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


class FetchError(DataspaceError):
    """A Data value could not be made local (return code 211)."""


@dataclass(frozen=True)
class FetchOptions:
    """How a twin's Data values are fetched (the `[fetch]` table of its bindings.toml)."""

    allow_private_addresses: bool = False
    timeout: float = 30.0
    max_bytes: int = 1024 * 1024 * 1024
    retries: int = 1

    def http(self) -> GuardedHttp:
        return GuardedHttp(
            user_agent=USER_AGENT,
            options=HttpOptions(
                allow_private_addresses=self.allow_private_addresses,
                timeout=self.timeout,
                max_bytes=self.max_bytes,
                retries=self.retries,
            ),
        )


def safe_name(raw: str | None) -> str | None:
    """A file name reduced to its last path part, without control characters; None when nothing usable is left."""
    if not raw:
        return None
    name = _UNSAFE.sub("_", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if name in ("", ".", "..") or set(name) == {"."}:
        return None
    return name[:200]


def _disposition_name(header: str | None) -> str | None:
    if not header:
        return None
    message = Message()
    message["content-disposition"] = header
    return message.get_filename()


def fetch(url: str, folder: Path, *, twin_folder: Path, options: FetchOptions) -> DataFile:
    """The file a Data value names: downloaded into `folder` (http/https) or a local file used in place."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return _download(url, folder, options)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FetchError(f"{url}: not a local file URL")
        return _local(Path(url2pathname(unquote(parts.path))), url)
    if parts.scheme and len(parts.scheme) > 1:  # a one-letter "scheme" is a Windows drive, not a URL
        raise FetchError(f"{url}: unsupported URL scheme {parts.scheme!r} (http, https, file or a path)")
    path = Path(url).expanduser()
    if not path.is_absolute():
        # delta-core joins a relative path to its storage root and crashes; here it is the twin folder's file
        path = twin_folder / path
    return _local(path, url)


def _local(path: Path, url: str) -> DataFile:
    if not path.is_file():
        raise FetchError(f"{url}: no such file ({path})")
    try:
        return DataFile.of(path, url=url)
    except OSError as exc:
        raise FetchError(f"{url}: cannot read {path}: {exc.strerror or exc}") from exc


def _download(url: str, folder: Path, options: FetchOptions) -> DataFile:
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".download-{os.getpid()}.part"
    try:
        response = options.http().download(url, partial)
    except HttpError as exc:
        partial.unlink(missing_ok=True)
        raise FetchError(str(exc)) from exc
    name = (
        safe_name(_disposition_name(response.headers.get("Content-Disposition")))
        or safe_name(unquote(urlsplit(url).path))
        or FALLBACK_NAME
    )
    target = folder / name
    os.replace(partial, target)  # inside `folder` whatever the server named it: the name has no path left
    return DataFile.of(target, url=url)
