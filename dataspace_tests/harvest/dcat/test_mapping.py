"""The DCAT mapping on its own: graphs parsed from fixture files or small Turtle snippets, no engine, no HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from rdflib import BNode, Graph, URIRef

from dataspace_assets.harvest.dcat.mapping import (
    dataservice_from_rdf,
    dataservice_nodes,
    dataset_from_rdf,
    dataset_nodes,
    is_valid_url,
    remote_id_of,
    resource_from_rdf,
)
from dataspace_assets.harvest.licenses import LicenseRegistry
from dataspace_assets.harvest.records import DatasetRecord, ResourceRecord

PREFIXES = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix spdx: <http://spdx.org/rdf/terms#> .
@prefix schema: <http://schema.org/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix geodcat: <http://data.europa.eu/930/> .
@prefix scv: <http://purl.org/NET/scovo#> .
@prefix ex: <http://ex.test/> .
"""


def turtle(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


def by_identifier(graph: Graph) -> dict[str, object]:
    return {remote_id_of(graph, n): n for n in dataset_nodes(graph)}


def mapped(graph: Graph, node=None, **kwargs) -> DatasetRecord:
    node = node if node is not None else URIRef("http://ex.test/ds")
    return dataset_from_rdf(graph, node, DatasetRecord(), **kwargs)


# ---------------------------------------------------------------- listing
def test_flat_jsonld_lists_three_datasets_with_tags(load_graph) -> None:
    graph = load_graph("udata/dcat/flat.jsonld")
    nodes = by_identifier(graph)
    assert sorted(nodes) == ["1", "2", "3"]
    ds1 = mapped(graph, nodes["1"])
    assert ds1.title == "Dataset 1" and ds1.description == "Dataset 1 description"
    assert ds1.tags == ["tag-1", "tag-2", "tag-3", "tag-4", "theme-1", "theme-2"]
    assert [len(mapped(graph, nodes[k]).resources) for k in ("1", "2", "3")] == [2, 2, 1]
    assert ds1.harvest.uri == ds1.harvest.remote_url == "http://data.test.org/datasets/1"
    assert ds1.harvest.issued_at.date() == ds1.harvest.modified_at.date() == date(2016, 12, 14)


def test_a_node_typed_dataset_and_series_is_listed_once(load_graph) -> None:
    graph = load_graph("udata/dcat/series.xml")
    [node] = dataset_nodes(graph)
    assert mapped(graph, node).title == "DCE – Bassin Artois-Picardie - Etat global"


def test_title_less_stubs_referenced_by_services_are_not_listed() -> None:
    graph = turtle("""
        ex:svc a dcat:DataService ; dct:title "API" ; dcat:servesDataset ex:stub .
        ex:stub a dcat:Dataset ; dct:identifier "stub" .
        ex:lonely a dcat:Dataset ; dct:identifier "lonely" .
        ex:parent a dcat:Dataset ; dct:identifier "p" ; dct:title "P" ; dct:hasPart ex:part .
        ex:part a dcat:Dataset ; dct:identifier "part" .
    """)
    assert sorted(remote_id_of(graph, n) for n in dataset_nodes(graph)) == ["lonely", "p"]


def test_access_services_are_not_catalogue_dataservices(load_graph) -> None:
    graph = load_graph("udata/dcat/catalog.xml")
    assert dataservice_nodes(graph) == []
    graph = load_graph("udata/dcat/bnodes.xml")
    assert [str(n) for n in dataservice_nodes(graph)] == ["https://data.paris2024.org/api/explore/v2.1/"]


def test_missing_identifier_gives_no_remote_id(load_graph) -> None:
    graph = load_graph("ckanext-dcat/examples/dcat/catalog_pod.jsonld")
    assert [remote_id_of(graph, n) for n in dataset_nodes(graph)] == [None]


# ---------------------------------------------------------------- catalog.xml test bed
@pytest.fixture
def catalog_xml(load_graph) -> tuple[Graph, dict]:
    graph = load_graph("udata/dcat/catalog.xml")
    return graph, by_identifier(graph)


def test_catalog_xml_dataset_1(catalog_xml) -> None:
    graph, nodes = catalog_xml
    ds = mapped(graph, nodes["1"])
    assert ds.description == "# h1 title\n\n## h2 title\n\n**and bold text**"
    assert ds.temporal_coverage == {"start": date(2016, 1, 1), "end": date(2016, 12, 5)}
    [contact] = [c for c in ds.contact_points if c.role == "contact"]
    assert [c.name for c in ds.contact_points if c.role == "publisher"] == ["An Organization"]
    assert (contact.name, contact.email, contact.url, contact.role) == (
        "Organization contact", "hello@its.me", "https://data.support.com", "contact",
    )
    assert ds.frequency is None  # an unknown DC-freq term
    assert ds.license == "lov1"  # from a distribution
    res = {r.title: r for r in ds.resources}
    assert sorted(res) == ["Resource 1-1", "Resource 1-2", "Resource 1-3", "Resource 1-4"]
    r11 = res["Resource 1-1"]
    assert (r11.format, r11.mime, r11.filesize, r11.type) == ("json", "application/json", 12323, "main")
    assert r11.harvest["issued_at"].date() == date(2018, 3, 12)
    assert r11.harvest["modified_at"].date() == date(2018, 3, 14)
    assert r11.description == "A JSON resource"
    assert res["Resource 1-2"].format == "json"
    assert (res["Resource 1-3"].type, res["Resource 1-3"].url) == ("other", "http://data.test.org/datasets/1/resources/3")
    assert (res["Resource 1-4"].type, res["Resource 1-4"].format) == ("api", None)
    assert ds.extras["dcat"]["provenance"] == ["Description de la provenance des données du dataset 1"]


def test_catalog_xml_dataset_2_licence_from_rights(catalog_xml) -> None:
    graph, nodes = catalog_xml
    ds = mapped(graph, nodes["2"])
    assert ds.license == "lov2"
    assert ds.extras["dcat"]["rights"] == ["Licence Ouverte Version 2.0"]


def test_catalog_xml_dataset_3_restricted_and_hvd(catalog_xml) -> None:
    graph, nodes = catalog_xml
    ds = mapped(graph, nodes["3"])
    assert ds.frequency == "daily"
    assert ds.harvest.created_at.date() == date(2016, 12, 12)
    assert ds.access_type == "restricted" and ds.access_type_reason_category == "intellectual-property"
    assert ds.license is None
    assert {"hvd", "observation-de-la-terre-et-environnement"} <= set(ds.tags)


def test_catalog_xml_dataset_4_disagreeing_distributions_do_not_bubble_up(catalog_xml) -> None:
    graph, nodes = catalog_xml
    ds = mapped(graph, nodes["4"])
    assert "accessRights" not in ds.extras.get("dcat", {})


def test_distribution_lists_bubble_up_when_all_agree() -> None:
    graph = turtle("""
        ex:ds a dcat:Dataset ; dct:identifier "x" ; dct:title "X" ; dcat:distribution ex:d1, ex:d2 .
        ex:d1 dcat:downloadURL <http://ex.test/1.csv> ; dct:accessRights "public" ; dct:license "odbl" .
        ex:d2 dcat:downloadURL <http://ex.test/2.csv> ; dct:accessRights "public" .
    """)
    ds = mapped(graph)
    assert ds.extras["dcat"] == {"accessRights": ["public"]}
    assert ds.license == "odc-odbl"  # licence guessing does not need the distributions to agree


# ---------------------------------------------------------------- other fixtures
def test_nested_jsonld_checksum_and_temporal(load_graph) -> None:
    graph = load_graph("udata/dcat/nested.jsonld")
    [node] = dataset_nodes(graph)
    ds = mapped(graph, node)
    assert ds.temporal_coverage == {"start": date(2016, 1, 1), "end": date(2016, 12, 5)}
    assert ds.harvest.remote_url == "http://data.test.org/datasets/1"
    [resource] = ds.resources
    assert resource.type == "main"
    assert (resource.checksum.type, resource.checksum.value) == ("sha1", "fb4106aa286a53be44ec99515f0f0421d4d7ad7d")


def test_bnodes_xml_spatial_and_inspire(load_graph) -> None:
    graph = load_graph("udata/dcat/bnodes.xml")
    nodes = by_identifier(graph)
    ds1, ds2, ds3 = (mapped(graph, nodes[k]) for k in ("1", "2", "3"))
    assert ds1.spatial is None and ds3.spatial is None  # wrong WKT; NaN coordinates
    assert ds2.spatial["geom"]["type"] == "MultiPolygon"
    assert len(ds2.spatial["geom"]["coordinates"]) == 3
    assert {"repartition-des-especes", "inspire"} <= set(ds1.tags)
    assert {"hydrographie", "inspire"} <= set(ds2.tags)
    assert "inspire" not in ds3.tags
    assert [len(d.resources) for d in (ds1, ds2, ds3)] == [2, 2, 1]
    assert ds1.harvest.uri is None  # a blank node


def test_bnodes_jsonld_resource(load_graph) -> None:
    graph = load_graph("udata/dcat/bnodes.jsonld")
    nodes = by_identifier(graph)
    ds1 = mapped(graph, nodes["1"])
    first = next(r for r in ds1.resources if r.title == "Resource 1-1")
    assert (first.description, first.format, first.mime, first.type) == ("A JSON resource", "json", "application/json", "main")


def test_geonetwork_identifier_dates_and_invalid_uri(load_graph) -> None:
    graph = load_graph("udata/dcat/geonetwork.xml")
    [node] = dataset_nodes(graph)
    ds = mapped(graph, node)
    expected_id = (
        "0c456d2d-9548-4a2a-94ef-231d9d890ce2 https://sig.oreme.org/geonetwork/srv/resources0c456d2d-9548-4a2a-94ef-231d9d890ce2"
    )
    assert remote_id_of(graph, node) == ds.harvest.dct_identifier == expected_id
    assert ds.harvest.issued_at.date() == date(2004, 11, 3)
    assert ds.harvest.created_at is None and ds.harvest.modified_at is None
    assert ds.harvest.remote_url is None
    assert ds.description.startswith("Data of type chemistry")
    assert ds.temporal_coverage == {"start": date(2004, 11, 3), "end": date(2005, 3, 30)}
    assert ds.tags == ["biodiversity-dynamics", "inspire"]


def test_datara_geodcat_contacts(load_graph) -> None:
    graph = load_graph("udata/dcat/datara--5a26b0f6-0ccf-46ad-ac58-734054b91977.rdf.xml")
    [node] = dataset_nodes(graph)
    ds = mapped(graph, node)
    assert sorted((c.name, c.email, c.role) for c in ds.contact_points) == [
        (
            "Administrateur de Données (Direction Régionale de l’Environnement de l’Aménagement et du Logement "
            "d'Auvergne-Rhône-Alpes (DREAL Auvergne-Rhône-Alpes))",
            "sig.dreal-ara@developpement-durable.gouv.fr",
            "user",
        ),
        ("IGN", "sav.bd@ign.fr", "rightsHolder"),
    ]


def test_ckanext_dataset_rdf(load_graph) -> None:
    graph = load_graph("ckanext-dcat/examples/dcat/dataset.rdf")
    [node] = dataset_nodes(graph)
    ds = mapped(graph, node)
    assert ds.title == "Zimbabwe Regional Geochemical Survey."
    assert remote_id_of(graph, node) == "9df8df51-63db-37a8-e044-0003ba9b0d98"
    assert ds.frequency == "daily"
    assert ds.temporal_coverage == {"start": date(1905, 3, 1), "end": date(2013, 1, 5)}
    assert ds.tags == ["earth-sciences", "exploration", "geochemistry", "geology"]
    [resource] = ds.resources
    assert (resource.title, resource.format, resource.mime, resource.type) == ("Some website", "html", "text/html", "api")


def test_ckanext_gov_de_formats_and_foreign_checksums(load_graph) -> None:
    graph = load_graph("ckanext-dcat/examples/dcat/dataset_gov_de.rdf")
    [node] = dataset_nodes(graph)
    ds = mapped(graph, node)
    assert ds.title == "Liefer- und Abholservices (Gastronomie)"
    assert len(ds.resources) == 9
    assert {r.title for r in ds.resources} == {ds.title}
    assert sorted(r.format or "none" for r in ds.resources) == sorted(
        ["geojson", "wms", "wfs", "none", "none", "xlsx", "csv", "gml", "kml"]
    )
    assert all(r.checksum is None for r in ds.resources)


def test_ckanext_health_eu_frequency_and_dcat_dates(load_graph) -> None:
    graph = load_graph("ckanext-dcat/examples/dcat/dataset_health.ttl")
    [node] = dataset_nodes(graph)
    ds = mapped(graph, node)
    assert ds.title == "HealthDCAT-AP test dataset"
    assert ds.frequency == "daily"
    assert ds.temporal_coverage == {"start": date(2020, 3, 1), "end": date(2024, 12, 31)}
    assert ds.tags == ["test-1", "test-2", "test-3"]
    [resource] = ds.resources
    assert resource.format == "csv"


def test_multilingual_title_follows_the_default_language(load_graph) -> None:
    graph = load_graph("ckanext-dcat/examples/dcat/dataset_multilingual.ttl")
    [node] = dataset_nodes(graph)
    assert mapped(graph, node, default_language="en").title == "Test DCAT dataset"
    ds = mapped(graph, node, default_language="es")
    assert ds.title != "Test DCAT dataset"
    assert ds.tags == ["oaks", "pines", "pinos", "pins", "robles", "roures"]


@pytest.mark.parametrize("rel", ["ckanext-dcat/examples/dcat/catalog.rdf", "ckanext-dcat/examples/dcat/catalog_datasets_list.rdf"])
def test_ckanext_catalogs(load_graph, rel: str) -> None:
    graph = load_graph(rel)
    datasets = {d.title: d for d in (mapped(graph, n) for n in dataset_nodes(graph))}
    assert sorted(datasets) == ["Example dataset 1", "Example dataset 2"]
    assert datasets["Example dataset 1"].tags == ["pollution", "stats"]
    assert datasets["Example dataset 2"].tags == ["education", "sloths", "stats"]
    assert [len(datasets[t].resources) for t in sorted(datasets)] == [3, 2]


def test_ckanext_afs_turtle(load_graph) -> None:
    graph = load_graph("ckanext-dcat/examples/dcat/dataset_afs.ttl")
    [node] = dataset_nodes(graph)
    ds = mapped(graph, node)
    assert ds.title == "A test dataset on your catalogue" and len(ds.resources) == 2


# ---------------------------------------------------------------- field rules on small graphs
def test_abstract_is_used_without_description() -> None:
    ds = mapped(turtle('ex:ds a dcat:Dataset ; dct:title "T" ; dct:abstract "  the abstract  " .'))
    assert ds.description == "the abstract"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<http://purl.org/cld/freq/monthly>", "monthly"),
        ("<http://purl.org/cld/freq/threeTimesAWeek>", "threeTimesAWeek"),
        ('"threetimesamonth"', "threeTimesAMonth"),
        ("<http://publications.europa.eu/resource/authority/frequency/ANNUAL_3>", "threeTimesAYear"),
        ("<http://publications.europa.eu/resource/authority/frequency/AS_NEEDED>", "punctual"),
        ("<http://publications.europa.eu/resource/authority/frequency/WEEKLY>", "weekly"),
        ('"DAILY"', "daily"),
        ('"as_needed"', "punctual"),
        ('"http://purl.org/cld/freq/annual"', "annual"),
        ('"每年"', None),
        ("<http://example.org/freq/daily>", None),
    ],
)
def test_frequency(value: str, expected: str | None) -> None:
    ds = mapped(turtle(f'ex:ds a dcat:Dataset ; dct:title "T" ; dct:accrualPeriodicity {value} .'))
    assert ds.frequency == expected


def test_unknown_frequency_keeps_the_previous_value() -> None:
    graph = turtle('ex:ds a dcat:Dataset ; dct:title "T" ; dct:accrualPeriodicity "sometimes" .')
    ds = dataset_from_rdf(graph, URIRef("http://ex.test/ds"), DatasetRecord(frequency="weekly"))
    assert ds.frequency == "weekly"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"2016-01/2016-03"', (date(2016, 1, 1), date(2016, 3, 1))),
        ('"2010-01-01/2012-12-31"', (date(2010, 1, 1), date(2012, 12, 31))),
        ('"2019"', (date(2019, 1, 1), date(2019, 12, 31))),
        ('"2020-02"', (date(2020, 2, 1), date(2020, 2, 29))),
        ('"2020-02-03"', None),
        ('"not a date/neither"', None),
        ('[ schema:startDate "2001-02-03"^^xsd:date ]', (date(2001, 2, 3), None)),
        ('[ dcat:endDate "2001-02-03T10:00:00"^^xsd:dateTime ]', (None, date(2001, 2, 3))),
        ('[ scv:min "2001-01-01"^^xsd:date ; scv:max "2002-01-01"^^xsd:date ]', (date(2001, 1, 1), date(2002, 1, 1))),
        ("<http://reference.data.gov.uk/id/year/2012>", None),  # never dereferenced
    ],
)
def test_temporal(value: str, expected) -> None:
    ds = mapped(turtle(f'ex:ds a dcat:Dataset ; dct:title "T" ; dct:temporal {value} .'))
    if expected is None:
        assert ds.temporal_coverage is None
    else:
        assert ds.temporal_coverage == {"start": expected[0], "end": expected[1]}


def test_future_modified_date_is_refused() -> None:
    future = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    ds = mapped(turtle(f'ex:ds a dcat:Dataset ; dct:title "T" ; dct:modified "{future}"^^xsd:dateTime ; dct:issued "garbage" .'))
    assert ds.harvest.modified_at is None and ds.harvest.issued_at is None


def test_tags_normalisation() -> None:
    graph = turtle("""
        ex:ds a dcat:Dataset ; dct:title "T" ;
            dcat:keyword "L'eau potable", "ab", "Énergie", "énergie", "%s" , ex:iri-keyword ;
            dcat:theme "Theme", <http://inspire.ec.europa.eu/theme/hy>, <http://data.europa.eu/bna/c_164e0bf5> .
    """ % ("x" * 120))
    ds = mapped(graph)
    assert ds.tags == sorted({"leau-potable", "energie", "x" * 96, "theme", "inspire", "hvd", "meteorologiques"})


def test_hvd_and_inspire_markers_can_be_switched_off() -> None:
    graph = turtle('ex:ds a dcat:Dataset ; dct:title "T" ; dcat:theme <http://inspire.ec.europa.eu/theme/hy>, <http://data.europa.eu/bna/c_164e0bf5> .')
    assert mapped(graph, hvd_support=False, inspire_support=False).tags == []


def test_spatial_bbox_wkt_geojson_and_other_types() -> None:
    graph = turtle("""
        @prefix gsp: <http://www.opengis.net/ont/geosparql#> .
        @prefix locn: <http://www.w3.org/ns/locn#> .
        ex:ds a dcat:Dataset ; dct:title "T" ;
            dct:spatial "1.0,2.0,3.0,4.0" ,
                [ locn:geometry "POINT(1 2)"^^gsp:wktLiteral ] ,
                [ locn:geometry "<http://www.opengis.net/def/crs/OGC/1.3/CRS84> MULTIPOLYGON(((0 0, 0 1, 1 1, 0 0)))"^^gsp:wktLiteral ] ,
                [ locn:geometry '{"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}'^^gsp:geoJSONLiteral ] .
    """)
    geom = mapped(graph).spatial["geom"]
    assert geom["type"] == "MultiPolygon"
    assert len(geom["coordinates"]) == 2  # the bbox, and the triangle given twice
    assert [1.0, 2.0] in geom["coordinates"][0][0] and [3.0, 4.0] in geom["coordinates"][0][0]


def test_every_polygon_of_a_multipolygon_is_kept() -> None:
    graph = turtle("""
        @prefix gsp: <http://www.opengis.net/ont/geosparql#> .
        @prefix locn: <http://www.w3.org/ns/locn#> .
        ex:ds a dcat:Dataset ; dct:title "T" ;
            dct:spatial [ locn:geometry "MULTIPOLYGON(((0 0, 0 1, 1 1, 0 0)), ((5 5, 5 6, 6 6, 5 5)))"^^gsp:wktLiteral ] .
    """)
    assert mapped(graph).spatial["geom"] == {
        "type": "MultiPolygon",
        "coordinates": [
            [[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]],
            [[[5.0, 5.0], [5.0, 6.0], [6.0, 6.0], [5.0, 5.0]]],
        ],
    }


def test_evian_like_bbox_literal() -> None:
    graph = turtle('ex:ds a dcat:Dataset ; dct:title "T" ; dct:spatial "6.5735,46.3912,6.6069,46.4028" .')
    assert mapped(graph).spatial["geom"] == {
        "type": "MultiPolygon",
        "coordinates": [[[[6.5735, 46.3912], [6.6069, 46.3912], [6.6069, 46.4028], [6.5735, 46.4028], [6.5735, 46.3912]]]],
    }


def test_contacts_vcard_organization_and_literal() -> None:
    graph = turtle("""
        ex:ds a dcat:Dataset ; dct:title "T" ;
            dcat:contactPoint [ vcard:fn "Jane" ; vcard:organization-name "City" ; vcard:hasEmail <mailto:jane@city.test> ;
                                vcard:hasURL <https://city.test> ] ;
            dct:publisher [ foaf:name "City hall" ; foaf:mbox <mailto:hall@city.test> ] ;
            dct:creator "A literal creator" .
    """)
    contacts = sorted((c.name, c.email, c.url, c.role) for c in mapped(graph).contact_points)
    assert contacts == [
        ("A literal creator", None, None, "creator"),
        ("City hall", "hall@city.test", None, "publisher"),
        ("Jane (City)", "jane@city.test", "https://city.test", "contact"),
    ]


def test_no_contacts_keep_the_previous_ones() -> None:
    from dataspace_assets.harvest.records import ContactPoint

    graph = turtle('ex:ds a dcat:Dataset ; dct:title "T" .')
    previous = [ContactPoint(name="Kept")]
    ds = dataset_from_rdf(graph, URIRef("http://ex.test/ds"), DatasetRecord(contact_points=list(previous)))
    assert ds.contact_points == previous


def test_schema_and_acronym() -> None:
    graph = turtle("""
        ex:ds a dcat:Dataset ; dct:title "T" ; skos:altLabel "TT" ;
            dct:conformsTo [ dct:type <https://schema.test/s.json> ; dct:title "Schema S" ] .
    """)
    ds = mapped(graph)
    assert ds.acronym == "TT"
    assert ds.schema == {"url": "https://schema.test/s.json", "name": "Schema S"}


def test_licence_falls_back_to_current_then_notspecified() -> None:
    graph = turtle('ex:ds a dcat:Dataset ; dct:title "T" ; dct:license "no such licence at all" .')
    assert mapped(graph).license == "notspecified"
    ds = dataset_from_rdf(graph, URIRef("http://ex.test/ds"), DatasetRecord(license="cc-by"))
    assert ds.license == "cc-by"
    empty = LicenseRegistry([])
    assert mapped(graph, licenses=empty).license is None


def test_licence_candidates_dataset_license_then_rights_then_distributions() -> None:
    graph = turtle("""
        ex:ds a dcat:Dataset ; dct:title "T" ; dct:rights "odc-odbl" ; dct:license "cc-by" ;
            dcat:distribution ex:d .
        ex:d dcat:downloadURL <http://ex.test/f.csv> ; dct:license "cc-zero" .
    """)
    assert mapped(graph).license == "cc-by"
    graph.remove((URIRef("http://ex.test/ds"), URIRef("http://purl.org/dc/terms/license"), None))
    assert mapped(graph).license == "odc-odbl"
    graph.remove((URIRef("http://ex.test/ds"), URIRef("http://purl.org/dc/terms/rights"), None))
    assert mapped(graph).license == "cc-zero"


def test_licence_resource_label_is_a_candidate() -> None:
    graph = turtle("""
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        ex:ds a dcat:Dataset ; dct:title "T" ; dct:license ex:lic .
        ex:lic rdfs:label "Open Database License (ODbL)" .
    """)
    assert mapped(graph).license == "odc-odbl"


# ---------------------------------------------------------------- resources
def _resource(graph_text: str, **kwargs) -> ResourceRecord | None:
    graph = turtle(graph_text)
    return resource_from_rdf(graph, URIRef("http://ex.test/d"), **kwargs)


def test_resource_without_url_is_dropped() -> None:
    assert _resource('ex:d dct:title "No URL" .') is None
    assert resource_from_rdf(turtle('ex:x dct:title "t" .'), BNode(), is_additional=True) is None


def test_resource_download_url_wins_over_access_url() -> None:
    res = _resource("ex:d dcat:accessURL <http://ex.test/page> ; dcat:downloadURL <http://ex.test/file.csv> .")
    assert res.url == "http://ex.test/file.csv"


@pytest.mark.parametrize(
    ("graph_text", "language", "title"),
    [
        ("ex:d dcat:downloadURL <http://ex.test/data/file.csv> .", "fr", "file.csv"),
        ('ex:d dcat:downloadURL <http://ex.test/api?x=1.2> ; dct:format "CSV" .', "fr", "Ressource csv"),
        ('ex:d dcat:downloadURL <http://ex.test/api> ; dct:format "CSV" .', "en", "csv resource"),
        ("ex:d dcat:downloadURL <http://ex.test/api> .", "fr", "Ressource sans nom"),
        ("ex:d dcat:downloadURL <http://ex.test/api> .", "en", "Nameless resource"),
    ],
)
def test_resource_title_fallbacks(graph_text: str, language: str, title: str) -> None:
    assert _resource(graph_text, default_language=language).title == title


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("<http://publications.europa.eu/resource/authority/file-type/GEOJSON>", "geojson"),
        ("<https://www.iana.org/assignments/media-types/text/csv>", "csv"),
        ('"OGC:WMS"', "ogc:wms"),
        ('[ <http://www.w3.org/2000/01/rdf-schema#label> "XLSX" ]', "xlsx"),
    ],
)
def test_resource_format(fmt: str, expected: str) -> None:
    res = _resource(f"ex:d dcat:downloadURL <http://ex.test/f> ; dct:format {fmt} .")
    assert res.format == expected


def test_resource_ogc_protocol_and_mime() -> None:
    res = _resource("""
        ex:d dcat:accessURL <http://ex.test/ows> ; dct:format "XML" ;
            dcat:mediaType <https://www.iana.org/assignments/media-types/application/xml> ;
            dcat:accessService [ geodcat:serviceProtocol <http://www.opengeospatial.org/standards/wfs> ] .
    """)
    assert (res.format, res.mime, res.type) == ("wfs", "application/xml", "api")


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [("checksumAlgorithm_md5", "md5"), ("checksumAlgorithm_sha256", "sha256"), ("checksumAlgorithm_sha512", None)],
)
def test_resource_checksum(algorithm: str, expected: str | None) -> None:
    res = _resource(f"""
        ex:d dcat:downloadURL <http://ex.test/f.csv> ;
            spdx:checksum [ spdx:algorithm spdx:{algorithm} ; spdx:checksumValue "abc123" ] .
    """)
    assert (res.checksum.type if res.checksum else None) == expected


def test_resource_checksum_value_is_trimmed() -> None:
    res = _resource("""
        ex:d dcat:downloadURL <http://ex.test/f.csv> ;
            spdx:checksum [ spdx:algorithm spdx:checksumAlgorithm_sha1 ; spdx:checksumValue "  abc123 " ] .
    """)
    assert (res.checksum.type, res.checksum.value) == ("sha1", "abc123")


def test_resource_identity_by_url_and_title_for_ogc_layers() -> None:
    graph = turtle("""
        ex:ds a dcat:Dataset ; dct:identifier "x" ; dct:title "X" ; dcat:distribution ex:a, ex:b, ex:c, ex:d .
        ex:a dcat:accessURL <http://ex.test/ows> ; dct:format "WMS" ; dct:title "layer 1" .
        ex:b dcat:accessURL <http://ex.test/ows> ; dct:format "WMS" ; dct:title "layer 2" .
        ex:c dcat:downloadURL <http://ex.test/f.csv> ; dct:title "first" .
        ex:d dcat:downloadURL <http://ex.test/f.csv> ; dct:title "second" .
    """)
    ds = mapped(graph)
    assert sorted(r.title for r in ds.resources) in (
        ["layer 1", "layer 2", "second"],
        ["first", "layer 1", "layer 2"],
    )  # two OGC layers kept apart; two files at one URL merged into one
    assert len(ds.resources) == 3


def test_resources_keep_their_ids_type_and_are_never_removed() -> None:
    graph = turtle("""
        ex:ds a dcat:Dataset ; dct:identifier "x" ; dct:title "X" ; dcat:distribution ex:a .
        ex:a dcat:downloadURL <http://ex.test/a.csv> ; dct:title "A (new title)" .
    """)
    existing = DatasetRecord(
        resources=[
            ResourceRecord(url="http://ex.test/a.csv", title="A", id="res-a", type="documentation"),
            ResourceRecord(url="http://ex.test/gone.csv", title="Gone", id="res-gone"),
        ]
    )
    ds = dataset_from_rdf(graph, URIRef("http://ex.test/ds"), existing)
    assert [(r.id, r.title, r.type) for r in ds.resources] == [
        ("res-a", "A (new title)", "documentation"),
        ("res-gone", "Gone", "main"),
    ]


# ---------------------------------------------------------------- dataservices
def test_bnodes_dataservice(load_graph) -> None:
    graph = load_graph("udata/dcat/bnodes.xml")
    [node] = dataservice_nodes(graph)
    service = dataservice_from_rdf(graph, node, dataset_ids={"2": "id-2", "3": "id-3", "1": "id-1"})
    assert service.title == "Explore API v2"
    assert service.base_api_url == "https://data.paris2024.org/api/explore/v2.1/"
    assert service.machine_documentation_url == "https://data.paris2024.org/api/explore/v2.1/swagger.json"
    assert service.harvest.remote_url == "https://data.paris2024.org/api/explore/v2.1/console"
    assert service.datasets == ["id-2", "id-3"]


def test_served_datasets_match_by_suffix_and_keep_existing_links() -> None:
    from dataspace_assets.harvest.records import DataserviceRecord

    graph = turtle("""
        ex:svc a dcat:DataService ; dct:title "API" ; dcat:endpointURL <http://ex.test/api> ;
            dcat:servesDataset [ dct:identifier "https://semic.test/prefix/abc" ] .
    """)
    service = dataservice_from_rdf(
        graph, URIRef("http://ex.test/svc"), DataserviceRecord(datasets=["kept"]), dataset_ids={"abc": "id-abc", "zzz": "id-z"}
    )
    assert service.datasets == ["kept", "id-abc"]


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("http://data.test.org/datasets/1", True),
        ("https://127.0.0.1:8080/x", True),
        ("http://none", False),
        ("not a url", False),
        ("https://sig.oreme.org/a b", False),
        ("file:///etc/passwd", False),
    ],
)
def test_is_valid_url(url: str, valid: bool) -> None:
    assert is_valid_url(url) is valid
