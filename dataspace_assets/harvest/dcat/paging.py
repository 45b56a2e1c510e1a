"""Hydra paging: current `PartialCollectionView/next` and legacy `PagedCollection/nextPage` (spec 2.2)."""

from __future__ import annotations

from rdflib import Graph

from dataspace_assets.harvest.dcat.namespaces import HYDRA, RDF

PAGINATION = ((HYDRA.PartialCollectionView, HYDRA.next), (HYDRA.PagedCollection, HYDRA.nextPage))


def next_page_url(graph: Graph) -> str | None:
    """The next page's URL (an IRI or a literal), or None on the last page; the first match wins."""
    for cls, predicate in PAGINATION:
        for node in graph.subjects(RDF.type, cls):
            value = graph.value(node, predicate)
            if value is not None and str(value).strip():
                return str(value).strip()
    return None
