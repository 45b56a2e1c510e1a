"""Loading a catalogue page into an RDF graph: format detection, hardened XML, offline JSON-LD contexts."""

from __future__ import annotations

import json
import logging
import xml.parsers.expat
from collections.abc import Callable
from typing import Any

from rdflib import Graph
from rdflib.util import guess_format

from dataspace_assets.harvest.backends.base import HarvestException
from dataspace_assets.harvest.dcat.guards import bounded_graph, resolve_jsonld_contexts
from dataspace_assets.harvest.dcat.oxigraph import OX_FORMATS, parse_with_oxigraph

# rdflib's extension table plus udata's additions (spec 2.1).
EXTRA_EXTENSIONS = {"json": "json-ld", "jsonld": "json-ld", "xml": "xml"}
MIME_FORMATS = {
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/n3": "n3",
    "application/x-turtle": "turtle",
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "application/trig": "trig",
}
PARSABLE = {"xml", "turtle", "n3", "nt", "trig", "json-ld", "nquads", "trix"}

# Dead contexts rewritten before parsing (ArcGIS Project Open Data catalogs reference the first one).
URIS_TO_REPLACE = {
    "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld": (
        "https://gist.githubusercontent.com/maudetes/f019586185d6f59dcfb07f97148a1973/raw/"
        "585c3c7bf602b5a4e635b137257d0619792e2c1f/gistfile1.txt"
    )
}


# rdflib logs a full traceback for every malformed typed literal (e.g. "2016"^^xsd:date); the mapping reads
# such values itself and reports what it cannot use, so the noise is silenced.
logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)


class RdfParseError(HarvestException):
    """A catalogue page could not be parsed."""


def format_from_url(url: str) -> str | None:
    """The rdflib format of a URL's extension, when the extension ends the URL."""
    extension = url.rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower() if "." in url.rsplit("/", 1)[-1] else ""
    if extension in EXTRA_EXTENSIONS:
        return EXTRA_EXTENSIONS[extension]
    return guess_format(url)


def format_from_mime(content_type: str | None) -> str:
    """The rdflib format of a Content-Type header (parameters ignored); raises on an empty or unknown type."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if not mime:
        raise HarvestException("Unable to detect format from extension or mime type")
    if mime not in MIME_FORMATS:
        raise HarvestException(f'Unsupported mime type "{mime}"')
    return MIME_FORMATS[mime]


class _Stop(Exception):
    pass


def check_xml_safe(data: bytes, url: str) -> None:
    """Refuse XML that declares a DTD or entities before handing it to a parser (no XXE, no entity bombs)."""

    def refuse_dtd(*_args: Any) -> None:
        raise RdfParseError(f"{url}: XML with a DTD or entity declarations is refused (DTDs and entities are disabled)")

    def stop(*_args: Any) -> None:
        raise _Stop

    parser = xml.parsers.expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_dtd  # type: ignore[assignment]
    parser.StartElementHandler = stop  # a DTD can only come before the root element: stop there
    try:
        parser.Parse(data, True)
    except _Stop:
        return
    except xml.parsers.expat.ExpatError as exc:
        raise RdfParseError(f"{url}: invalid XML: {exc}") from exc


def inline_jsonld_contexts(document: Any, fetch_context: Callable[[str], Any] | None, *, url: str = "") -> Any:
    """Replace every context reference (scoped, `@import`, nested too) by the fetched context: rdflib never fetches."""
    return resolve_jsonld_contexts(document, fetch_context, url=url)


def parse_graph(
    data: bytes,
    fmt: str,
    *,
    url: str,
    fetch_context: Callable[[str], Any] | None = None,
    max_triples: int | None = None,
    resolve_relative: bool = True,
    parser: str = "auto",
) -> Graph:
    """Parse one page into a graph; any failure is a job-level error naming the URL.

    Oxigraph reads it first when it can (`parser="auto"`), rdflib otherwise or when Oxigraph fails;
    `resolve_relative=False` keeps relative IRIs as written (CSW records: udata invents no address).
    """
    if fmt not in PARSABLE:
        raise RdfParseError(f'{url}: unsupported RDF format "{fmt}"')
    base = url if resolve_relative else None
    if parser == "auto" and fmt in OX_FORMATS:
        if fmt == "xml":
            check_xml_safe(data, url)  # before Oxigraph, which expands internal entities
        fast = parse_with_oxigraph(data, fmt, base=base, url=url, max_triples=max_triples)
        if fast is not None:
            return fast  # type: ignore[return-value]  # reads like a Graph for everything the mapping asks
    graph = bounded_graph(max_triples, url)
    try:
        if fmt in ("xml", "trix"):
            check_xml_safe(data, url)
            graph.parse(data=data, format=fmt, publicID=base)
        elif fmt == "json-ld":
            text = data.decode("utf-8-sig")
            for old, new in URIS_TO_REPLACE.items():
                text = text.replace(old, new)
            document = json.loads(text)
            document = inline_jsonld_contexts(document, fetch_context, url=url)
            graph.parse(data=json.dumps(document), format="json-ld", base=url)
        else:
            graph.parse(data=data, format=fmt, publicID=base)
    except HarvestException:
        raise
    except Exception as exc:  # rdflib raises many types (SAXParseException, BadSyntax, JSONDecodeError ...)
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise RdfParseError(f"Failed to parse {url} as {fmt}: {message[:500]}") from exc
    return graph


__all__ = [
    "MIME_FORMATS",
    "RdfParseError",
    "URIS_TO_REPLACE",
    "check_xml_safe",
    "format_from_mime",
    "format_from_url",
    "inline_jsonld_contexts",
    "parse_graph",
]
