"""RDF vocabularies the DCAT mapping reads."""

from __future__ import annotations

from rdflib import URIRef


# Every term the mapping names, by IRI: the Oxigraph page reuses these very objects, so the mapping's
# dictionary lookups match by identity instead of calling rdflib's (Python-level) term equality.
KNOWN_TERMS: dict[str, URIRef] = {}


class Vocabulary:
    """Terms of one RDF vocabulary (`DCAT.title`, `VCARD["hasEmail"]`), each made once and then cached."""

    # rdflib's namespaces build (and for closed ones, check) a URIRef on every attribute access; the
    # mapping asks ~60 of them per dataset, so a plain cached attribute saves a tenth of mapping time.

    def __init__(self, base: str) -> None:
        self._base = base

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("_"):  # dunders and our own `_base` (while unpickling) are not terms
            raise AttributeError(name)
        term = KNOWN_TERMS.setdefault(self._base + name, URIRef(self._base + name))
        setattr(self, name, term)
        return term

    def __getitem__(self, name: str) -> URIRef:
        return getattr(self, name)

    def __str__(self) -> str:
        return self._base


DCAT = Vocabulary("http://www.w3.org/ns/dcat#")
DCT = DCTERMS = Vocabulary("http://purl.org/dc/terms/")
FOAF = Vocabulary("http://xmlns.com/foaf/0.1/")
OWL = Vocabulary("http://www.w3.org/2002/07/owl#")
RDF = Vocabulary("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Vocabulary("http://www.w3.org/2000/01/rdf-schema#")
SKOS = Vocabulary("http://www.w3.org/2004/02/skos/core#")
XSD = Vocabulary("http://www.w3.org/2001/XMLSchema#")
VCARD = Vocabulary("http://www.w3.org/2006/vcard/ns#")
SCHEMA = Vocabulary("http://schema.org/")
SCHEMA_S = Vocabulary("https://schema.org/")
SPDX = Vocabulary("http://spdx.org/rdf/terms#")
HYDRA = Vocabulary("http://www.w3.org/ns/hydra/core#")
GEODCAT = Vocabulary("http://data.europa.eu/930/")
LOCN = Vocabulary("http://www.w3.org/ns/locn#")
GSP = Vocabulary("http://www.opengis.net/ont/geosparql#")
DQV = Vocabulary("http://www.w3.org/ns/dqv#")
SCV = Vocabulary("http://purl.org/NET/scovo#")
ADMS = Vocabulary("http://www.w3.org/ns/adms#")
CSW = Vocabulary("http://www.opengis.net/cat/csw/2.0.2")

__all__ = [
    "ADMS", "CSW", "DCAT", "DCT", "DQV", "FOAF", "GEODCAT", "GSP", "HYDRA", "LOCN", "OWL", "RDF", "RDFS",
    "SCHEMA", "SCHEMA_S", "SCV", "SKOS", "SPDX", "VCARD", "Vocabulary", "XSD",
]
