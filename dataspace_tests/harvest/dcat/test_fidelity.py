"""Field fidelity with udata 17.18 (issue 13): contacts, frequencies, CSW identifiers, spatial, licences, text."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from dataspace_assets.cli import main
from dataspace_assets.harvest import actions, engine
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.dcat.frequency import EU_FREQUENCIES, FREQUENCIES, frequency_from_rdf
from dataspace_assets.harvest.dcat.mapping import dataservice_from_rdf, dataset_from_rdf
from dataspace_assets.harvest.dcat.rdf import parse_graph
from dataspace_assets.harvest.dcat.text import html_to_markdown

PREFIXES = """@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> . @prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix dqv: <http://www.w3.org/ns/dqv#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
# GeoNetwork's GeoDCAT-AP contacts: vcard:Organization, the organisation name nested in vcard:org.
CONTACTS = PREFIXES + """
<http://data.test.org/ds/1> a dcat:Dataset ; dct:identifier "1" ; dct:title "Contacts" ;
  dcat:contactPoint [ a vcard:Organization ; vcard:fn "Géo2France" ; vcard:organization-name "Géo2France" ;
                      vcard:hasEmail <mailto:contact@geo2france.fr> ] ,
                    [ a vcard:Organization ; vcard:org [ vcard:organisation-name "Odema" ] ; vcard:hasEmail <mailto:odema@cerdd.org> ] ,
                    [ a vcard:Individual ; vcard:fn "Jane Doe" ; vcard:org [ vcard:organization-name "City" ] ;
                      vcard:hasURL <https://city.test/contact> ] ,
                    [ a vcard:Kind ; vcard:fn "Nobody to write to" ] ,
                    [ a vcard:Kind ] ;
  dct:publisher [ a foaf:Organization ; foaf:name "The publisher" ] .
"""


@pytest.fixture(params=["auto", "rdflib"])
def parser(request) -> str:
    """Both parsers, so each fidelity rule holds whichever one read the page."""
    return request.param


def _dataset(text: str, parser: str):
    graph = parse_graph(text.encode(), "turtle", url="http://data.test.org/page.ttl", parser=parser)
    return dataset_from_rdf(graph, URIRef("http://data.test.org/ds/1"))


def test_vcard_organizations_and_nested_org_names(parser: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="dataspace_assets.harvest")
    dataset = _dataset(CONTACTS, parser)
    assert [(c.name, c.email, c.url, c.role) for c in dataset.contact_points] == [
        ("Géo2France (Géo2France)", "contact@geo2france.fr", None, "contact"),
        ("Odema", "odema@cerdd.org", None, "contact"),
        ("Jane Doe (City)", None, "https://city.test/contact", "contact"),
        ("The publisher", None, None, "publisher"),  # only the contact role needs an email or a form
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert 'contact point "Nobody to write to" ignored: a contact needs an email or a contact form' in messages
    assert "empty contact contact point ignored (no name)" in messages


def test_geonetwork_contacts_of_0ae299e7(catalog, csw_server) -> None:
    source = actions.create_source(
        catalog, backend="csw-dcat", url=csw_server.url, name="CSW", validation_state="accepted",
        config={"allow_private_addresses": True, "retries": 0},
    )
    engine.run_job(catalog, source)
    datasets = {d.harvest.remote_id: d for d in catalog.list_datasets(source_id=source.id)}
    contacts = {(c.name, c.email, c.role) for c in datasets["0ae299e7-10d6-4290-944e-c6c62e2aeabf"].contact_points}
    assert contacts == {
        ("Géo2France", "contact@geo2france.fr", "contact"), ("Géo2France", "contact@geo2france.fr", "publisher"),
        ("Odema", "odema@cerdd.org", "contact"), ("Odema", "odema@cerdd.org", "publisher"),
    }
    # harvest.source_url on datasets as on dataservices (udata 17.18)
    assert {d.harvest.source_url for d in datasets.values()} == {csw_server.url}


def test_eu_frequencies_follow_udatas_table() -> None:
    eu = "http://publications.europa.eu/resource/authority/frequency/"
    assert frequency_from_rdf(URIRef(eu + "CONT")) == "severalTimesADay"
    assert frequency_from_rdf(URIRef(eu + "UPDATE_CONT")) == "continuous"
    assert [k for k, v in EU_FREQUENCIES.items() if v == "continuous"] == ["UPDATE_CONT"]
    assert frequency_from_rdf(URIRef(eu + "1MIN")) == "oneMinute"
    assert frequency_from_rdf(URIRef(eu + "AS_NEEDED")) == "punctual"
    assert frequency_from_rdf(URIRef(eu + "12HRS")) == "twelveHours"
    # every EU authority term of the spec (2.5) maps onto one of the catalogue's frequencies
    terms = (
        "UNKNOWN UPDATE_CONT 1MIN 5MIN 10MIN 15MIN 30MIN HOURLY BIHOURLY TRIHOURLY 12HRS CONT DAILY_3 DAILY_2 DAILY "
        "WEEKLY_5 WEEKLY_3 WEEKLY_2 WEEKLY BIWEEKLY MONTHLY_3 MONTHLY_2 MONTHLY BIMONTHLY QUARTERLY ANNUAL_3 ANNUAL_2 "
        "ANNUAL BIENNIAL TRIENNIAL QUADRENNIAL QUINQUENNIAL DECENNIAL BIDECENNIAL TRIDECENNIAL AS_NEEDED IRREG NEVER "
        "NOT_PLANNED OTHER"
    ).split()
    assert sorted(EU_FREQUENCIES) == sorted(terms)
    assert all(frequency_from_rdf(URIRef(eu + t)) in FREQUENCIES for t in terms)
    assert len({EU_FREQUENCIES[t] for t in terms}) == len(terms)  # no two EU terms collapse into one value


RELATIVE_RECORD = """<?xml version="1.0" encoding="UTF-8"?>
<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2">
  <csw:SearchResults numberOfRecordsMatched="1" numberOfRecordsReturned="1" nextRecord="0">
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#"
             xmlns:dct="http://purl.org/dc/terms/">
      <dcat:Dataset rdf:about="abc-123">
        <dct:identifier>abc-123</dct:identifier>
        <dct:title>Relative record</dct:title>
        <dcat:distribution><dcat:Distribution rdf:about="#d1"><dcat:accessURL rdf:resource="https://files.test/a.csv"/></dcat:Distribution></dcat:distribution>
      </dcat:Dataset>
    </rdf:RDF>
  </csw:SearchResults>
</csw:GetRecordsResponse>
"""


def test_relative_rdf_about_in_csw_records_stays_bare(catalog, csw_server) -> None:
    csw_server.override = RELATIVE_RECORD.encode()
    source = actions.create_source(
        catalog, backend="csw-dcat", url=csw_server.url, name="CSW relative", validation_state="accepted",
        config={"allow_private_addresses": True, "retries": 0},
    )
    report = engine.run_job(catalog, source)
    assert report.job.status == "done"
    [dataset] = catalog.list_datasets(source_id=source.id)
    assert dataset.harvest.uri == "abc-123"  # no address invented from the CSW endpoint
    assert dataset.harvest.remote_url is None
    assert [r.harvest["uri"] for r in dataset.resources] == ["#d1"]


SPATIAL = PREFIXES + """
<http://data.test.org/ds/1> a dcat:Dataset ; dct:identifier "1" ; dct:title "Spatial" ;
  dct:spatial [ a dct:Location ; dcat:bbox "POLYGON((0 0,1 0,1 1,0 1,0 0))"^^<http://www.opengis.net/ont/geosparql#wktLiteral> ] ;
  dqv:hasQualityMeasurement [ a dqv:QualityMeasurement ;
      dqv:isMeasurementOf <http://data.europa.eu/930/spatialResolutionAsScale> ; dqv:value "0.0001"^^xsd:decimal ] .
"""


def test_spatial_coverage_and_dqv_resolution(parser: str) -> None:
    dataset = _dataset(SPATIAL, parser)
    assert dataset.spatial == {
        "geom": {"type": "MultiPolygon", "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]]},
        "zones": [],
        "granularity": "other",
    }
    assert dataset.extras["dcat"]["spatial_resolution"] == "1/10000"
    distance = SPATIAL.replace("spatialResolutionAsScale", "spatialResolutionAsDistance").replace('"0.0001"', '"25"')
    assert _dataset(distance, parser).extras["dcat"]["spatial_resolution"] == "25 m"


def test_the_datara_fixture_gives_its_scale(load_graph) -> None:
    graph = load_graph("udata/dcat/datara--5a26b0f6-0ccf-46ad-ac58-734054b91977.rdf.xml")
    from dataspace_assets.harvest.dcat.mapping import dataset_nodes

    [node] = dataset_nodes(graph)
    assert dataset_from_rdf(graph, node).extras["dcat"]["spatial_resolution"] == "1/10000"


def test_a_dataservice_without_licence_has_none(parser: str) -> None:
    text = PREFIXES + '<http://data.test.org/api> a dcat:DataService ; dct:identifier "api" ; dct:title "API" .'
    graph = parse_graph(text.encode(), "turtle", url="http://data.test.org/p.ttl", parser=parser)
    assert dataservice_from_rdf(graph, URIRef("http://data.test.org/api")).license is None
    licensed = text[: -len(" .")] + " ; dct:license <https://www.etalab.gouv.fr/licence-ouverte-open-licence> ."

    graph = parse_graph(licensed.encode(), "turtle", url="http://data.test.org/p.ttl", parser=parser)
    assert dataservice_from_rdf(graph, URIRef("http://data.test.org/api")).license is not None


def test_html_whitespace_collapses_as_a_browser_shows_it() -> None:
    html = "<p>Données du\n   territoire,  mises à jour\nchaque mois.</p>\n<ul><li>un\n point</li></ul><pre>a\n  b</pre>"
    assert html_to_markdown(html) == "Données du territoire, mises à jour chaque mois.\n\n* un point\n\n```\na\n  b\n```"
    assert html_to_markdown("plain\ntext  kept") == "plain\ntext  kept"  # not HTML: only stripped


def test_refused_contacts_are_item_logs_shown_by_harvest_job(tmp_settings, http_server, capsys) -> None:
    http_server.route("virtual/contacts.ttl", body=CONTACTS, content_type="text/turtle")
    catalog = Catalog.from_settings(tmp_settings)
    source = actions.create_source(
        catalog, backend="dcat", url=http_server.url("virtual/contacts.ttl"), name="contacts",
        validation_state="accepted", config={"allow_private_addresses": True, "retries": 0},
    )
    report = engine.run_job(catalog, source)
    [item] = report.items
    assert {"level": "warning", "message": 'contact point "Nobody to write to" ignored: a contact needs an email or a contact form'} in item.logs
    assert main(["harvest", "job", report.job.id]) == 0
    out = capsys.readouterr().out
    assert 'warning: contact point "Nobody to write to" ignored' in out
    assert "info: empty contact contact point ignored (no name)" in out


def test_ckan_page_matches_a_clean_udata_run_title_for_title_tag_for_tag(harvester, fixtures_dir: Path) -> None:
    import json

    # As that udata run: the same page served as N3 with an explicit UTF-8 charset, page 2 an empty catalogue.
    text = (fixtures_dir / "udata/dcat-historical/ckan.ttl").read_text()
    harvester.server.route(
        "virtual/ckan.n3", body=text.replace("http://demo.ckan.org/catalog.ttl?page=2", harvester.server.url("virtual/page-2.n3")),
        content_type="text/n3; charset=utf-8",
    )
    harvester.server.route("virtual/page-2.n3", body="<http://demo.ckan.org/catalog> a <http://www.w3.org/ns/dcat#Catalog> .")
    report = harvester.run("virtual/ckan.n3")
    assert report.job.status == "done"
    datasets = harvester.datasets(harvester.source("virtual/ckan.n3"))
    result = json.loads((fixtures_dir / "udata/dcat-historical/ckan.udata-17.18-result-utf8.json").read_text())
    expected = result["datasets"]
    assert len(expected) == 97 and set(expected) <= set(datasets)
    non_ascii = 0
    for remote_id, values in expected.items():
        ds = datasets[remote_id]
        got = (ds.title, ds.tags, len(ds.resources), ds.frequency, ds.license)
        assert got == (values["title"], values["tags"], values["n_resources"], values["frequency"], values["license"]), remote_id
        temporal = ds.temporal_coverage
        got_temporal = [(temporal[k].isoformat() if temporal[k] else None) for k in ("start", "end")] if temporal else None
        assert got_temporal == values["temporal"], remote_id
        non_ascii += not (values["title"].isascii() and all(t.isascii() for t in values["tags"]))
    assert non_ascii >= 12  # the titles and tags the Latin-1 run garbled are compared too


def test_harvest_dataservices_lists_services_with_the_datasets_they_serve(tmp_settings, http_server, capsys) -> None:
    import json

    catalog = Catalog.from_settings(tmp_settings)
    source = actions.create_source(
        catalog, backend="dcat", url=http_server.url("udata/dcat/bnodes.xml"), name="paris",
        validation_state="accepted", config={"allow_private_addresses": True, "retries": 0},
    )
    engine.run_job(catalog, source)
    titles = {d.id: d.title for d in catalog.list_datasets(source_id=source.id)}
    assert main(["harvest", "dataservices", "paris", "--json"]) == 0
    [service] = json.loads(capsys.readouterr().out)
    assert service["title"] == "Explore API v2"
    assert service["base_api_url"] == "https://data.paris2024.org/api/explore/v2.1/"
    assert len(service["served"]) == 2
    assert all(s["title"] == titles[s["id"]] for s in service["served"])
    assert main(["harvest", "dataservices", "paris"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{service['id']}  Explore API v2  (remote ")
    assert "    api: https://data.paris2024.org/api/explore/v2.1/" in out
    assert all(f"    serves {s['id']}  {s['title']}" in out for s in service["served"])


def test_where_we_are_deliberately_better_than_udata(harvester, fixtures_dir: Path) -> None:
    from datetime import timezone

    # UTF-8 for text/turtle without a charset (udata 17.18 decodes it as Latin-1), parse errors naming URL and format.
    text = (fixtures_dir / "udata/dcat-historical/ckan.ttl").read_text()
    harvester.server.route("virtual/plain.ttl", body=text.replace("http://demo.ckan.org/catalog.ttl?page=2", ""), content_type="text/turtle")
    harvester.run("virtual/plain.ttl")
    datasets = harvester.datasets(harvester.source("virtual/plain.ttl"))
    assert any(not d.title.isascii() for d in datasets.values())
    assert all("Ã" not in d.title for d in datasets.values())  # no mojibake
    # timezone-aware dates
    stamps = [d.harvest.issued_at for d in datasets.values() if d.harvest.issued_at] + [d.harvest.last_update for d in datasets.values()]
    assert stamps and all(s.tzinfo is not None and s.utcoffset() == timezone.utc.utcoffset(None) for s in stamps)
    # no TLD check on resource URLs
    assert "http://none" in {r.url for d in datasets.values() for r in d.resources}
    harvester.server.route("virtual/broken.ttl", body="<a> <b> .", content_type="text/turtle")
    report = harvester.run("virtual/broken.ttl")
    assert report.job.errors[0]["message"].startswith(f"Failed to parse {harvester.server.url('virtual/broken.ttl')} as turtle: ")


def test_contact_url_from_foaf_homepage(parser: str) -> None:
    text = PREFIXES + """<http://data.test.org/ds/1> a dcat:Dataset ; dct:identifier "1" ; dct:title "T" ;
      dcat:contactPoint [ a foaf:Organization ; foaf:name "Desk" ; foaf:homepage <https://desk.test/form> ] ."""
    [contact] = _dataset(text, parser).contact_points
    assert (contact.name, contact.url, contact.role) == ("Desk", "https://desk.test/form", "contact")
