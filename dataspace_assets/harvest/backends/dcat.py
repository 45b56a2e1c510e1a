"""The DCAT backend: walk a paginated RDF catalogue, list its datasets and dataservices, map each one."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any
from urllib.parse import urljoin

from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from dataspace_assets.harvest.backends.base import (
    BaseBackend,
    HarvestException,
    HarvestValidationError,
    ItemRef,
)
from dataspace_assets.harvest.backends.options import HTTP_KEYS, check_typed_keys
from dataspace_assets.harvest.dcat.mapping import (
    DEFAULT_LANGUAGE,
    dataservice_from_rdf,
    dataservice_nodes,
    dataset_from_rdf,
    dataset_nodes,
    remote_id_of,
)
from dataspace_assets.harvest.dcat.guards import DEFAULT_MAX_PAGES, default_max_triples
from dataspace_assets.harvest.dcat.oxigraph import TripleGraph
from dataspace_assets.harvest.dcat.paging import next_page_url
from dataspace_assets.harvest.dcat.rdf import URIS_TO_REPLACE, format_from_mime, format_from_url, parse_graph
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord

MAX_CACHED_JOBS = 4
# Config keys read at the top level of a DCAT source's config, with their types: the HTTP client's, then DCAT's own.
CONFIG_KEYS: dict[str, type | tuple[type, ...]] = {
    **HTTP_KEYS,
    "default_language": str,
    "hvd_support": bool,
    "inspire_support": bool,
    "jsonld_contexts": dict,
    "max_pages": int,
    "max_triples": int,
}


class _PageCache:
    """Parsed pages of the jobs this process is running, so items are mapped without re-parsing."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, dict[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, page: Any) -> Any:
        with self._lock:
            pages = self._jobs.get(token)
            if pages is None:
                return None
            self._jobs.move_to_end(token)
            return pages.get(page)

    def put(self, token: str, page: Any, value: Any) -> None:
        with self._lock:
            self._jobs.setdefault(token, {})[page] = value
            self._jobs.move_to_end(token)
            while len(self._jobs) > MAX_CACHED_JOBS:
                self._jobs.popitem(last=False)

    def drop(self, token: str) -> None:
        with self._lock:
            self._jobs.pop(token, None)


PAGE_CACHE = _PageCache()


def node_key(node: Node) -> str:
    """A JSON-friendly key for a subject: its IRI, or `_:<id>` for a blank node."""
    return f"_:{node}" if isinstance(node, BNode) else str(node)


def node_from_key(key: str) -> Node:
    """The subject a `node_key` stands for."""
    return BNode(key[2:]) if key.startswith("_:") else URIRef(key)


class DcatBackend(BaseBackend):
    """Harvests a DCAT catalogue in RDF/XML, Turtle, N3, N-Triples, TriG or JSON-LD, following Hydra paging."""

    name = "dcat"
    config_keys = frozenset(CONFIG_KEYS)
    display_name = "DCAT"

    # ------------------------------------------------------------ config
    @classmethod
    def validate_config(cls, config: dict) -> list[str]:
        """The base checks plus the types of the DCAT keys (`default_language`, `allow_private_addresses` ...)."""
        errors = super().validate_config(config)
        return errors + check_typed_keys(config, cls.name, CONFIG_KEYS) if isinstance(config, dict) else errors

    @property
    def max_pages(self) -> int:
        """How many pages one listing may walk (config `max_pages`)."""
        return int(self.config.get("max_pages") or DEFAULT_MAX_PAGES)

    @property
    def max_triples(self) -> int:
        """How many triples one page may hold (config `max_triples`, else derived from `max_bytes`)."""
        return int(self.config.get("max_triples") or default_max_triples(self.http.options.max_bytes))

    @property
    def default_language(self) -> str:
        """The language whose literals win when a property has several (config `default_language`)."""
        return str(self.config.get("default_language") or DEFAULT_LANGUAGE)

    def mapping_options(self) -> dict:
        """Keyword options of the mapping functions, from the source config."""
        return {
            "default_language": self.default_language,
            "hvd_support": bool(self.config.get("hvd_support", True)),
            "inspire_support": bool(self.config.get("inspire_support", True)),
        }

    # ------------------------------------------------------------ loading
    def detect_format(self, url: str) -> str:
        """The RDF format from the URL's extension, else from a HEAD request's Content-Type."""
        fmt = format_from_url(url)
        if fmt:
            return fmt
        response = self.http.head(url)
        return format_from_mime(response.headers.get("Content-Type"))

    def fetch_context(self, url: str) -> Any:
        """A remote JSON-LD context, fetched through the guarded client (config `jsonld_contexts` may redirect it)."""
        cache = self.__dict__.setdefault("_contexts", {})
        if url not in cache:
            # Keyed by the URL the document names; the rewritten URL (URIS_TO_REPLACE) is accepted as well.
            contexts = self.config.get("jsonld_contexts") or {}
            original = next((old for old, new in URIS_TO_REPLACE.items() if new == url), url)
            target = contexts.get(original) or contexts.get(url) or url
            response = self.http.get(target)
            try:
                cache[url] = response.json()
            except ValueError as exc:
                raise HarvestException(f"JSON-LD context {target} is not JSON: {exc}") from exc
        return cache[url]

    def load_page(self, url: str, fmt: str) -> Graph:
        """Fetch and parse one catalogue page."""
        response = self.http.get(url)
        return parse_graph(
            response.content, fmt, url=url, fetch_context=self.fetch_context, max_triples=self.max_triples
        )

    def _page_graph(self, page: int) -> Graph:
        token = self.job_data.get("token", "")
        graph = PAGE_CACHE.get(token, page)
        if graph is None:  # another process listed the pages: fetch this one again, once per process
            pages = self.job_data.get("pages") or []
            if page >= len(pages):
                raise HarvestValidationError(f"page {page} of the listing is unknown")
            graph = self.load_page(pages[page], self.job_data["format"])
            PAGE_CACHE.put(token, page, graph)
        return graph

    def _locate(self, item: ItemRef, finder) -> tuple[Graph, Node]:  # noqa: ANN001
        page = int(item.kwargs.get("page", 0))
        graph = self._page_graph(page)
        key = item.kwargs.get("node")
        if key and not key.startswith("_:"):
            node = URIRef(key)
            if (node, None, None) in graph:
                return graph, graph.canonical(node) if isinstance(graph, TripleGraph) else node
        elif key:
            node = BNode(key[2:])
            if (node, None, None) in graph:
                return graph, graph.canonical(node) if isinstance(graph, TripleGraph) else node
        # Blank-node ids change when a page is parsed again: find the record by its identifier instead.
        for node in finder(graph):
            if remote_id_of(graph, node) == item.remote_id or (item.kind == "dataservice" and str(node) == item.remote_id):
                return graph, node
        raise HarvestValidationError(f"record {item.remote_id} is no longer on page {page + 1} of the catalogue")

    # ------------------------------------------------------------ listing
    def initialize(self) -> None:
        """Walk every page: datasets first, page by page, then the dataservices of every page."""
        url: str | None = self.source.url
        fmt = self.detect_format(url)
        token = uuid.uuid4().hex
        self.job_data.update({"token": token, "format": fmt, "pages": []})
        graphs: list[Graph] = []
        seen: set[str] = set()
        truncated = False
        while url and url not in seen:
            if len(graphs) >= self.max_pages:
                raise HarvestException(
                    f'stopped after {self.max_pages} pages (config "max_pages"): {url} was not fetched'
                )
            seen.add(url)
            graph = self.load_page(url, fmt)
            page = len(graphs)
            graphs.append(graph)
            self.job_data["pages"].append(url)
            PAGE_CACHE.put(token, page, graph)
            for node in dataset_nodes(graph):
                if self.has_reached_max_items():
                    truncated = True
                    break
                self.add_item(remote_id_of(graph, node), kind="dataset", page=page, node=node_key(node))
            following = next_page_url(graph)
            url = urljoin(url, following) if following else None
            if truncated or (url and url not in seen and self.has_reached_max_items()):
                truncated = True
                break
        if not truncated:
            for page, graph in enumerate(graphs):  # second pass: a service may serve datasets of any page
                for node in dataservice_nodes(graph):
                    if self.has_reached_max_items():
                        truncated = True
                        break
                    remote_id = remote_id_of(graph, node) or (str(node) if isinstance(node, URIRef) else None)
                    self.add_item(remote_id, kind="dataservice", page=page, node=node_key(node))
        if truncated and not self.dry_run:
            self.add_job_error(f"{self.max_items} max items reached, not all datasets/dataservices were retrieved")

    # ------------------------------------------------------------ mapping
    def process_dataset(self, item: ItemRef, dataset: DatasetRecord) -> DatasetRecord:
        """Map the dataset node of this item onto the (new or existing) dataset."""
        graph, node = self._locate(item, dataset_nodes)
        return dataset_from_rdf(graph, node, dataset, licenses=self.licenses, **self.mapping_options())

    def process_dataservice(
        self, item: ItemRef, dataservice: DataserviceRecord, dataset_ids: dict[str, str]
    ) -> DataserviceRecord:
        """Map the dataservice node of this item and link the datasets of this job it serves."""
        graph, node = self._locate(item, dataservice_nodes)
        return dataservice_from_rdf(
            graph, node, dataservice, dataset_ids=dataset_ids, licenses=self.licenses, **self.mapping_options()
        )

    def finalize(self) -> None:
        """Forget the parsed pages of this job."""
        token = self.job_data.get("token")
        if token:
            PAGE_CACHE.drop(token)


__all__ = ["DcatBackend", "PAGE_CACHE", "node_from_key", "node_key"]
