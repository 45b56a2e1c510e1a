"""Our cached vocabularies name exactly the terms rdflib's namespaces name."""

from __future__ import annotations

import copy
import pickle

import pytest
from rdflib import URIRef
from rdflib import namespace as rdflib_ns

from dataspace_assets.harvest.dcat import namespaces as ours


@pytest.mark.parametrize(
    ("vocabulary", "reference", "term"),
    [
        (ours.DCAT, rdflib_ns.DCAT, "distribution"),
        (ours.DCT, rdflib_ns.DCTERMS, "title"),
        (ours.FOAF, rdflib_ns.FOAF, "mbox"),
        (ours.RDF, rdflib_ns.RDF, "type"),
        (ours.SKOS, rdflib_ns.SKOS, "prefLabel"),
        (ours.XSD, rdflib_ns.XSD, "dateTime"),
        (ours.OWL, rdflib_ns.OWL, "sameAs"),
        (ours.RDFS, rdflib_ns.RDFS, "label"),
    ],
)
def test_terms_match_rdflib(vocabulary, reference, term: str) -> None:
    assert getattr(vocabulary, term) == getattr(reference, term)
    assert vocabulary[term] == reference[term]
    assert type(getattr(vocabulary, term)) is URIRef


def test_terms_are_made_once_and_open_to_any_name() -> None:
    assert ours.DCAT.title is ours.DCAT.title
    # A DCAT 3 class and a misspelling real catalogues use: rdflib's closed namespace refuses both.
    assert ours.DCAT.DatasetSeries == URIRef("http://www.w3.org/ns/dcat#DatasetSeries")
    assert ours.DCAT.distributions == URIRef("http://www.w3.org/ns/dcat#distributions")
    assert str(ours.VCARD) == "http://www.w3.org/2006/vcard/ns#"


def test_vocabularies_copy_and_pickle_like_plain_objects() -> None:
    # Dunder lookups must not be turned into terms, or copy/pickle would break.
    with pytest.raises(AttributeError):
        ours.DCAT.__deepcopy__  # noqa: B018
    assert pickle.loads(pickle.dumps(ours.DCT)).title == ours.DCT.title
    assert copy.deepcopy(ours.FOAF).name == ours.FOAF.name
