"""Oxigraph and rdflib give the same catalogue for every RDF fixture, field by field."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
from rdflib import BNode

from dataspace_assets.harvest.backends.csw import CSW_NS, parse_csw_xml
from dataspace_assets.harvest.dcat.mapping import (
    dataservice_from_rdf,
    dataservice_nodes,
    dataset_from_rdf,
    dataset_nodes,
    remote_id_of,
)
from dataspace_assets.harvest.dcat.oxigraph import TripleGraph, parse_with_oxigraph
from dataspace_assets.harvest.dcat.paging import next_page_url
from dataspace_assets.harvest.dcat.rdf import format_from_url, parse_graph

RDF_FIXTURES = [
    "udata/dcat/bnodes.xml",
    "udata/dcat/catalog.xml",
    "udata/dcat/geonetwork.xml",
    "udata/dcat/series.xml",
    "udata/dcat/datara--5a26b0f6-0ccf-46ad-ac58-734054b91977.rdf.xml",
    "udata/dcat-historical/ckan.ttl",
    "udata/dcat-historical/ckan.rdf",
    *[f"ckanext-dcat/examples/dcat/{name}" for name in (
        "catalog.rdf", "catalog_datasets_list.rdf", "dataset.rdf", "dataset_afs.ttl", "dataset_deri.ttl",
        "dataset_gov_de.rdf", "dataset_health.ttl", "dataset_multilingual.ttl",
    )],
]
CSW_FIXTURES = [f"udata/csw_dcat/geonetwork-dcat-page-{n}.xml" for n in (1, 3, 5)]
VOLATILE = {"last_update"}
# Pages Oxigraph refuses and rdflib reads (the fallback): GeoNetwork writes text inside `rdf:resource` elements.
RDFLIB_ONLY = {"udata/dcat/geonetwork.xml"}  # "now" at mapping time


def _plain(value, bnodes: set[str]):  # noqa: ANN001, ANN202
    """A record as nested dicts without the mapping-time stamps; blank-node ids (parser-made) as `_:`."""
    if isinstance(value, dict):
        return {k: _plain(v, bnodes) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_plain(v, bnodes) for v in value]
    if isinstance(value, str) and value in bnodes:
        return "_:"  # the format quirk: an unlabelled blank node gives its generated id
    return value


def _catalogue(graph) -> dict:  # noqa: ANN001
    """Every dataset and dataservice a page gives, by remote id (a blank node without one by its title)."""
    out: dict = {}
    datasets = {}
    bnodes = {str(t).lower() for triple in graph for t in triple if isinstance(t, BNode)}
    for node in dataset_nodes(graph):
        record = dataset_from_rdf(graph, node)
        key = remote_id_of(graph, node) or record.title
        datasets[key] = "ds-" + str(key)
        out[f"dataset {key}"] = _plain(asdict(record), bnodes)
    for node in dataservice_nodes(graph):
        record = dataservice_from_rdf(graph, node, dataset_ids=datasets)
        out[f"dataservice {remote_id_of(graph, node) or record.title}"] = _plain(asdict(record), bnodes)
    out["next page"] = next_page_url(graph)
    return out


def _both(data: bytes, fmt: str, url: str, *, resolve_relative: bool = True, fallback: bool = False) -> tuple[dict, dict]:
    fast = parse_graph(data, fmt, url=url, resolve_relative=resolve_relative)
    slow = parse_graph(data, fmt, url=url, resolve_relative=resolve_relative, parser="rdflib")
    assert isinstance(fast, TripleGraph) is not fallback, "Oxigraph read (or refused) a page it should not have"
    assert len(fast) == len(slow)
    return _catalogue(fast), _catalogue(slow)


@pytest.mark.parametrize("rel", RDF_FIXTURES)
def test_both_parsers_give_the_same_catalogue(fixtures_dir: Path, rel: str) -> None:
    fast, slow = _both(
        (fixtures_dir / rel).read_bytes(), format_from_url(rel), f"http://data.test.org/{Path(rel).name}",
        fallback=rel in RDFLIB_ONLY,
    )
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == slow[key], key


@pytest.mark.parametrize("rel", CSW_FIXTURES)
def test_both_parsers_give_the_same_csw_records(fixtures_dir: Path, rel: str) -> None:
    import xml.etree.ElementTree as ET

    root = parse_csw_xml((fixtures_dir / rel).read_bytes(), rel)
    records = list(root.find(f"{{{CSW_NS}}}SearchResults"))
    assert records
    for index, record in enumerate(records):
        data = ET.tostring(record, encoding="utf-8")
        # GeoNetwork writes text inside `<dct:license rdf:resource=...>`: Oxigraph refuses such a record.
        refused = parse_with_oxigraph(data, "xml", base=None) is None
        fast, slow = _both(data, "xml", f"{rel}#record-{index}", resolve_relative=False, fallback=refused)
        assert fast == slow
        assert any(k.startswith("dataset ") for k in fast)


def test_a_page_oxigraph_cannot_read_goes_to_rdflib() -> None:
    # A N3 formula is not RDF: Oxigraph's N3 parser gives it, the light graph refuses it, rdflib reads it.
    data = b'@prefix : <http://e.org/> . :a :says { :b :c :d } .'
    assert parse_with_oxigraph(data, "n3", base="http://e.org/") is None
    graph = parse_graph(data, "n3", url="http://e.org/page.n3")
    assert not isinstance(graph, TripleGraph)
    assert len(graph) >= 1


def test_the_light_graph_answers_every_pattern_as_rdflib(fixtures_dir: Path) -> None:
    from rdflib import Graph, URIRef

    data = (fixtures_dir / "udata/dcat/catalog.xml").read_bytes()
    fast = parse_with_oxigraph(data, "xml", base="http://data.test.org/catalog.xml")
    slow = Graph().parse(data=data, format="xml", publicID="http://data.test.org/catalog.xml")
    assert fast is not None and len(fast) == len(slow)

    def named(triples):  # noqa: ANN001, ANN202 - blank-node ids differ between parsers
        return {t for t in triples if not any(isinstance(x, BNode) for x in t)}

    assert named(fast) == named(slow)
    dcat, dct = "http://www.w3.org/ns/dcat#", "http://purl.org/dc/terms/"
    rdf_type = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    subject = URIRef("http://data.test.org/datasets/1")
    for pattern in [
        (subject, None, None), (subject, URIRef(dct + "title"), None), (None, rdf_type, URIRef(dcat + "Dataset")),
        (None, rdf_type, None), (None, None, URIRef(dcat + "Dataset")), (None, URIRef(dct + "title"), None),
    ]:
        assert named(fast.triples(pattern)) == named(slow.triples(pattern)), pattern
    assert list(fast.objects(subject, URIRef(dct + "title"))) == list(slow.objects(subject, URIRef(dct + "title")))
    assert fast.value(subject, URIRef(dct + "identifier")) == slow.value(subject, URIRef(dct + "identifier"))
    assert fast.value(predicate=rdf_type, object=URIRef(dcat + "Catalog")) == slow.value(predicate=rdf_type, object=URIRef(dcat + "Catalog"))
    assert (subject, rdf_type, None) in fast and (subject, rdf_type, URIRef(dcat + "Nothing")) not in fast
    assert fast.value(URIRef("http://nowhere.test/"), URIRef(dct + "title"), default="-") == "-"
    assert fast.canonical(URIRef(str(subject))) is next(s for s in fast.subjects(rdf_type, URIRef(dcat + "Dataset")) if s == subject)
