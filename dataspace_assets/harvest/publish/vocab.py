"""The RDF terms the publication writes, as pyoxigraph nodes made once."""

from __future__ import annotations

from pyoxigraph import NamedNode


class Terms:
    """Terms of one vocabulary (`DCAT.title`), each NamedNode made on first use and then cached."""

    def __init__(self, base: str) -> None:
        self._base = base

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("_"):
            raise AttributeError(name)
        term = NamedNode(self._base + name)
        setattr(self, name, term)
        return term

    def __getitem__(self, name: str) -> NamedNode:
        return getattr(self, name)

    def __str__(self) -> str:
        return self._base


ADMS = Terms("http://www.w3.org/ns/adms#")
DCAT = Terms("http://www.w3.org/ns/dcat#")
DCT = Terms("http://purl.org/dc/terms/")
DQV = Terms("http://www.w3.org/ns/dqv#")
FOAF = Terms("http://xmlns.com/foaf/0.1/")
GEODCAT = Terms("http://data.europa.eu/930/")
GSP = Terms("http://www.opengis.net/ont/geosparql#")
HYDRA = Terms("http://www.w3.org/ns/hydra/core#")
LOCN = Terms("http://www.w3.org/ns/locn#")
PROV = Terms("http://www.w3.org/ns/prov#")
RDF = Terms("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Terms("http://www.w3.org/2000/01/rdf-schema#")
SKOS = Terms("http://www.w3.org/2004/02/skos/core#")
SPDX = Terms("http://spdx.org/rdf/terms#")
VCARD = Terms("http://www.w3.org/2006/vcard/ns#")
XSD = Terms("http://www.w3.org/2001/XMLSchema#")

PREFIXES = {
    "adms": str(ADMS),
    "dcat": str(DCAT),
    "dct": str(DCT),
    "dqv": str(DQV),
    "foaf": str(FOAF),
    "geodcat": str(GEODCAT),
    "gsp": str(GSP),
    "hydra": str(HYDRA),
    "locn": str(LOCN),
    "prov": str(PROV),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "spdx": str(SPDX),
    "vcard": str(VCARD),
    "xsd": str(XSD),
}
