"""The handler HTTP server: an ASGI app (starlette) on uvicorn, behind a client address allow-list.

Routes:
* `GET /<handler full name>?<QUERY_PARAMETERS>`: the handler's answer, typed by its DATA_TYPE;
* `GET /<component-name-with-dashes>/?timestamp=ISO`: the newest item of a collector or harvester strictly
  before the timestamp (default now), with its stored content type (the v0.0.2 route);
* `GET /parquet/<component>/[?level=L]`: the Parquet files of a component with PARQUETIZE, as JSON;
* `GET /parquet/<component>/<level>/<file>.parquet`: one of them, streamed from the blob store (single byte
  ranges answered with 206);
* `GET /openapi.json`;
* any extra routes another pillar passes in (`build_app(..., extra_routes=...)`).

Every request, whatever its method or path, first meets the allow-list (403), then the method check (only
GET and HEAD, else 405). Nothing is served from disk by its name: a Parquet file is looked up in its
component's `<name>_parquetize` table, so any other name (or a path with `..`) is a 404. Every error is a
small JSON body.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import ipaddress
import json
import logging
import re
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dataspace_assets.dataspace.config import ComponentConfig, DataspaceConfig, dataspace_folder, load_config
from dataspace_assets.dataspace.handlers import (
    BadParameter,
    HandlerRuntime,
    build_runtime,
    encode,
    parse_query,
    select_handlers,
)
from dataspace_assets.errors import DataspaceError
from dataspace_assets.settings import Settings
from dataspace_assets.storage.parquet import MEDIA_TYPE as PARQUET_TYPE
from dataspace_assets.storage.parquet import ParquetFile, ParquetIndex
from dataspace_assets.storage.reader import BlobCache, DataReader, read_only_store
from dataspace_assets.storage.store import DataStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8888
DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "::1")
ALLOWED_METHODS = ("GET", "HEAD")
LOG = logging.getLogger("dataspace.handlers")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# --------------------------------------------------------------------------- access control


def parse_allowed_hosts(entries: Sequence[str]) -> list[Network]:
    """Addresses, CIDR ranges and host names (resolved now, `localhost` included) as networks."""
    networks: list[Network] = []
    for entry in entries:
        text = entry.strip()
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
            continue
        except ValueError:
            pass
        try:
            infos = socket.getaddrinfo(text, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise DataspaceError(
                f"--allowed-hosts: {entry!r} is not an address, a CIDR range or a known host name"
            ) from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            networks.append(ipaddress.ip_network(address))
    return networks


def client_allowed(host: str | None, networks: Sequence[Network]) -> bool:
    """Whether a client address is in the allow-list (an IPv4-mapped IPv6 address counts as its IPv4 one)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)


def _error_body(status: int, message: str, **extra: Any) -> bytes:
    return json.dumps({"status": status, "error": message, **extra}).encode("utf-8")


async def _send_error(send: Send, status: int, message: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = _error_body(status, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessControl:
    """ASGI middleware: the client allow-list on every request and method, then GET/HEAD only."""

    def __init__(self, app: ASGIApp, networks: Sequence[Network]) -> None:
        self.app = app
        self.networks = list(networks)
        # The same few clients come back all the time: decide once per address string.
        self._allowed = functools.lru_cache(maxsize=4096)(lambda host: client_allowed(host, self.networks))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if not self._allowed(client[0] if client else None):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await _send_error(send, 403, "forbidden")
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["method"] not in ALLOWED_METHODS:
            await _send_error(send, 405, "method not allowed", [(b"allow", b"GET, HEAD")])
            return
        await self.app(scope, receive, send)


# --------------------------------------------------------------------------- routes


def dashed(full_name: str) -> str:
    """The v0.0.2 route name of a component: `_` replaced by `-`."""
    return full_name.replace("_", "-")


def _json_error(status: int, message: str, **extra: Any) -> Response:
    return Response(_error_body(status, message, **extra), status_code=status, media_type="application/json")


def _server_error(what: str, answer: str, exc: BaseException | None = None) -> Response:
    """A 500 naming only an error id; the traceback goes to the log under that id (call it where it was caught)."""
    error_id = uuid.uuid4().hex[:12]
    LOG.error("%s failed (error id %s)", what, error_id, exc_info=exc or True)
    return _json_error(500, answer, error_id=error_id)


def handler_endpoint(runtime: HandlerRuntime):
    """The GET endpoint of one handler."""
    declared = runtime.config.query_parameters

    async def endpoint(request: Request) -> Response:
        try:
            query = parse_query(request.query_params, declared)
        except BadParameter as exc:
            return _json_error(400, str(exc), parameter=exc.name)
        try:
            result = await run_in_threadpool(runtime.call, query)
            if result is None:
                return _json_error(404, "no data for this query")
            body, content_type = encode(result, runtime.config)
        except Exception:  # the handler's own failure: logged with its traceback, answered with an id only
            return _server_error(f"handler {runtime.name}", "the handler failed")
        return Response(body, media_type=content_type)

    return endpoint


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp (naive = UTC); a `+` offset that URL decoding turned into a space is restored."""
    for candidate in (value, value.replace(" ", "+")):
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    raise ValueError(value)


def latest_endpoint(name: str, reader: DataReader):
    """The v0.0.2 route of one collector or harvester: its newest item strictly before `timestamp`."""

    async def endpoint(request: Request) -> Response:
        text = request.query_params.get("timestamp")
        try:
            moment = parse_timestamp(text) if text else datetime.now(UTC)
        except ValueError:
            return _json_error(400, f"query parameter 'timestamp' must be an ISO 8601 date-time, got {text!r}",
                               parameter="timestamp")
        # The index lookup and a (cached) blob read are short: done on the loop, as a thread hop would cost more.
        try:
            item = reader.latest_before(name, moment)
            if item is None:
                return _json_error(404, f"no item of {name} before {moment.isoformat()}")
            body = item.content
        except Exception:  # a storage failure: logged, answered with an id only
            return _server_error(f"reading {name}", "reading the item failed")
        return Response(body, media_type=item.content_type)

    return endpoint


# --------------------------------------------------------------------------- Parquet files

PARQUET_PREFIX = "/parquet"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parquet_route(component: str) -> str:
    """The route listing a component's Parquet files (its files are below it: `<level>/<name>`)."""
    return f"{PARQUET_PREFIX}/{component}/"


def parquet_file_route(component: str, item: ParquetFile) -> str:
    """The route of one Parquet file: stable for its (level, window, keys)."""
    return parquet_route(component) + item.path


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """(start, length) of a single `Range: bytes=` request; None: serve it whole; False: unsatisfiable."""
    match = _RANGE.match((header or "").strip())
    if not match or not any(match.groups()):  # absent, several ranges or another unit: the whole file
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        suffix = int(last)
        return (max(size - suffix, 0), min(suffix, size)) if suffix > 0 and size > 0 else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end - start + 1


def _file_entry(component: str, item: ParquetFile, base: str) -> dict[str, Any]:
    route = parquet_file_route(component, item)
    return {
        "name": item.name,
        "level": item.level,
        "start": item.start.isoformat(),
        "end": item.end.isoformat(),
        "keys": item.keys,
        "rows": item.rows,
        "snapshots": item.count,
        "byte_size": item.compressed_size,
        "sha256": item.sha256,
        "schema": item.schema,
        "path": route,
        "url": base + route,
    }


class ParquetRoutes:
    """The Parquet files of the components with PARQUETIZE, read through the (read-only) store."""

    def __init__(self, store: DataStore, components: Sequence[ComponentConfig]) -> None:
        from dataspace_assets.dataspace.parquetize.plan import parse_plan

        self.store = store
        self.levels = {
            c.full_name: [level.label for level in parse_plan(c.parquetize).levels] for c in components if c.parquetize
        }
        self.indexes = {name: ParquetIndex(store.engine, name, create=False) for name in self.levels}

    def listing(self, request: Request) -> Response:
        """Every recorded file of a component (of one level with `?level=`), oldest window first."""
        name = request.path_params["component"]
        if name not in self.indexes:
            return _json_error(404, f"no component with Parquet files named {name!r}")
        level = request.query_params.get("level")
        if level is not None and level not in self.levels[name]:
            return _json_error(400, f"query parameter 'level' must be one of {', '.join(self.levels[name])}, "
                                    f"got {level!r}", parameter="level")
        try:
            files = self.indexes[name].files(level)
        except Exception:  # a storage failure: logged, answered with an id only
            return _server_error(f"listing the Parquet files of {name}", "reading the store failed")
        base = str(request.base_url).rstrip("/")
        return JSONResponse({
            "component": name,
            "media_type": PARQUET_TYPE,
            "levels": self.levels[name],
            "files": [_file_entry(name, item, base) for item in files],
        })

    def file(self, request: Request) -> Response:
        """One recorded file's bytes (a single byte range when asked), streamed from the blob store."""
        name, level, file_name = (request.path_params[k] for k in ("component", "level", "file"))
        if name not in self.indexes or level not in self.levels[name]:
            return _json_error(404, "not found")
        try:
            item = self.indexes[name].named(level, file_name)
        except Exception:
            return _server_error(f"looking up {name} {level}/{file_name}", "reading the store failed")
        if item is None:
            return _json_error(404, f"no {level} Parquet file of {name} named {file_name!r}")
        wanted = byte_range(request.headers.get("range"), item.compressed_size)
        if wanted is False:
            return _json_error(416, "range not satisfiable", size=item.compressed_size)
        start, length = wanted or (0, None)
        try:
            download = self.store.blobs.download(item.location, start, length)
        except DataspaceError:  # replaced by a roll-up or a re-run since it was looked up
            LOG.warning("Parquet file %s of %s is recorded but its blob is missing", file_name, name)
            return _json_error(404, f"the {level} Parquet file {file_name!r} of {name} is no longer stored")
        except Exception:
            return _server_error(f"reading {name} {level}/{file_name}", "reading the store failed")
        headers = {
            "content-length": str(download.length),
            "accept-ranges": "bytes",
            "etag": '"' + hashlib.sha256(item.location.encode()).hexdigest()[:32] + '"',  # blobs never change
            "content-disposition": f'attachment; filename="{item.name}"',
        }
        if item.sha256:  # RFC 9530: the digest of the whole file, also on a range, so a client can check it
            headers["repr-digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(item.sha256)).decode()}:"
        status = 200
        if wanted:
            status = 206
            headers["content-range"] = f"bytes {download.start}-{download.start + download.length - 1}/{download.size}"
        if request.method == "HEAD":
            download.close()
            return Response(b"", status_code=status, headers=headers, media_type=PARQUET_TYPE)
        return StreamingResponse(download.chunks, status_code=status, headers=headers, media_type=PARQUET_TYPE)

    def routes(self) -> list[BaseRoute]:
        """The listing and file routes (GET; HEAD comes with them)."""
        return [
            Route(PARQUET_PREFIX + "/{component}/", self.listing, methods=["GET"], name="parquet_files"),
            Route(PARQUET_PREFIX + "/{component}/{level}/{file:path}", self.file, methods=["GET"], name="parquet_file"),
        ]


_OPENAPI_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}
_JSON_RESPONSE = {"content": {"application/json": {"schema": {"type": "object"}}}}


def openapi_document(runtimes: Sequence[HandlerRuntime], config: DataspaceConfig) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the handler and component routes."""
    paths: dict[str, Any] = {}
    for runtime in runtimes:
        handler = runtime.config
        paths[f"/{handler.full_name}"] = {
            "get": {
                "operationId": handler.full_name,
                "summary": handler.description or f"Handler {handler.full_name}",
                "tags": [handler.group],
                "parameters": [
                    {"name": name, "in": "query", "required": False, "schema": {"type": _OPENAPI_TYPES[kind]}}
                    for name, kind in handler.query_parameters.items()
                ],
                "responses": {
                    "200": {"description": "the handler's answer", "content": {handler.content_type: {}}},
                    "400": {"description": "a parameter has the wrong type", **_JSON_RESPONSE},
                    "404": {"description": "no data for this query", **_JSON_RESPONSE},
                    "500": {"description": "the handler failed (an error id, no traceback)", **_JSON_RESPONSE},
                },
            }
        }
    for component in [*config.collectors, *config.harvesters]:
        paths[f"/{dashed(component.full_name)}/"] = {
            "get": {
                "operationId": f"latest_{component.full_name}",
                "summary": f"Newest item of {component.kind} {component.full_name} before a timestamp",
                "tags": [component.group],
                "parameters": [
                    {"name": "timestamp", "in": "query", "required": False,
                     "schema": {"type": "string", "format": "date-time"}}
                ],
                "responses": {
                    "200": {"description": "the stored bytes", "content": {component.content_type: {}}},
                    "400": {"description": "a bad timestamp", **_JSON_RESPONSE},
                    "404": {"description": "no item before the timestamp", **_JSON_RESPONSE},
                },
            }
        }
    for component in [c for c in [*config.collectors, *config.harvesters] if c.parquetize]:
        route = parquet_route(component.full_name)
        paths[route] = {
            "get": {
                "operationId": f"parquet_files_{component.full_name}",
                "summary": f"Parquet files of {component.kind} {component.full_name}",
                "tags": [component.group],
                "parameters": [{"name": "level", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "the recorded files, oldest window first", **_JSON_RESPONSE},
                    "400": {"description": "an unknown level", **_JSON_RESPONSE},
                },
            }
        }
        paths[route + "{level}/{file}"] = {
            "get": {
                "operationId": f"parquet_file_{component.full_name}",
                "summary": f"One Parquet file of {component.full_name} (byte ranges supported)",
                "tags": [component.group],
                "parameters": [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                               for n in ("level", "file")],
                "responses": {
                    "200": {"description": "the file", "content": {PARQUET_TYPE: {}}},
                    "206": {"description": "the requested byte range", "content": {PARQUET_TYPE: {}}},
                    "404": {"description": "no such file", **_JSON_RESPONSE},
                    "416": {"description": "a range past the end of the file", **_JSON_RESPONSE},
                },
            }
        }
    return {"openapi": "3.1.0", "info": {"title": "dataspace handlers", "version": "1"}, "paths": paths}


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # an extra route failed: logged under an id, like a handler
        return _server_error(request.url.path, "the request failed", exc)
    message = {404: "not found", 405: "method not allowed"}.get(exc.status_code, "error")
    return _json_error(exc.status_code, message)


# --------------------------------------------------------------------------- the app


def load_server_config(settings: Settings) -> DataspaceConfig:
    """The data space configs, every problem raised as one `DataspaceError`."""
    config = load_config(dataspace_folder(settings.configs_dir), timezone=settings.timezone, import_classes=False)
    if config.problems:
        lines = "\n".join(f"  {problem}" for problem in config.problems)
        raise DataspaceError(f"{len(config.problems)} problem(s) in the data space configs ({config.folder}):\n{lines}")
    return config


def build_app(
    settings: Settings,
    handlers: Sequence[str] | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    *,
    allowed_hosts: Sequence[str] = DEFAULT_ALLOWED_HOSTS,
    store: DataStore | None = None,
) -> ASGIApp:
    """The handler server's ASGI app: the selected handlers (None or `all`: every one), the component routes,
    OpenAPI and `extra_routes`, all behind the allow-list and the GET/HEAD method check."""
    networks = parse_allowed_hosts(allowed_hosts)
    config = load_server_config(settings)
    selected = select_handlers(config, list(handlers) if handlers is not None else None)
    owned = store is None
    store = store if store is not None else read_only_store(settings)
    cache = BlobCache(store.blobs.read)
    runtimes = [build_runtime(config, handler, store, blob_cache=cache) for handler in selected]
    components = DataReader(store, [c.full_name for c in [*config.collectors, *config.harvesters]], blob_cache=cache)

    routes: list[BaseRoute] = [
        Route(f"/{r.name}", handler_endpoint(r), methods=["GET"], name=r.name) for r in runtimes if r.serves_http
    ]
    for component in [*config.collectors, *config.harvesters]:
        routes.append(
            Route(f"/{dashed(component.full_name)}/", latest_endpoint(component.full_name, components),
                  methods=["GET"], name=f"latest_{component.full_name}")
        )
    routes.extend(ParquetRoutes(store, [*config.collectors, *config.harvesters]).routes())
    document = openapi_document([r for r in runtimes if r.serves_http], config)
    routes.append(Route("/openapi.json", lambda request: JSONResponse(document), methods=["GET"]))
    routes.extend(extra_routes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if owned:
            store.close()

    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, 500: _http_error}, lifespan=lifespan)
    # The original answered 404 to a trailing slash; a redirect would only hide the wrong path.
    app.router.redirect_slashes = False
    return AccessControl(app, networks)

