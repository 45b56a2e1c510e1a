"""Acceptance: the CSW-DCAT backend against a real loopback CSW endpoint serving the GeoNetwork GetRecords pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dataspace_assets.harvest import actions, engine
from dataspace_assets.harvest.backends.csw import CswDcatBackend, getrecords_body

PARTMENAGE = "https://www.geo2france.fr/insee/partmenage5ans"


def run(catalog, csw_server, *, config: dict | None = None, max_items: int | None = None, name: str = "CSW"):
    source = next((s for s in catalog.list_sources() if s.name == name), None) or actions.create_source(
        catalog, backend="csw-dcat", url=csw_server.url, name=name, validation_state="accepted",
        config={"allow_private_addresses": True, "retries": 0, **(config or {})},
    )
    return source, engine.run_job(catalog, source, max_items=max_items)


def statuses(report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in report.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


def test_getrecords_paging_and_mapping(catalog, csw_server) -> None:
    source, report = run(catalog, csw_server)
    assert report.job.status == "done" and statuses(report) == {"done": 6}
    assert [b.split('startPosition="')[1].split('"')[0] for b in csw_server.bodies] == ["1", "3", "5"]
    assert all('outputSchema="http://www.w3.org/ns/dcat#"' in b for b in csw_server.bodies)
    assert all("<ogc:PropertyName>apiso:identifier</ogc:PropertyName>" in b for b in csw_server.bodies)
    datasets = {d.harvest.remote_id: d for d in catalog.list_datasets(source_id=source.id)}
    assert len(datasets) == 6
    ds = datasets[PARTMENAGE]
    assert ds.title == "INSEE - Part des ménages présents depuis 5 ans ou plus dans leur logement actuel (2010)"
    assert ("Géo2France", "contact@geo2france.fr", "contact") in [(c.name, c.email, c.role) for c in ds.contact_points]
    assert set(ds.tags) == {
        "logement", "institut-national-de-la-statistique-et-des-etudes-economiques", "menage", "population", "insee",
        "donnee-ouverte", "hauts-de-france",
    }
    assert ds.harvest.issued_at.date() == date(2020, 9, 22)
    assert len({r.url for r in ds.resources}) == 5
    wms = next(r for r in ds.resources if r.url == "https://www.geo2france.fr/geoserver/insee/ows")
    assert (wms.title, wms.type, wms.format) == ("rectangles_200m_menage_erbm", "main", "ogc:wms")
    contacts = {(c.name, c.role) for c in datasets["0ae299e7-10d6-4290-944e-c6c62e2aeabf"].contact_points}
    assert contacts == {("Géo2France", "contact"), ("Géo2France", "publisher"), ("Odema", "contact"), ("Odema", "publisher")}
    assert ("Odema", "odema@cerdd.org") in {(c.name, c.email) for c in datasets["0ae299e7-10d6-4290-944e-c6c62e2aeabf"].contact_points}
    def state():
        datasets = sorted(
            (d.id, d.harvest.remote_id, d.title, tuple(sorted((r.id, r.url, r.title) for r in d.resources)))
            for d in catalog.list_datasets(source_id=source.id)
        )
        return datasets, {t: catalog.count(t) for t in ("datasets", "dataservices", "contact_points")}

    before = state()
    _, again = run(catalog, csw_server)
    assert again.job.status == "done" and statuses(again) == {"done": 6}
    assert state() == before and catalog.count("datasets") == 6


def test_geodcatap_feature_switches_the_output_schema(catalog, csw_server) -> None:
    run(catalog, csw_server, config={"features": {"geodcatap": True}})
    assert csw_server.bodies and all('outputSchema="http://data.europa.eu/930/"' in b for b in csw_server.bodies)


def test_remote_url_prefix(catalog, csw_server) -> None:
    config = {"extra_configs": [{"key": "remote_url_prefix", "value": "https://catalogue.test/records/"}]}
    source, report = run(catalog, csw_server, config=config)
    assert report.job.status == "done"
    ds = next(d for d in catalog.list_datasets(source_id=source.id) if d.harvest.remote_id == PARTMENAGE)
    assert ds.harvest.remote_url == f"https://catalogue.test/records/{PARTMENAGE}"


def test_exception_report_fails_the_job(catalog, csw_server) -> None:
    body = (
        b'<?xml version="1.0"?><ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows" version="1.2.0">'
        b'<ows:Exception exceptionCode="NoApplicableCode"><ows:ExceptionText>boom</ows:ExceptionText></ows:Exception>'
        b"</ows:ExceptionReport>"
    )
    csw_server.override = body
    _, report = run(catalog, csw_server)
    assert report.job.status == "failed"
    [error] = report.job.errors
    assert error["message"] == "Failed to query CSW:\n" + body.decode()


def test_a_broken_record_fails_its_item_only(catalog, csw_server, fixtures_dir: Path) -> None:
    page = (fixtures_dir / "udata/csw_dcat/geonetwork-dcat-page-5.xml").read_text()
    broken = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="http://a.test/x" rdf:nodeID="x"/></rdf:RDF>'
    )
    csw_server.override = page.replace(
        '</csw:SearchResults>', broken + "</csw:SearchResults>"
    ).encode()
    _, report = run(catalog, csw_server)
    assert report.job.status == "done-errors"
    assert statuses(report) == {"done": 2, "failed": 1}
    [failed] = [i for i in report.items if i.status == "failed"]
    assert "Can have at most one of rdf:ID, rdf:about, and rdf:nodeID" in failed.errors[0]["message"]


def test_external_entities_are_never_resolved(catalog, csw_server, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    csw_server.override = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY s SYSTEM "{secret.as_uri()}">]>'
        '<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"><csw:SearchResults '
        'numberOfRecordsMatched="1" nextRecord="0">&s;</csw:SearchResults></csw:GetRecordsResponse>'
    ).encode()
    _, report = run(catalog, csw_server)
    assert report.job.status == "failed"
    [error] = report.job.errors
    assert error["message"] == f"{csw_server.url}: XML with a DTD or entity declarations is refused (DTDForbidden)"
    assert "TOP-SECRET" not in str(report.job.to_json()) and catalog.count("datasets") == 0


def test_max_items_stops_paging(catalog, csw_server) -> None:
    _, report = run(catalog, csw_server, max_items=3)
    assert report.job.status == "done" and statuses(report) == {"done": 3}
    assert len(csw_server.bodies) == 2
    assert [e["message"] for e in report.job.errors] == ["3 max items reached, not all datasets/dataservices were retrieved"]


def test_getrecords_body_and_declarations() -> None:
    body = getrecords_body(26, "http://www.w3.org/ns/dcat#")
    assert 'startPosition="26"' in body and 'maxRecords="25"' in body and 'resultType="results"' in body
    assert '<csw:Query typeNames="gmd:MD_Metadata">' in body
    assert CswDcatBackend.name == "csw-dcat" and CswDcatBackend.display_name == "CSW-DCAT"
    assert CswDcatBackend.validate_config({"features": {"geodcatap": "yes"}}) == [
        'Feature "geodcatap" of "csw-dcat" backend must be a boolean'
    ]
