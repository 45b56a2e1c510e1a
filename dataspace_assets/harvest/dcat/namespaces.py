"""RDF vocabularies the DCAT mapping reads."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD

DCT = DCTERMS
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SCHEMA = Namespace("http://schema.org/")
SCHEMA_S = Namespace("https://schema.org/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
GEODCAT = Namespace("http://data.europa.eu/930/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
SCV = Namespace("http://purl.org/NET/scovo#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
CSW = Namespace("http://www.opengis.net/cat/csw/2.0.2")
# Terms rdflib's closed DCAT namespace does not know (a DCAT 3 class, and a common misspelling).
DCAT_DATASET_SERIES = URIRef("http://www.w3.org/ns/dcat#DatasetSeries")
DCAT_DISTRIBUTIONS = URIRef("http://www.w3.org/ns/dcat#distributions")

__all__ = [
    "ADMS", "CSW", "DCAT_DATASET_SERIES", "DCAT_DISTRIBUTIONS", "DCAT", "DCT", "DQV", "FOAF", "GEODCAT", "GSP", "HYDRA", "LOCN", "OWL", "RDF", "RDFS",
    "SCHEMA", "SCHEMA_S", "SCV", "SKOS", "SPDX", "VCARD", "XSD",
]
