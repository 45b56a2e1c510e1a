"""Keywords and themes → normalised tags, with the INSPIRE and High-Value-Dataset markers (spec 2.4)."""

from __future__ import annotations

import functools
import logging

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from dataspace_assets.harvest.dcat.namespaces import DCAT, DCT, SKOS
from dataspace_assets.harvest.slugs import slugify

log = logging.getLogger("dataspace_assets.harvest")

MIN_TAG_LENGTH = 3
MAX_TAG_LENGTH = 96
HVD_TAG = "hvd"
INSPIRE_TAG = "inspire"
# The six EU High-Value-Dataset categories, with their French labels.
HVD_CATEGORIES = {
    "http://data.europa.eu/bna/c_ac64a52d": "Données géospatiales",
    "http://data.europa.eu/bna/c_dd313021": "Observation de la terre et environnement",
    "http://data.europa.eu/bna/c_164e0bf5": "Météorologiques",
    "http://data.europa.eu/bna/c_e1da4e07": "Statistiques",
    "http://data.europa.eu/bna/c_a9135398": "Entreprises et propriété d'entreprises",
    "http://data.europa.eu/bna/c_b79e35eb": "Mobilité",
}
INSPIRE_THEME_PREFIX = "http://inspire.ec.europa.eu/theme"
INSPIRE_SCHEMES = {"http://inspire.ec.europa.eu/theme", "https://inspire.ec.europa.eu/theme"}
INSPIRE_SCHEME_TITLE = "GEMET - INSPIRE themes, version 1.0"
_APOSTROPHES = [["'", ""], ["’", ""], ["`", ""]]


@functools.lru_cache(maxsize=8192)  # catalogues repeat their keywords: slugify each once
def normalize_tag(text: str) -> str | None:
    """Lower-case slug of a tag (apostrophes dropped), cut at 96 characters; None when shorter than 3."""
    tag = slugify(text, replacements=_APOSTROPHES)
    if len(tag) < MIN_TAG_LENGTH:
        return None
    return tag[:MAX_TAG_LENGTH].strip("-")


def _is_inspire(graph: Graph, theme: Node) -> bool:
    if isinstance(theme, URIRef) and str(theme).startswith(INSPIRE_THEME_PREFIX):
        return True
    for scheme in graph.objects(theme, SKOS.inScheme):
        if str(scheme) in INSPIRE_SCHEMES:
            return True
        if any(str(t).strip() == INSPIRE_SCHEME_TITLE for t in graph.objects(scheme, DCT.title)):
            return True
    return False


def tags_from_rdf(graph: Graph, node: Node, *, hvd_support: bool = True, inspire_support: bool = True) -> list[str]:
    """Sorted, de-duplicated tags from dcat:keyword literals and dcat:theme labels."""
    raw: list[str] = []
    for keyword in graph.objects(node, DCAT.keyword):
        if isinstance(keyword, Literal):
            raw.append(str(keyword))
        else:
            log.warning("keyword %s is not a literal: ignored", keyword)
    for theme in graph.objects(node, DCAT.theme):
        if isinstance(theme, Literal):
            raw.append(str(theme))
            continue
        raw.extend(str(label) for label in graph.objects(theme, SKOS.prefLabel))
        if hvd_support and str(theme) in HVD_CATEGORIES:
            raw += [HVD_CATEGORIES[str(theme)], HVD_TAG]
        if inspire_support and _is_inspire(graph, theme):
            raw.append(INSPIRE_TAG)
    tags = {tag for tag in (normalize_tag(t) for t in raw) if tag}
    return sorted(tags)
