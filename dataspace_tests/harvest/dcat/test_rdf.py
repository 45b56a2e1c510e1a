"""Format detection, hardened XML and offline JSON-LD contexts."""

from __future__ import annotations

import pytest

from dataspace_assets.harvest.backends.base import HarvestException
from dataspace_assets.harvest.dcat.paging import next_page_url
from dataspace_assets.harvest.dcat.rdf import (
    RdfParseError,
    check_xml_safe,
    format_from_mime,
    format_from_url,
    inline_jsonld_contexts,
    parse_graph,
)

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">
  <rdf:Description rdf:about="http://ex.test/ds"><dct:title>&secret;</dct:title></rdf:Description>
</rdf:RDF>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>"""


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("http://x.test/catalog.xml", "xml"),
        ("http://x.test/catalog.rdf", "xml"),
        ("http://x.test/d.rdf.xml", "xml"),
        ("http://x.test/catalog.ttl", "turtle"),
        ("http://x.test/catalog.n3", "n3"),
        ("http://x.test/catalog.nt", "nt"),
        ("http://x.test/catalog.trig", "trig"),
        ("http://x.test/catalog.json", "json-ld"),
        ("http://x.test/catalog.jsonld", "json-ld"),
        ("http://x.test/catalog.xml?page=2", None),
        ("http://x.test/catalog", None),
        ("http://x.test/", None),
    ],
)
def test_format_from_url(url: str, fmt: str | None) -> None:
    assert format_from_url(url) == fmt


@pytest.mark.parametrize(
    ("mime", "fmt"),
    [
        ("application/xml; charset=utf-8", "xml"),
        ("application/rdf+xml", "xml"),
        ("text/turtle", "turtle"),
        ("application/x-turtle", "turtle"),
        ("text/n3", "n3"),
        ("application/n-triples", "nt"),
        ("application/ld+json; profile=x", "json-ld"),
        ("application/json", "json-ld"),
        ("application/trig", "trig"),
    ],
)
def test_format_from_mime(mime: str, fmt: str) -> None:
    assert format_from_mime(mime) == fmt


def test_format_from_unknown_or_empty_mime() -> None:
    with pytest.raises(HarvestException, match='^Unsupported mime type "text/html"$'):
        format_from_mime("text/html; charset=utf-8")
    with pytest.raises(HarvestException, match="^Unable to detect format from extension or mime type$"):
        format_from_mime("")


def test_dtd_and_entities_are_refused_before_parsing() -> None:
    for data in (XXE, LAUGHS):
        with pytest.raises(RdfParseError, match="DTD or entity declarations is refused"):
            check_xml_safe(data, "http://x.test/c.xml")
        with pytest.raises(RdfParseError, match=r"^http://x.test/c.xml: XML with a DTD"):
            parse_graph(data, "xml", url="http://x.test/c.xml")


def test_an_external_dtd_without_entities_is_refused() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF SYSTEM "http://evil.test/x.dtd">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>"""
    with pytest.raises(RdfParseError, match=r"^http://x.test/c.xml: XML with a DTD or entity declarations is refused"):
        check_xml_safe(data, "http://x.test/c.xml")


def test_plain_rdf_xml_passes_the_check() -> None:
    graph = parse_graph(XXE.replace(b'<!DOCTYPE rdf:RDF [<!ENTITY secret SYSTEM "file:///etc/passwd">]>', b"").replace(
        b"&secret;", b"ok"), "xml", url="http://x.test/c.xml")
    assert len(graph) == 1


def test_parse_errors_name_the_url() -> None:
    with pytest.raises(RdfParseError, match=r"^Failed to parse http://x.test/c.ttl as turtle: "):
        parse_graph(b"this is not turtle", "turtle", url="http://x.test/c.ttl")
    with pytest.raises(RdfParseError, match=r'unsupported RDF format "rdfa"'):
        parse_graph(b"<html/>", "rdfa", url="http://x.test/c.html")


def test_remote_contexts_are_inlined_through_the_given_fetcher() -> None:
    asked = []

    def fetch(url: str) -> dict:
        asked.append(url)
        return {"@context": {"title": "http://purl.org/dc/terms/title"}}

    doc = {"@context": "https://ctx.test/c.jsonld", "@id": "http://ex.test/a", "title": "A",
           "nested": {"@context": ["https://ctx.test/c.jsonld", {"x": "http://x/"}]}}
    inlined = inline_jsonld_contexts(doc, fetch)
    assert inlined["@context"] == {"title": "http://purl.org/dc/terms/title"}
    assert inlined["nested"]["@context"][1] == {"x": "http://x/"}
    assert asked == ["https://ctx.test/c.jsonld", "https://ctx.test/c.jsonld"]
    import json

    graph = parse_graph(json.dumps(doc).encode(), "json-ld", url="http://ex.test/", fetch_context=fetch)
    assert len(graph) == 1


def test_paging_current_and_legacy(load_graph) -> None:
    assert next_page_url(load_graph("udata/dcat/partial-collection-1.jsonld")) == "http://data.test.org/catalog.jsonld?page=2"
    assert next_page_url(load_graph("udata/dcat/partial-collection-2.jsonld")) is None
    assert next_page_url(load_graph("udata/dcat-historical/ckan.ttl")) == "http://demo.ckan.org/catalog.ttl?page=2"
    assert next_page_url(load_graph("udata/dcat-historical/ckan.rdf")) == "http://demo.ckan.org/catalog.rdf?page=2"
    assert next_page_url(load_graph("udata/dcat/flat.jsonld")) is None


def test_a_blank_next_page_ends_the_paging() -> None:
    def paging(next_value: str) -> str | None:
        text = f"""@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
            <http://x.test/c?page=1> a hydra:PartialCollectionView ; hydra:next {next_value} ."""
        return next_page_url(parse_graph(text.encode(), "turtle", url="http://x.test/c"))

    assert paging('"   "') is None
    assert paging('""') is None
    assert paging('" http://x.test/c?page=2 "') == "http://x.test/c?page=2"
    assert paging("<http://x.test/c?page=2>") == "http://x.test/c?page=2"
