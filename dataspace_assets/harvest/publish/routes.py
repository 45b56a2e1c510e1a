"""HTTP routes of the published catalogue (starlette): `/catalog[.ttl|.rdf|.jsonld]`, `/datasets/<id>`, `/dataservices/<id>`.

The data-space server mounts them with `catalog_routes(settings)`; its client allow-list applies to them too.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from pyoxigraph import NamedNode
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from dataspace_assets.harvest.publish.graph import (
    component_triples,
    dataservice_iri,
    dataservice_triples,
    dataset_iri,
    dataset_triples,
)
from dataspace_assets.harvest.publish.pages import (
    FORMATS,
    MEDIA_TYPES,
    Format,
    PageCache,
    PageError,
    PageRequest,
    grouped,
    parse_paging,
    render_page,
    serialise,
)
from dataspace_assets.harvest.publish.store import PublicationStore

if TYPE_CHECKING:
    from dataspace_assets.settings import Settings

PUBLIC_URL_VARIABLE = "DATASPACE_PUBLIC_URL"  # the server's public root, for IRIs; else the request's own


class NotAcceptable(Exception):
    """The client accepts none of our formats."""


def negotiate(accept: str | None) -> Format:
    """The served format an Accept header prefers (Turtle when it accepts anything or says nothing)."""
    if not accept or not accept.strip():
        return FORMATS["ttl"]
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in MEDIA_TYPES:
            choices.append((quality, -index, MEDIA_TYPES[media]))
        elif media in ("*/*", "text/*", "application/*"):
            choices.append((quality - 0.0001, -index, "ttl" if media != "application/*" else "rdf"))
    if not choices:
        raise NotAcceptable(accept)
    return FORMATS[max(choices)[2]]


def public_base(request: Request) -> str:
    """The root the published IRIs start with."""
    configured = os.environ.get(PUBLIC_URL_VARIABLE, "").strip()
    return (configured or str(request.base_url)).rstrip("/")


class CatalogApp:
    """The routes' shared state: the publication store (opened on first request) and the page cache."""

    def __init__(self, database_url: str, *, cache_size: int = 64) -> None:
        self.database_url = database_url
        self.cache = PageCache(cache_size)  # 0: every page built afresh (what the benchmark measures)
        self._store: PublicationStore | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> PublicationStore:
        with self._lock:
            if self._store is None:
                self._store = PublicationStore.from_url(self.database_url)
            return self._store

    def _format(self, request: Request, extension: str | None) -> Format:
        if extension:
            return FORMATS[extension]
        return negotiate(request.headers.get("accept"))

    def catalog(self, request: Request) -> Response:
        """One page of the catalogue, in the format the client negotiates."""
        return self.page(request, None)

    def page(self, request: Request, extension: str | None) -> Response:
        """One page of the catalogue, in the format of the extension (else negotiated)."""
        try:
            fmt = self._format(request, extension)
            number, size = parse_paging(request.query_params.get("page"), request.query_params.get("page_size"))
        except NotAcceptable:
            return _not_acceptable()
        except PageError as exc:
            return PlainTextResponse(f"bad request: {exc}\n", status_code=400)
        page = PageRequest(page=number, page_size=size, base_url=public_base(request), path=request.url.path)
        body = render_page(self.store, page, fmt, self.cache)
        return Response(body, media_type=fmt.media_type, headers={"Vary": "Accept"})

    def dataset(self, request: Request) -> Response:
        """One published dataset (harvested or a data-space component)."""
        try:
            fmt = self._format(request, None)
        except NotAcceptable:
            return _not_acceptable()
        identifier = request.path_params["identifier"]
        base = public_base(request)
        node = NamedNode(dataset_iri(base, identifier))
        store = self.store
        component = store.component(identifier)
        if component is not None:
            triples = component_triples(component, node, base)
        else:
            dataset = store.public_dataset(identifier)
            if dataset is None:
                return PlainTextResponse("not found\n", status_code=404)
            triples = dataset_triples(dataset, node, licence=store.licence, guess=store.guess_licence)
        return Response(serialise(grouped(triples), fmt), media_type=fmt.media_type, headers={"Vary": "Accept"})

    def dataservice(self, request: Request) -> Response:
        """One published dataservice."""
        try:
            fmt = self._format(request, None)
        except NotAcceptable:
            return _not_acceptable()
        identifier = request.path_params["identifier"]
        base = public_base(request)
        store = self.store
        service = store.public_dataservice(identifier)
        if service is None:
            return PlainTextResponse("not found\n", status_code=404)
        links = [(NamedNode(dataset_iri(base, i)), i) for i in store.served_public(identifier)]
        triples = dataservice_triples(service, NamedNode(dataservice_iri(base, identifier)), links, licence=store.licence)
        return Response(serialise(grouped(triples), fmt), media_type=fmt.media_type, headers={"Vary": "Accept"})

    def routes(self) -> list[BaseRoute]:
        """The starlette routes (GET; HEAD comes with it)."""
        def by_extension(extension: str):  # noqa: ANN202
            def endpoint(request: Request) -> Response:
                return self.page(request, extension)

            return endpoint

        return [
            Route("/catalog", self.catalog, methods=["GET"], name="catalog"),
            *(
                Route(f"/catalog.{ext}", by_extension(ext), methods=["GET"], name=f"catalog_{ext}")
                for ext in FORMATS
            ),
            Route("/datasets/{identifier:path}", self.dataset, methods=["GET"], name="catalog_dataset"),
            Route("/dataservices/{identifier}", self.dataservice, methods=["GET"], name="catalog_dataservice"),
        ]


def _not_acceptable() -> Response:
    types = ", ".join(f.media_type for f in FORMATS.values())
    return PlainTextResponse(f"not acceptable: the catalogue is served as {types}\n", status_code=406)


def catalog_routes(settings: "Settings") -> list[BaseRoute]:
    """The catalogue's routes for the data-space HTTP server (no database access until the first request)."""
    return CatalogApp(settings.database_url).routes()


def catalog_app(settings: "Settings"):  # noqa: ANN201
    """The same routes as a starlette app of their own (to mount, or to serve alone)."""
    from starlette.applications import Starlette

    return Starlette(routes=catalog_routes(settings))


__all__ = ["CatalogApp", "catalog_app", "catalog_routes", "negotiate"]
