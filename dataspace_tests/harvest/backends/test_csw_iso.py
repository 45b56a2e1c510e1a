"""Acceptance: the CSW-ISO-19139 backend against a loopback CSW serving the real GeoNetwork, geo-ide and Géoplateforme answers."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from dataspace_assets.errors import DataspaceError

from dataspace_assets.harvest import actions, engine
from dataspace_tests.harvest.backends.apiserver import ApiServer

CSW = "csw/srv/eng/csw"
LOOPBACK = {"allow_private_addresses": True, "retries": 0}
CARTIGNY = (
    "http://catalogue.geo-ide.developpement-durable.gouv.fr/"
    "fr-120066022-orphan-residentifier-140d31c6-643d-42a9-85df-2737a118e144"
)


def statuses(report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in report.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


def serve_pages(api: ApiServer, pages: dict[str, Path]) -> None:
    """GetRecords POSTs answered with the page file of their startPosition."""

    def getrecords(_query, body: bytes):
        start = re.search(rb'startPosition="(\d+)"', body).group(1).decode()
        if start not in pages:
            return 404, "text/plain", b"no such page"
        return 200, "application/xml", pages[start].read_bytes()

    api.on(CSW, getrecords)


def run(catalog, api, *, name: str = "ISO", config: dict | None = None, max_items: int | None = None):
    source = next((s for s in catalog.list_sources() if s.name == name), None) or actions.create_source(
        catalog, backend="csw-iso-19139", url=api.url(CSW), name=name, validation_state="accepted",
        config={**LOOPBACK, **(config or {})},
    )
    return source, engine.run_job(catalog, source, max_items=max_items)


def datasets_of(catalog, source) -> dict:
    return {d.harvest.remote_id: d for d in catalog.list_datasets(source_id=source.id)}


def state(catalog, source) -> tuple:
    return sorted(
        (d.id, d.harvest.remote_id, tuple(sorted((r.id, r.url, r.title) for r in d.resources)))
        for d in catalog.list_datasets(source_id=source.id)
    ), catalog.count("datasets"), catalog.count("resources")


@pytest.fixture
def geonetwork(api: ApiServer, fixtures_dir: Path) -> None:
    folder = fixtures_dir / "udata/csw_dcat"
    serve_pages(api, {s: folder / f"geonetwork-iso19139-page-{s}.xml" for s in ("1", "3", "5")})


def test_geonetwork_pages_and_cartigny(catalog, api, geonetwork) -> None:
    source, report = run(catalog, api)
    assert report.job.status == "done" and statuses(report) == {"done": 6}
    bodies = [r.body.decode() for r in api.seen(CSW)]
    assert [re.search(r'startPosition="(\d+)"', b).group(1) for b in bodies] == ["1", "3", "5"]
    assert all('outputSchema="http://www.isotc211.org/2005/gmd"' in b and 'maxRecords="25"' in b for b in bodies)
    assert all(r.headers["Content-Type"] == "application/xml" for r in api.seen(CSW))
    datasets = datasets_of(catalog, source)
    assert len(datasets) == 6
    ds = datasets[CARTIGNY]
    assert ds.title == "Plan local d'urbanisme de la commune de Cartigny"
    assert ds.harvest.backend == "CSW-ISO-19139"
    assert ds.harvest.issued_at.date() == date(2017, 10, 7)
    assert ds.harvest.created_at.date() == date(2013, 3, 8)
    assert len(ds.tags) == 7 and "inspire" in ds.tags
    assert set(ds.tags) == {
        "amenagement-urbanisme-zonages-planification", "usage-des-sols", "cartigny", "document-durbanisme", "plu",
        "donnees-ouvertes", "inspire",
    }
    assert [(r.format, r.type) for r in ds.resources] == [("mapinfo tab", "main")]
    assert len(ds.extras["dcat"]["rights"]) == 6
    assert (ds.access_type, ds.access_type_reason_category) == ("restricted", "commercial-confidentiality")
    assert ds.license is None
    assert ds.description.startswith("Le présent standard de données COVADIS")
    assert ("DDTM 80 (Direction Départementale des Territoires et de la Mer de la Somme)", "ddtm-sap-bsig@somme.gouv.fr", "contact") in [
        (c.name, c.email, c.role) for c in ds.contact_points
    ]
    assert ds.spatial["type"] == "MultiPolygon" and ds.spatial["coordinates"][0][0][0] == [3.28133559, 49.38547516]
    assert ds.harvest.remote_url.endswith("#/metadata/fr-120066022-ldd-56fce164-04b2-41ae-be87-9f256f39dd44")

    before = state(catalog, source)
    _, again = run(catalog, api)
    assert again.job.status == "done" and statuses(again) == {"done": 6}
    assert state(catalog, source) == before


def test_the_page_cap_ends_the_listing_with_a_message(catalog, api, geonetwork) -> None:
    source, report = run(catalog, api, config={"max_pages": 2})
    assert report.job.status == "failed" and len(api.seen(CSW)) == 2  # page 5 never asked for
    assert any(
        e["message"] == 'stopped after 2 pages (config "max_pages"): records from 5 were not fetched'
        for e in report.job.errors
    )
    assert actions.create_source(
        catalog, backend="csw-iso-19139", url=api.url(CSW), name="Capped", config={**LOOPBACK, "max_pages": 2}
    ).config["max_pages"] == 2
    with pytest.raises(DataspaceError, match='max_pages'):
        actions.create_source(catalog, backend="csw-iso-19139", url=api.url(CSW), name="Bad", config={"max_pages": 0})


def test_remote_url_prefix_and_max_items(catalog, api, geonetwork) -> None:
    config = {"extra_configs": [{"key": "remote_url_prefix", "value": "https://catalogue.test/records/"}]}
    source, report = run(catalog, api, config=config, max_items=3)
    assert statuses(report) == {"done": 3} and len(api.seen(CSW)) == 2  # page 5 never asked for
    assert report.job.errors[0]["message"] == "3 max items reached, not all datasets/dataservices were retrieved"
    ds = datasets_of(catalog, source)[CARTIGNY]
    assert ds.harvest.remote_url == "https://catalogue.test/records/fr-120066022-ldd-56fce164-04b2-41ae-be87-9f256f39dd44"


def test_ddt24_snapshot(catalog, api, fixtures_dir: Path) -> None:
    serve_pages(api, {"1": fixtures_dir / "udata/snapshots/csw-iso-ddt24/getrecords-response.xml"})
    source, report = run(catalog, api)
    # udata's XSLT gave 20 items (16 skipped stubs without identifier); reading ISO directly gives the 4 records.
    assert report.job.status == "done" and statuses(report) == {"done": 4}
    datasets = datasets_of(catalog, source)
    assert len(datasets) == 4
    for ds in datasets.values():
        kinds = sorted(r.type for r in ds.resources)
        assert kinds == ["api", "api", "api", "api", "main", "main"]
        assert all("REQUEST=GetCapabilities" in r.url for r in ds.resources if r.type == "api")
        assert all("atomArchive/GetResource" in r.url for r in ds.resources if r.type == "main")
        assert ds.access_type == "open"
    obstacles = datasets[
        "http://catalogue.geo-ide.developpement-durable.gouv.fr/fr-120066022-orphan-f775c282-fc21-48bb-b463-95a02ea922e7"
    ]
    assert obstacles.title == "Obstacles à l'écoulement - Dordogne"
    assert obstacles.tags == ["roe"]
    # The snapshot's XSLT put this publication date in created_at; ISO says publication, so issued_at here.
    assert obstacles.harvest.issued_at.date() == date(2024, 1, 4) and obstacles.harvest.created_at is None
    assert obstacles.harvest.modified_at.date() == date(2018, 2, 6)
    assert obstacles.harvest.remote_url == (
        "http://catalogue.geo-ide.e2.rie.gouv.fr/catalogue/srv/fre/catalog.search#/metadata/"
        "fr-120066022-jdd-d94e4854-0718-47c6-a999-24b40685a765"
    )
    titles = {r.title for r in obstacles.resources}
    assert "Téléchargement simple (Atom) du jeu et des documents associés via internet" in titles
    assert "URL du GetCapabilities du service wfs sur intranet" in titles


def test_geoplateforme_rpg_layers(catalog, api, fixtures_dir: Path) -> None:
    serve_pages(api, {"1": fixtures_dir / "udata/csw_dcat/geoplateforme-iso19139-IGNF_RPG.xml"})
    source, report = run(catalog, api)
    assert statuses(report) == {"done": 1}
    [ds] = catalog.list_datasets(source_id=source.id)
    assert ds.title == "RPG"
    formats = [r.format for r in ds.resources]
    assert len(ds.resources) == 70
    assert (formats.count("wfs"), formats.count("wms"), formats.count("wmts")) == (24, 23, 23)
    assert ds.access_type == "open" and ds.license == "lov2"  # the Etalab open-licence PDF anchor
    ids = sorted(r.id for r in ds.resources)
    _, again = run(catalog, api)
    assert statuses(again) == {"done": 1}
    [ds] = catalog.list_datasets(source_id=source.id)
    assert sorted(r.id for r in ds.resources) == ids and len(ds.resources) == 70


def test_exception_report_and_broken_answers(catalog, api, geonetwork) -> None:
    source, first = run(catalog, api)
    assert statuses(first) == {"done": 6}
    api.answer(CSW, 200, "application/xml", '<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows"/>')
    _, report = run(catalog, api)
    assert report.job.status == "failed" and report.job.errors[0]["message"].startswith("Failed to query CSW:\n")
    api.answer(CSW, 500, "text/plain", "boom")
    _, report = run(catalog, api)
    assert report.job.status == "failed" and report.job.errors[0]["message"].startswith("500 Server Error")
    api.answer(
        CSW, 200, "application/xml",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    )
    _, report = run(catalog, api)
    assert report.job.status == "failed" and "DTD" in report.job.errors[0]["message"]
    assert len(datasets_of(catalog, source)) == 6  # nothing stored is lost


def test_a_record_that_is_not_iso_fails_alone(catalog, api, fixtures_dir: Path) -> None:
    page = (fixtures_dir / "udata/csw_dcat/geonetwork-iso19139-page-5.xml").read_text(encoding="utf-8")
    broken = page.replace('nextRecord="0">', 'nextRecord="0"><csw:Record xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"/>', 1)
    assert broken != page
    api.answer(CSW, 200, "application/xml", broken.encode("utf-8"))
    _, report = run(catalog, api)
    assert report.job.status == "done-errors" and statuses(report) == {"done": 2, "failed": 1}
    failed = next(i for i in report.items if i.status == "failed")
    assert failed.errors[0]["message"] == "record 1 is not an ISO 19139 record (Record)"


SERVICE_RECORD = """
<gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco"
    xmlns:srv="http://www.isotc211.org/2005/srv">
  <gmd:fileIdentifier><gco:CharacterString>service-wms-1</gco:CharacterString></gmd:fileIdentifier>
  <gmd:hierarchyLevel><gmd:MD_ScopeCode codeListValue="service">service</gmd:MD_ScopeCode></gmd:hierarchyLevel>
  <gmd:identificationInfo>
    <srv:SV_ServiceIdentification>
      <gmd:citation><gmd:CI_Citation><gmd:title><gco:CharacterString>Service WMS des PLU</gco:CharacterString></gmd:title></gmd:CI_Citation></gmd:citation>
      <gmd:abstract><gco:CharacterString>Les PLU de la Somme en WMS.</gco:CharacterString></gmd:abstract>
      <srv:containsOperations><srv:SV_OperationMetadata><srv:connectPoint><gmd:CI_OnlineResource>
        <gmd:linkage><gmd:URL>https://ogc.test/wms?SERVICE=WMS&amp;REQUEST=GetCapabilities</gmd:URL></gmd:linkage>
      </gmd:CI_OnlineResource></srv:connectPoint></srv:SV_OperationMetadata></srv:containsOperations>
      <srv:operatesOn uuidref="fr-120066022-orphan-residentifier-140d31c6-643d-42a9-85df-2737a118e144"/>
    </srv:SV_ServiceIdentification>
  </gmd:identificationInfo>
</gmd:MD_Metadata>
"""


def test_service_records_become_dataservices(catalog, api, fixtures_dir: Path) -> None:
    page = (fixtures_dir / "udata/csw_dcat/geonetwork-iso19139-page-1.xml").read_text(encoding="utf-8")
    with_service = page.replace('nextRecord="3">', 'nextRecord="0">' + SERVICE_RECORD, 1)
    assert with_service != page
    api.answer(CSW, 200, "application/xml", with_service.encode("utf-8"))
    source, report = run(catalog, api)
    assert report.job.status == "done" and statuses(report) == {"done": 3}
    assert [i.kind for i in report.items] == ["dataset", "dataset", "dataservice"]
    [service] = catalog.list_dataservices(source_id=source.id)
    assert (service.title, service.description) == ("Service WMS des PLU", "Les PLU de la Somme en WMS.")
    assert service.base_api_url == "https://ogc.test/wms?SERVICE=WMS&REQUEST=GetCapabilities"
    assert service.datasets == [datasets_of(catalog, source)[CARTIGNY].id]
    assert service.harvest.remote_id == "service-wms-1" and service.harvest.backend == "CSW-ISO-19139"
