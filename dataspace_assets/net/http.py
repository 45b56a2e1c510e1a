"""The guarded HTTP client the pillars share: User-Agent, timeouts, retries, no redirects, no private hosts.

Safety comes from three layers, each checked on every request:

- the URL is validated the way urllib3 will connect (no backslashes, user info, spaces, control characters,
  out-of-range ports or numeric host spellings such as `2130706433` or `0x7f.1`);
- the peer address is checked at connect time, on the address the socket really connects to
  (requests-hardened resolves once and pins the connection to that address: no DNS-rebinding window),
  against every non-public range (see `refusal_reason`);
- every request has a total deadline (retries, waits and body included) besides the per-read `timeout`,
  and a body-size cap (`max_bytes`).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import mimetypes
import os
import re
import socket
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests_hardened.ip_filter import InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from dataspace_assets.errors import DataspaceError

log = logging.getLogger("dataspace_assets.net")
# requests-hardened logs each refusal as a warning; the caller reports it once, naming the URL and the switch.
logging.getLogger("requests_hardened.ip_filter").setLevel(logging.ERROR)

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 0.5
DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # a catalogue page larger than this is refused, not loaded into memory
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # never POST: a body may have reached the server
MAX_RETRY_AFTER = 60.0  # a server's Retry-After is honoured up to this many seconds (and the deadline)
MAX_BACKOFF = 60.0

# The bounds of each config value, inclusive upper bound: beyond them a value is a typo or an attack.
OPTION_BOUNDS: dict[str, tuple[type | tuple[type, ...], float, float]] = {
    "timeout": ((int, float), 0.0, 600.0),  # lower bound exclusive for timeout, deadline and max_bytes
    "deadline": ((int, float), 0.0, 3600.0),
    "retries": (int, 0, 10),
    "retry_backoff": ((int, float), 0.0, MAX_BACKOFF),
    "max_bytes": (int, 0, 2 * 1024**3),
}
_POSITIVE = frozenset({"timeout", "deadline", "max_bytes"})


class HttpError(DataspaceError):
    """A request failed; the message names the URL."""


def http_config_errors(config: dict | None) -> list[str]:
    """Every HTTP config value out of its type or bounds, each message naming the key."""
    errors: list[str] = []
    for key, (kind, low, high) in OPTION_BOUNDS.items():
        if not isinstance(config, dict) or key not in config:
            continue
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            errors.append(f'Config key "{key}" must be {names}')
        elif isinstance(value, float) and not math.isfinite(value):
            errors.append(f'Config key "{key}" must be a finite number (got {value})')
        elif key in _POSITIVE and not value > low:
            errors.append(f'Config key "{key}" must be above {low:g}')
        elif not low <= value <= high:
            errors.append(f'Config key "{key}" must be between {low:g} and {high:g} (got {value:g})')
    return errors


@dataclass(frozen=True)
class HttpOptions:
    """How a source's requests behave, read from its config."""

    allow_private_addresses: bool = False
    allow_local_files: bool = False
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    max_bytes: int = DEFAULT_MAX_BYTES
    deadline: float | None = None  # None: derived from timeout and retries (`total_deadline`)

    @classmethod
    def from_config(cls, config: dict | None) -> "HttpOptions":
        """Options from a source config (`allow_private_addresses`, `allow_local_files`, `timeout`, `retries` ...)."""
        config = config or {}
        errors = http_config_errors(config)
        if errors:
            raise DataspaceError("; ".join(errors))
        deadline = config.get("deadline")
        return cls(
            allow_private_addresses=bool(config.get("allow_private_addresses", False)),
            allow_local_files=bool(config.get("allow_local_files", False)),
            timeout=float(config.get("timeout", DEFAULT_TIMEOUT)),
            retries=int(config.get("retries", DEFAULT_RETRIES)),
            backoff=float(config.get("retry_backoff", DEFAULT_BACKOFF)),
            max_bytes=int(config.get("max_bytes", DEFAULT_MAX_BYTES)),
            deadline=float(deadline) if deadline is not None else None,
        )

    @property
    def total_deadline(self) -> float:
        """Seconds one request may take in all: config `deadline`, else three times `timeout` per attempt."""
        if self.deadline is not None:
            return self.deadline
        return 3 * self.timeout * (self.retries + 1) + sum(min(MAX_BACKOFF, self.backoff * 2**n) for n in range(self.retries))


# ---------------------------------------------------------------------- addresses

# Ranges refused beyond what `is_global` already excludes (Python's table misses some, or calls them global).
EXTRA_REFUSED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network": 0.0.0.0 reaches the local host
        "100.64.0.0/10",  # carrier-grade NAT, may route to internal workloads
        "192.0.0.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",
        "::/96",  # IPv4-compatible (deprecated) addresses embed an IPv4 address
        "::ffff:0:0/96",  # IPv4-mapped (checked on the embedded address first)
        "64:ff9b::/96",  # NAT64 embeds an IPv4 address
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",  # Teredo and other IETF special-purpose blocks
        "2001:db8::/32",
        "2002::/16",  # 6to4 embeds an IPv4 address
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fec0::/10",  # site-local (deprecated, still routed by some stacks)
        "fe80::/10",
        "ff00::/8",
    )
)


def refusal_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not public (its embedded IPv4 form checked too), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and refusal_reason(embedded):
            return f"{ip} embeds the non-public address {embedded}"
    if any(ip in net for net in EXTRA_REFUSED if net.version == ip.version):
        return f"{ip} is in a non-public range"
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return f"{ip} is not a public address"
    return None


class RefusedAddress(requests.RequestException):
    """The connection would reach a non-public address."""


# ---------------------------------------------------------------------- URLs

_FORBIDDEN_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


def url_problem(url: str) -> str | None:
    """Why an http(s) URL is refused as the client would read it, or None when it is safe to request."""
    if not isinstance(url, str) or not url:
        return "empty URL"
    bad = _FORBIDDEN_URL_CHARS.search(url)
    if bad:
        what = {"\\": "a backslash", " ": "a space", "\x00": "a NUL character"}.get(bad.group(), "a control character")
        return f"the URL contains {what}"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError as exc:
        return f"the URL cannot be parsed ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"unsupported URL scheme {parts.scheme or '(none)'!r}"
    if "@" in parts.netloc:
        return "user info (user:password@) in the URL is refused"
    host = parts.hostname
    if not host:
        return "URL has no host"
    if port == 0:
        return "port 0 is not a valid port"
    try:
        seen = urllib3.util.parse_url(url)
    except Exception as exc:  # urllib3 raises LocationParseError and friends
        return f"the URL cannot be parsed ({exc})"
    if _ascii_host(seen.host or "") != _ascii_host(host) or seen.port != port:
        return f"the URL is read differently by the HTTP client (host {seen.host!r}, port {seen.port})"
    if _is_numeric_spelling(host):
        return f"the host {host!r} is a non-standard spelling of an IP address"
    return None


def _ascii_host(host: str) -> str:
    """A host as the client sends it: lower case, IDNA-encoded (`bücher.example` is `xn--bcher-kva.example`)."""
    host = host.strip("[]").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _is_numeric_spelling(host: str) -> bool:
    """Whether a host is an IPv4 address written in decimal, octal, hex or short form (`2130706433`, `0x7f.1`)."""
    try:
        ipaddress.ip_address(host)
        return False  # a canonical address: checked at connect time like any other
    except ValueError:
        pass
    if not re.fullmatch(r"[0-9a-fA-FxX.]+", host) or not re.match(r"[0-9]", host):
        return False
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------- deadline


class _Deadline:
    """A total time budget for one request: when it runs out, the sockets of the request are shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()
        _current.deadline = None

    def remaining(self) -> float:
        return max(0.0, self.expires - monotonic())

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        # Shutting a socket down wakes a read blocked in another thread (a server dripping one byte at a time).
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


_current = threading.local()


def _active_deadline() -> _Deadline | None:
    return getattr(_current, "deadline", None)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _WatchedConnection:
    """Mixin for urllib3 connections: hand every socket of a request to its deadline."""

    def _new_conn(self):  # type: ignore[no-untyped-def]
        sock = super()._new_conn()  # type: ignore[misc]
        deadline = _active_deadline()
        if deadline is not None:
            deadline.watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> Any:
        deadline = _active_deadline()
        if deadline is not None:
            deadline.watch(getattr(self, "sock", None))  # a kept-alive connection has its socket already
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_WatchedConnection, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Retry(Retry):
    """urllib3's Retry with our back-off (backoff × 2^n from the first retry), capped waits and the deadline."""

    def get_backoff_time(self) -> float:
        errors = len(self.history)
        if errors < 1:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (errors - 1)))

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[no-untyped-def]
        deadline = _active_deadline()
        if deadline is not None and deadline.expired:
            raise urllib3.exceptions.MaxRetryError(_pool, url, error or urllib3.exceptions.ResponseError("deadline"))
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        why = f"HTTP {response.status}" if response is not None and error is None else type(error).__name__
        log.info("retrying %s after %s (attempt %d)", url, why, len(new.history) + 1)
        return new

    def sleep(self, response=None) -> None:  # type: ignore[no-untyped-def]
        wait = self.get_retry_after(response) if response is not None else None
        if not wait:
            wait = self.get_backoff_time()
        deadline = _active_deadline()
        if deadline is not None:
            wait = min(wait, deadline.remaining())
        if wait > 0:
            time.sleep(wait)  # module-level `time`: tests record the waits instead of sleeping


class _PoolsMixin:
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[misc]
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}  # type: ignore[attr-defined]


class _PlainAdapter(_PoolsMixin, HTTPAdapter):
    """For sources that opted in to private addresses: deadline and retries, no address filter."""


class _PublicOnlyAdapter(_PoolsMixin, IPFilterAdapter):
    """requests-hardened's adapter (resolve once, pin the connection to that address) plus our full range list."""

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # type: ignore[no-untyped-def]
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        address = ipaddress.ip_address(host_params["host"].strip("[]"))
        reason = refusal_reason(address)
        if reason:
            raise RefusedAddress(str(address))
        return host_params, pool_kwargs


# ---------------------------------------------------------------------- the client


class GuardedHttp:
    """HTTP for one caller (a harvest source, a twin run): every call raises `error_class` naming the URL on failure."""

    error_class: type[HttpError] = HttpError

    def __init__(self, *, user_agent: str, options: HttpOptions | None = None, verify: bool = True) -> None:
        self.options = options or HttpOptions()
        self.verify = verify
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.trust_env = False  # no proxy from the environment: the address guard must see the real host
        retry = _Retry(
            total=self.options.retries,
            connect=self.options.retries,
            read=self.options.retries,
            status=self.options.retries,
            redirect=0,
            backoff_factor=self.options.backoff,
            backoff_max=MAX_BACKOFF,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=RETRY_METHODS,
            respect_retry_after_header=True,
            retry_after_max=MAX_RETRY_AFTER,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        for prefix, https in (("http://", False), ("https://", True)):
            if self.options.allow_private_addresses:
                adapter: HTTPAdapter = _PlainAdapter()
            else:
                adapter = _PublicOnlyAdapter(is_https_proto=https)
            adapter.max_retries = retry
            self.session.mount(prefix, adapter)

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
        """POST a body to a URL (never retried once sent)."""
        return self._request("POST", url, data=data, headers=headers)

    def download(self, url: str, target: Path, *, headers: dict | None = None) -> requests.Response:
        """GET a URL into the file `target`, streamed in chunks under the size limit and the deadline.

        The response keeps its headers; its body is the file.
        """
        with target.open("wb") as sink:
            return self._request("GET", url, headers=headers, sink=sink)

    def read_local(self, url: str) -> bytes:
        """The bytes of a file:// URL; refused unless the source config sets `allow_local_files`."""
        if not self.options.allow_local_files:
            raise self.error_class(f'{url}: local files are not allowed for this source (config "allow_local_files")')
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise self.error_class(f"{url}: not a local file URL")
        path = Path(url2pathname(unquote(parts.path)))
        try:
            # Non-blocking open, then only regular files: a FIFO or a device would block or never end.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise self.error_class(f"{url}: not a regular file")
                os.set_blocking(fd, True)
                data = handle.read(self.options.max_bytes + 1)
        except OSError as exc:
            raise self.error_class(f"{url}: cannot read local file: {exc.strerror or exc}") from exc
        if len(data) > self.options.max_bytes:
            raise self.error_class(f"File too large: {url} (limit {self.options.max_bytes} bytes)")
        return data

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
        problem = url_problem(url)
        if problem:
            raise self.error_class(f"{url}: {problem}")

    def _request(self, method: str, url: str, *, sink: BinaryIO | None = None, **kwargs: Any) -> requests.Response:
        self._check_target(url)
        with _Deadline(self.options.total_deadline) as deadline:
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
                return self._finish(response, url, method, sink=sink)
            except (RefusedAddress, InvalidIPAddress) as exc:
                raise self.error_class(
                    f"{url}: refused to connect to private address {exc.args[0] if exc.args else ''} "
                    '(set "allow_private_addresses": true in the source config to allow it)'
                ) from exc
            except requests.RequestException as exc:
                if deadline.expired:
                    raise self.error_class(
                        f"Deadline of {deadline.seconds:g}s exceeded for url: {url} (config \"deadline\")"
                    ) from exc
                if _timed_out(exc):
                    raise self.error_class(f"Timeout after {self.options.timeout:g}s for url: {url}") from exc
                if isinstance(exc, requests.ConnectionError):
                    raise self.error_class(f"Connection failed for url: {url}: {_reason(exc)}") from exc
                raise self.error_class(f"Request failed for url: {url}: {_reason(exc)}") from exc
            except HttpError:
                if deadline.expired:
                    raise self.error_class(
                        f"Deadline of {deadline.seconds:g}s exceeded for url: {url} (config \"deadline\")"
                    ) from None
                raise


    def _finish(
        self, response: requests.Response, url: str, method: str, *, sink: BinaryIO | None = None
    ) -> requests.Response:
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
            response.close()
            return response
        body = self._read_body(response, url, sink)
        response._content = b"" if sink is not None else body
        return response

    def _read_body(self, response: requests.Response, url: str, sink: BinaryIO | None = None) -> bytes:
        """The body, under the size cap; with a `sink`, written there chunk by chunk instead (b"" returned)."""
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
                if sink is not None:
                    sink.write(chunk)
                else:
                    chunks.append(chunk)
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            deadline = _active_deadline()
            if deadline is not None and deadline.expired:
                raise  # reported as the deadline by `_request`
            if _timed_out(exc):
                raise self.error_class(f"Timeout after {self.options.timeout:g}s for url: {url}") from exc
            raise self.error_class(f"Incomplete response for url: {url}: {_reason(exc)}") from exc
        finally:
            response.close()
        return b"".join(chunks)


def _timed_out(exc: BaseException) -> bool:
    """Whether a requests/urllib3 failure was a timeout, however deeply wrapped."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        inner = stack.pop()
        if not isinstance(inner, BaseException) or id(inner) in seen:
            continue
        seen.add(id(inner))
        if isinstance(inner, urllib3.exceptions.NewConnectionError):
            continue  # urllib3 files a refused connection under ConnectTimeoutError: not a timeout
        if isinstance(inner, (requests.Timeout, urllib3.exceptions.TimeoutError, socket.timeout, TimeoutError)):
            return True
        stack += [*inner.args, getattr(inner, "reason", None), inner.__cause__, inner.__context__]
    return False


def _reason(exc: Exception) -> str:
    """The innermost useful message of a requests/urllib3 exception, on one line."""
    inner: BaseException = exc
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    text = str(reason or inner) or type(inner).__name__
    return " ".join(text.split())


__all__ = [
    "GuardedHttp",
    "HttpError",
    "HttpOptions",
    "OPTION_BOUNDS",
    "http_config_errors",
    "refusal_reason",
    "url_problem",
]
