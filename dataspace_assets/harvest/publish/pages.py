"""Pages of the published catalogue: the entries of one page, the Hydra view, serialised, cached by last change."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from math import ceil
from typing import BinaryIO
from urllib.parse import urlencode

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, serialize

from dataspace_assets.harvest.publish.graph import (
    component_triples,
    dataservice_iri,
    dataservice_triples,
    dataset_iri,
    dataset_triples,
)
from dataspace_assets.harvest.publish.store import Counts, PublicationStore
from dataspace_assets.harvest.publish.vocab import DCAT, DCT, FOAF, HYDRA, PREFIXES, RDF, XSD

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
CATALOG_TITLE = "dataspace catalogue"
CATALOG_DESCRIPTION = (
    "Datasets and dataservices harvested into this data space, its collectors and harvesters, "
    "and the outputs of its DeltaTwin workflows."
)


@dataclass(frozen=True)
class Format:
    """One serialisation the catalogue is served in."""

    name: str  # ttl, rdf, jsonld
    rdf: RdfFormat
    media_type: str


FORMATS = {
    "ttl": Format("ttl", RdfFormat.TURTLE, "text/turtle"),
    "rdf": Format("rdf", RdfFormat.RDF_XML, "application/rdf+xml"),
    "jsonld": Format("jsonld", RdfFormat.JSON_LD, "application/ld+json"),
}
MEDIA_TYPES = {
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/rdf+xml": "rdf",
    "application/xml": "rdf",
    "text/xml": "rdf",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
}


class PageError(ValueError):
    """A page request that cannot be answered (bad number or size)."""


@dataclass(frozen=True)
class PageRequest:
    """Which page, how big, and the URL the links of the view are built on."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    base_url: str = "http://127.0.0.1:8888"  # IRIs of the entries
    path: str = "/catalog.ttl"  # the URL path the view links point to (keeps the format's extension)


def parse_paging(page: str | None, page_size: str | None) -> tuple[int, int]:
    """`?page=N&page_size=M` as numbers: page ≥ 1, 1 ≤ size ≤ the maximum (missing → the defaults)."""
    try:
        number = int(page) if page not in (None, "") else 1
        size = int(page_size) if page_size not in (None, "") else DEFAULT_PAGE_SIZE
    except ValueError:
        raise PageError("page and page_size must be whole numbers") from None
    if number < 1:
        raise PageError("page must be 1 or more")
    if size < 1 or size > MAX_PAGE_SIZE:
        raise PageError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return number, size


def grouped(triples: Iterable[Triple]) -> list[Triple]:
    """Triples grouped by subject (first-seen order), so serialisers write each subject once."""
    groups: dict = {}
    for triple in triples:
        groups.setdefault(triple.subject, {})[triple] = None  # a dict: duplicates once, order kept
    return [t for group in groups.values() for t in group]


class PageBuilder:
    """Builds the triples of catalogue pages from the database, one page of records at a time."""

    def __init__(self, store: PublicationStore) -> None:
        self.store = store

    def _slices(self, counts: Counts, offset: int, limit: int) -> dict[str, tuple[int, int]]:
        """(offset, limit) within each kind for the entries [offset, offset + limit) of the whole list."""
        out: dict[str, tuple[int, int]] = {}
        start = 0
        for kind, size in (("component", counts.components), ("dataset", counts.datasets),
                           ("dataservice", counts.dataservices)):
            lo, hi = max(offset, start), min(offset + limit, start + size)
            if lo < hi:
                out[kind] = (lo - start, hi - lo)
            start += size
        return out

    def entry_triples(self, counts: Counts, offset: int, limit: int, base_url: str) -> tuple[list[Triple], list, list]:
        """Triples of the entries on this slice, with the dataset and service nodes the catalogue lists."""
        out: list[Triple] = []
        datasets: list[NamedNode] = []
        services: list[NamedNode] = []
        slices = self._slices(counts, offset, limit)
        if "component" in slices:
            for component in self.store.components(*slices["component"]):
                node = NamedNode(dataset_iri(base_url, component.key))
                datasets.append(node)
                out += component_triples(component, node, base_url)
        if "dataset" in slices:
            for dataset in self.store.datasets(self.store.dataset_ids(*slices["dataset"])):
                node = NamedNode(dataset_iri(base_url, dataset.id))
                datasets.append(node)
                out += dataset_triples(dataset, node, licence=self.store.licence, guess=self.store.guess_licence)
        if "dataservice" in slices:
            for service, served in self.store.dataservices(self.store.dataservice_ids(*slices["dataservice"])):
                node = NamedNode(dataservice_iri(base_url, service.id))
                services.append(node)
                links = [(NamedNode(dataset_iri(base_url, i)), i) for i in served]
                out += dataservice_triples(service, node, links, licence=self.store.licence)
        return out, datasets, services

    def catalog_triples(self, base_url: str, datasets: list, services: list, total: int) -> list[Triple]:
        """The dcat:Catalog node listing this page's entries."""
        catalog = NamedNode(base_url.rstrip("/") + "/catalog")
        out = [
            Triple(catalog, RDF.type, DCAT.Catalog),
            Triple(catalog, RDF.type, HYDRA.Collection),
            Triple(catalog, DCT.title, Literal(CATALOG_TITLE)),
            Triple(catalog, DCT.description, Literal(CATALOG_DESCRIPTION)),
            Triple(catalog, FOAF.homepage, NamedNode(base_url.rstrip("/") + "/catalog")),
            Triple(catalog, HYDRA.totalItems, Literal(str(total), datatype=XSD.integer)),
        ]
        out += [Triple(catalog, DCAT.dataset, node) for node in datasets]
        out += [Triple(catalog, DCAT.service, node) for node in services]
        return out

    def page_triples(self, request: PageRequest) -> list[Triple]:
        """Every triple of one page: the catalogue, its entries on the page and the Hydra view."""
        counts = self.store.counts()
        offset = (request.page - 1) * request.page_size
        entries, datasets, services = self.entry_triples(counts, offset, request.page_size, request.base_url)
        out = self.catalog_triples(request.base_url, datasets, services, counts.total)
        out += view_triples(request, counts.total)
        out += entries
        return grouped(out)

    def all_triples(self, base_url: str, chunk: int = DEFAULT_PAGE_SIZE) -> Iterator[list[Triple]]:
        """The whole catalogue (no paging view), one chunk of entries at a time: what an export streams."""
        counts = self.store.counts()
        catalog = NamedNode(base_url.rstrip("/") + "/catalog")
        yield self.catalog_triples(base_url, [], [], counts.total)
        for offset in range(0, counts.total, chunk):
            entries, page_datasets, page_services = self.entry_triples(counts, offset, chunk, base_url)
            links = [Triple(catalog, DCAT.dataset, n) for n in page_datasets]
            links += [Triple(catalog, DCAT.service, n) for n in page_services]
            yield grouped(links + entries)


def page_url(request: PageRequest, page: int) -> NamedNode:
    """The URL of another page of the same listing."""
    query = urlencode({"page": page, "page_size": request.page_size})
    return NamedNode(f"{request.base_url.rstrip('/')}{request.path}?{query}")


def view_triples(request: PageRequest, total: int) -> list[Triple]:
    """The hydra:PartialCollectionView of this page: first, last, next and previous."""
    last = max(1, ceil(total / request.page_size))
    view = page_url(request, request.page)
    catalog = NamedNode(request.base_url.rstrip("/") + "/catalog")
    out = [
        Triple(catalog, HYDRA.view, view),
        Triple(view, RDF.type, HYDRA.PartialCollectionView),
        Triple(view, HYDRA.first, page_url(request, 1)),
        Triple(view, HYDRA.last, page_url(request, last)),
    ]
    if request.page < last:
        out.append(Triple(view, HYDRA.next, page_url(request, request.page + 1)))
    if request.page > 1:
        out.append(Triple(view, HYDRA.previous, page_url(request, min(request.page - 1, last))))
    return out


class _XmlCarriageReturns:
    """A writer that escapes carriage returns, which XML parsers would otherwise fold into plain newlines."""

    def __init__(self, output: BinaryIO) -> None:
        self.output = output

    def write(self, data: bytes) -> int:
        # In our RDF/XML a raw CR can only be inside a literal: markup is written with LF and tabs.
        self.output.write(bytes(data).replace(b"\r", b"&#13;"))
        return len(data)

    def flush(self) -> None:
        self.output.flush()


def serialise(triples: Iterable[Triple], fmt: Format, output: BinaryIO | None = None) -> bytes | None:
    """Triples in one of the served formats (written to `output` as they come when given)."""
    if fmt.rdf == RdfFormat.RDF_XML:
        if output is None:
            body = serialize(triples, None, format=fmt.rdf, prefixes=PREFIXES)
            return body.replace(b"\r", b"&#13;")
        serialize(triples, _XmlCarriageReturns(output), format=fmt.rdf, prefixes=PREFIXES)
        return None
    return serialize(triples, output, format=fmt.rdf, prefixes=PREFIXES)


class PageCache:
    """Serialised pages kept while the catalogue does not change (keyed by its last change)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is None:
                self.misses += 1
                return None
            self.hits += 1
            self._pages.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        if self.size < 1:
            return
        with self._lock:
            self._pages[key] = body
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def render_page(store: PublicationStore, request: PageRequest, fmt: Format, cache: PageCache | None = None) -> bytes:
    """One serialised page, from the cache when the catalogue has not changed since it was built."""
    key = (store.last_change(), request, fmt.name) if cache is not None else None
    if cache is not None:
        body = cache.get(key)
        if body is not None:
            return body
    body = serialise(PageBuilder(store).page_triples(request), fmt)
    assert body is not None
    if cache is not None:
        cache.put(key, body)
    return body


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "FORMATS",
    "MAX_PAGE_SIZE",
    "MEDIA_TYPES",
    "PageBuilder",
    "PageCache",
    "PageError",
    "PageRequest",
    "parse_paging",
    "render_page",
    "serialise",
]
