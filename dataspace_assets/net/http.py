"""The guarded HTTP client the pillars share: User-Agent, timeouts, retries, no redirects, no private hosts."""

from __future__ import annotations

import ipaddress
import logging
import mimetypes
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import requests

from dataspace_assets.errors import DataspaceError

log = logging.getLogger("dataspace_assets.net")

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 0.5
DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # a catalogue page larger than this is refused, not loaded into memory
RETRY_STATUSES = frozenset({500, 502, 503, 504})


class HttpError(DataspaceError):
    """A request failed; the message names the URL."""


@dataclass(frozen=True)
class HttpOptions:
    """How a source's requests behave, read from its config."""

    allow_private_addresses: bool = False
    allow_local_files: bool = False
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_config(cls, config: dict | None) -> "HttpOptions":
        """Options from a source config (`allow_private_addresses`, `allow_local_files`, `timeout`, `retries`)."""
        config = config or {}
        return cls(
            allow_private_addresses=bool(config.get("allow_private_addresses", False)),
            allow_local_files=bool(config.get("allow_local_files", False)),
            timeout=float(config.get("timeout", DEFAULT_TIMEOUT)),
            retries=max(0, int(config.get("retries", DEFAULT_RETRIES))),
            backoff=float(config.get("retry_backoff", DEFAULT_BACKOFF)),
            max_bytes=int(config.get("max_bytes", DEFAULT_MAX_BYTES)),
        )


def _refused_address(host: str) -> str | None:
    """The first private, loopback, link-local or reserved address the host resolves to, else None."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return None  # let the request itself report the resolution failure, naming the URL
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        if (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_reserved
            or ip.is_multicast
            or ip.is_unspecified
        ):
            return str(ip)
    return None


class GuardedHttp:
    """HTTP for one caller (a harvest source, a twin run): every call raises `error_class` naming the URL on failure."""

    error_class: type[HttpError] = HttpError

    def __init__(self, *, user_agent: str, options: HttpOptions | None = None, verify: bool = True) -> None:
        self.options = options or HttpOptions()
        self.verify = verify
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.trust_env = False  # no proxy from the environment: the address guard must see the real host

    # --- public API
    def get(self, url: str, *, params: dict | None = None, headers: dict | None = None) -> requests.Response:
        """GET a URL (or read a file:// URL when the source allows local files)."""
        if url.startswith("file:"):
            return self._local_response(url)
        return self._request("GET", url, params=params, headers=headers)

    def head(self, url: str, *, params: dict | None = None, headers: dict | None = None) -> requests.Response:
        """HEAD a URL (a file:// URL answers with the type guessed from its name)."""
        if url.startswith("file:"):
            response = self._local_response(url)
            response._content = b""
            return response
        return self._request("HEAD", url, params=params, headers=headers)

    def post(self, url: str, *, data: bytes | str | None = None, headers: dict | None = None) -> requests.Response:
        """POST a body to a URL."""
        return self._request("POST", url, data=data, headers=headers)

    def download(self, url: str, target: Path, *, headers: dict | None = None) -> requests.Response:
        """GET a URL into the file `target`, streamed in chunks under the size limit; the response keeps its headers."""
        response = self._request("GET", url, headers=headers, read_body=False)
        size = 0
        try:
            with target.open("wb") as out:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    size += len(chunk)
                    if size > self.options.max_bytes:
                        raise self.error_class(f"Response too large for url: {url} (limit {self.options.max_bytes} bytes)")
                    out.write(chunk)
        except requests.RequestException as exc:
            raise self.error_class(f"Incomplete response for url: {url}: {_reason(exc)}") from exc
        finally:
            response.close()
        return response

    def read_local(self, url: str) -> bytes:
        """The bytes of a file:// URL; refused unless the source config sets `allow_local_files`."""
        if not self.options.allow_local_files:
            raise self.error_class(f'{url}: local files are not allowed for this source (config "allow_local_files")')
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise self.error_class(f"{url}: not a local file URL")
        path = Path(url2pathname(unquote(parts.path)))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise self.error_class(f"{url}: cannot read local file: {exc.strerror or exc}") from exc

    # --- internals
    def _local_response(self, url: str) -> requests.Response:
        content = self.read_local(url)
        response = requests.Response()
        response.status_code = 200
        response.url = url
        response._content = content
        kind = mimetypes.guess_type(urlsplit(url).path)[0]
        if kind:
            response.headers["Content-Type"] = kind
        return response

    def _check_target(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise self.error_class(f"{url}: unsupported URL scheme {parts.scheme or '(none)'!r}")
        if not parts.hostname:
            raise self.error_class(f"{url}: URL has no host")
        if not self.options.allow_private_addresses:
            refused = _refused_address(parts.hostname)
            if refused:
                raise self.error_class(
                    f"{url}: refused to connect to private address {refused} "
                    '(set "allow_private_addresses": true in the source config to allow it)'
                )

    def _request(self, method: str, url: str, *, read_body: bool = True, **kwargs) -> requests.Response:
        self._check_target(url)
        attempts = self.options.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self.session.request(
                    method,
                    url,
                    timeout=self.options.timeout,
                    allow_redirects=False,
                    verify=self.verify,
                    stream=True,
                    **kwargs,
                )
            except requests.Timeout as exc:
                if last:
                    raise self.error_class(f"Timeout after {self.options.timeout:g}s for url: {url}") from exc
                self._wait(attempt, url, "timeout")
                continue
            except requests.ConnectionError as exc:
                if last:
                    raise self.error_class(f"Connection failed for url: {url}: {_reason(exc)}") from exc
                self._wait(attempt, url, "connection error")
                continue
            except requests.RequestException as exc:
                raise self.error_class(f"Request failed for url: {url}: {_reason(exc)}") from exc
            if response.status_code in RETRY_STATUSES and not last:
                response.close()
                self._wait(attempt, url, f"HTTP {response.status_code}")
                continue
            try:
                return self._finish(response, url, method, read_body=read_body)
            except _Retryable as exc:
                if last:
                    raise self.error_class(str(exc)) from exc
                self._wait(attempt, url, "timeout while reading")
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _wait(self, attempt: int, url: str, why: str) -> None:
        delay = self.options.backoff * (2**attempt)
        log.info("retrying %s after %s (attempt %d/%d, waiting %.1fs)", url, why, attempt + 2, self.options.retries + 1, delay)
        time.sleep(delay)

    def _finish(self, response: requests.Response, url: str, method: str, *, read_body: bool = True) -> requests.Response:
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "")
            response.close()
            raise self.error_class(
                f"HTTP {response.status_code} redirect refused for url: {url}" + (f" (to {location})" if location else "")
            )
        try:
            response.raise_for_status()
        except requests.HTTPError as exc:
            response.close()
            raise self.error_class(str(exc)) from exc
        if method == "HEAD":
            response._content = b""
            return response
        if not read_body:  # download(): the caller streams the body, after the same size check
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.options.max_bytes:
                response.close()
                raise self.error_class(f"Response too large for url: {url} ({declared} bytes, limit {self.options.max_bytes})")
            return response
        response._content = self._read_body(response, url)
        return response

    def _read_body(self, response: requests.Response, url: str) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.options.max_bytes:
            response.close()
            raise self.error_class(f"Response too large for url: {url} ({declared} bytes, limit {self.options.max_bytes})")
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(chunk_size=256 * 1024):
                size += len(chunk)
                if size > self.options.max_bytes:
                    raise self.error_class(f"Response too large for url: {url} (limit {self.options.max_bytes} bytes)")
                chunks.append(chunk)
        except requests.exceptions.ConnectionError as exc:
            if "timed out" in str(exc).lower():
                raise _Retryable(f"Timeout after {self.options.timeout:g}s for url: {url}") from exc
            raise self.error_class(f"Incomplete response for url: {url}: {_reason(exc)}") from exc
        except requests.exceptions.ChunkedEncodingError as exc:
            raise self.error_class(f"Incomplete response for url: {url}: {_reason(exc)}") from exc
        finally:
            response.close()
        return b"".join(chunks)


class _Retryable(Exception):
    """A transient failure while reading a body."""


def _reason(exc: Exception) -> str:
    """The innermost useful message of a requests/urllib3 exception, on one line."""
    inner: BaseException = exc
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    text = str(reason or inner) or type(inner).__name__
    return " ".join(text.split())


__all__ = ["GuardedHttp", "HttpError", "HttpOptions"]
