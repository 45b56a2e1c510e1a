"""Fast page parsing with Oxigraph (Rust): its triples land in a light read-only graph the mapping reads directly."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from dataspace_assets.harvest.dcat.namespaces import KNOWN_TERMS

# Formats Oxigraph reads as well as rdflib does; JSON-LD and TriX stay with rdflib (offline context inlining).
OX_FORMATS = {
    "xml": ox.RdfFormat.RDF_XML,
    "turtle": ox.RdfFormat.TURTLE,
    "n3": ox.RdfFormat.N3,
    "nt": ox.RdfFormat.N_TRIPLES,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
}
MAX_KNOWN_TERMS = 5_000
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_VALUE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#value")

_EMPTY: dict = {}  # shared "nothing there" answer; never written to
_Props = dict[Node, dict[Node, None]]  # predicate -> objects, as an ordered set (an RDF graph has no duplicates)


class _Unsupported(Exception):
    """An N3 variable, a formula or an RDF-star triple: rdflib reads that page instead."""


class TripleGraph:
    """A read-only RDF graph indexed by subject (and by object on demand) holding rdflib terms.

    It answers the questions the DCAT mapping asks (`objects`, `value`, `subjects` ...) with the same
    results and order as an rdflib Graph of the same page, without rdflib's triple store.
    """

    def __init__(self) -> None:
        self._spo: dict[Node, _Props] = {}
        self._ops: dict[Node, _Props] | None = None
        self._by_predicate: dict[Node, dict[Node, dict[Node, None]]] = {}  # predicate -> object -> subjects
        self._size = 0
        self._keys: dict[Node, Node] | None = None

    # ------------------------------------------------------------ building
    def add(self, triple: tuple[Node, Node, Node]) -> None:
        """Add one triple (a duplicate is ignored)."""
        self.add_all((triple,))

    def add_all(self, triples: Iterable[tuple[Node, Node, Node]]) -> None:
        """Add triples (duplicates are ignored); the loop a whole page goes through, so no call per triple."""
        spo, added = self._spo, 0
        for s, p, o in triples:
            props = spo.get(s)
            if props is None:
                props = spo[s] = {}
            objects = props.get(p)
            if objects is None:
                objects = props[p] = {}
            if o not in objects:
                objects[o] = None
                added += 1
        if added:
            self._size += added
            self._ops = self._keys = None
            self._by_predicate.clear()

    def _reverse(self) -> dict[Node, _Props]:
        if self._ops is None:
            ops: dict[Node, _Props] = {}
            for s, props in self._spo.items():
                for p, objects in props.items():
                    for o in objects:
                        ops.setdefault(o, {}).setdefault(p, {})[s] = None
            self._ops = ops
        return self._ops

    def _subjects_of(self, predicate: Node) -> dict[Node, dict[Node, None]]:
        """Object -> subjects for one predicate, built on first use (the mapping asks a handful of predicates)."""
        index = self._by_predicate.get(predicate)
        if index is None:
            index = {}
            for s, props in self._spo.items():
                for o in props.get(predicate, _EMPTY):
                    index.setdefault(o, {})[s] = None
            self._by_predicate[predicate] = index
        return index

    def canonical(self, node: Node) -> Node:
        """The graph's own object for an equal subject: lookups by it match by identity (rdflib's equality is slow)."""
        if self._keys is None:
            self._keys = {key: key for key in self._spo}
        return self._keys.get(node, node)

    # ------------------------------------------------------------ reading (rdflib's Graph API subset)
    def props(self, subject: Node) -> dict[Node, dict[Node, None]]:
        """Predicate -> objects of one subject (empty when it has none)."""
        return self._spo.get(subject, {})

    def triples(self, pattern: tuple[Node | None, Node | None, Node | None]) -> Iterator[tuple[Node, Node, Node]]:
        """Every triple matching a pattern (None matches anything)."""
        s, p, o = pattern
        if s is not None:
            props = self._spo.get(s, {})
            for pred in [p] if p is not None else list(props):
                for obj in props.get(pred, ()):
                    if o is None or obj == o:
                        yield s, pred, obj
            return
        if p is not None:  # (None, p, o) and (None, p, None): the predicate's own index, not the full reverse
            index = self._subjects_of(p)
            for obj, subjects in ([(o, index.get(o, _EMPTY))] if o is not None else list(index.items())):
                for subj in subjects:
                    yield subj, p, obj
            return
        if o is not None:
            props = self._reverse().get(o, {})
            for pred in [p] if p is not None else list(props):
                for subj in props.get(pred, ()):
                    yield subj, pred, o
            return
        for subj, props in self._spo.items():
            for pred in [p] if p is not None else list(props):
                for obj in props.get(pred, ()):
                    yield subj, pred, obj

    def objects(self, subject: Node | None = None, predicate: Node | None = None, unique: bool = False) -> Iterator[Node]:
        if subject is not None and predicate is not None:
            return iter(self._spo.get(subject, _EMPTY).get(predicate, _EMPTY))  # read-only: iterating is safe
        found = (o for _s, _p, o in self.triples((subject, predicate, None)))
        return iter(dict.fromkeys(found)) if unique else found

    def subjects(self, predicate: Node | None = None, object: Node | None = None, unique: bool = False) -> Iterator[Node]:  # noqa: A002
        found = (s for s, _p, _o in self.triples((None, predicate, object)))
        return iter(dict.fromkeys(found)) if unique else found

    def predicates(self, subject: Node | None = None, object: Node | None = None, unique: bool = False) -> Iterator[Node]:  # noqa: A002
        found = (p for _s, p, _o in self.triples((subject, None, object)))
        return iter(dict.fromkeys(found)) if unique else found

    def predicate_objects(self, subject: Node | None = None, unique: bool = False) -> Iterator[tuple[Node, Node]]:
        return ((p, o) for _s, p, o in self.triples((subject, None, None)))

    def subject_objects(self, predicate: Node | None = None, unique: bool = False) -> Iterator[tuple[Node, Node]]:
        return ((s, o) for s, _p, o in self.triples((None, predicate, None)))

    def subject_predicates(self, object: Node | None = None, unique: bool = False) -> Iterator[tuple[Node, Node]]:  # noqa: A002
        return ((s, p) for s, p, _o in self.triples((None, None, object)))

    def value(self, subject=None, predicate=RDF_VALUE, object=None, default=None, any=True):  # noqa: A002, ANN001, ANN201
        """The first object (or subject, when the object is given) of a pattern, else `default`."""
        if subject is None and object is None or predicate is None:
            return default
        if object is None:
            for found in self._spo.get(subject, _EMPTY).get(predicate, _EMPTY):
                return found
            return default
        for found in self._subjects_of(predicate).get(object, _EMPTY):
            if subject is None or found == subject:
                return found
        return default

    def __contains__(self, triple: tuple) -> bool:
        for _ in self.triples(triple):
            return True
        return False

    def __iter__(self) -> Iterator[tuple[Node, Node, Node]]:
        return self.triples((None, None, None))

    def __len__(self) -> int:
        return self._size


def _converter(*, register: bool = False):  # noqa: ANN202
    """A function turning Oxigraph terms into rdflib terms, each distinct term made once.

    With `register`, new IRIs join KNOWN_TERMS (bounded), so vocabulary terms the mapping names later are
    these very objects: used for predicates only, a small set, never a catalogue's own IRIs.
    """
    cache: dict = {}
    named, blank, literal = ox.NamedNode, ox.BlankNode, ox.Literal

    def convert(term):  # noqa: ANN001, ANN202
        found = cache.get(term)
        if found is not None:
            return found
        kind = type(term)
        if kind is named:
            value = term.value
            found = KNOWN_TERMS.get(value)
            if found is None:
                found = URIRef(value)
                if register and len(KNOWN_TERMS) < MAX_KNOWN_TERMS:  # bounded: a hostile page cannot grow it forever
                    KNOWN_TERMS[value] = found
        elif kind is blank:
            found = BNode(term.value)
        elif kind is literal:
            language = term.language
            if language:
                found = Literal(term.value, lang=language)
            else:
                datatype = term.datatype.value
                # rdflib keeps an untyped literal untyped; Oxigraph reports it as xsd:string.
                found = Literal(term.value) if datatype == XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
        else:
            raise _Unsupported(type(term).__name__)
        cache[term] = found
        return found

    return convert


def parse_with_oxigraph(
    data: bytes, fmt: str, *, base: str | None, url: str = "", max_triples: int | None = None
) -> TripleGraph | None:
    """The page as a TripleGraph, or None when Oxigraph cannot read it (rdflib then tries, and names the error).

    More than `max_triples` triples stops the parse with the same error as rdflib's bounded store.
    """
    from dataspace_assets.harvest.dcat.guards import TripleLimitExceeded

    ox_format = OX_FORMATS.get(fmt)
    if ox_format is None:
        return None
    graph = TripleGraph()
    convert, predicate = _converter(), _converter(register=True)
    n3, default = fmt == "n3", ox.DefaultGraph

    def triples() -> Iterator[tuple[Node, Node, Node]]:
        # lenient: IRIs are taken as written, as rdflib does (catalogues carry spaces and bare identifiers).
        for count, quad in enumerate(ox.parse(data, ox_format, base_iri=base or None, lenient=True), start=1):
            if n3 and type(quad.graph_name) is not default:
                raise _Unsupported("N3 formula")
            if max_triples is not None and count > max_triples:
                raise TripleLimitExceeded.on_page(url, max_triples)
            yield convert(quad.subject), predicate(quad.predicate), convert(quad.object)

    # The graph is ~100,000 terms and dicts made in a burst, none of them in a cycle: with the collector on,
    # each full collection the burst triggers walks every one made so far (~25 % of the parse).
    collecting = gc.isenabled()
    gc.disable()
    try:
        graph.add_all(triples())
    except (SyntaxError, ValueError, _Unsupported):
        return None
    finally:
        if collecting:
            gc.enable()
    return graph


def is_graph(value: object) -> bool:
    """Whether a value is a parsed page (either parser's graph)."""
    from rdflib import Graph

    return isinstance(value, (Graph, TripleGraph))


__all__ = ["OX_FORMATS", "TripleGraph", "is_graph", "parse_with_oxigraph"]
