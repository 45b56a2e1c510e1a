"""Round trip: harvest a shared DCAT fixture, publish it, harvest the publication again (Turtle, RDF/XML, JSON-LD,
every page), and compare field by field. What cannot survive is listed in docs/harvest.md ("What a round trip
keeps"), and only that is left out of the comparison here."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.dcat.rdf import URIS_TO_REPLACE
from dataspace_assets.harvest.dcat.mapping import is_valid_url
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord, ResourceRecord
from dataspace_tests.harvest.publish.conftest import harvest

PAGE_SIZE = 2  # small pages, so every fixture with more than two entries is walked over several pages
PLAIN = [
    "udata/dcat/flat.jsonld",
    "udata/dcat/bnodes.jsonld",
    "udata/dcat/bnodes.xml",
    "udata/dcat/catalog.xml",
    "udata/dcat/nested.jsonld",
    "udata/dcat/geonetwork.xml",
    "udata/dcat/datara--5a26b0f6-0ccf-46ad-ac58-734054b91977.rdf.xml",
    "udata/dcat/series.xml",
    "udata/dcat/evian.json",
    "udata/dcat/partial-collection-1.jsonld",
    "udata/dcat-historical/ckan.ttl",
    "udata/dcat-historical/ckan.rdf",
    "ckanext-dcat/examples/dcat/catalog.rdf",
    "ckanext-dcat/examples/dcat/catalog_datasets_list.rdf",
    "ckanext-dcat/examples/dcat/dataset.rdf",
    "ckanext-dcat/examples/dcat/dataset_afs.ttl",
    "ckanext-dcat/examples/dcat/dataset_gov_de.rdf",
    "ckanext-dcat/examples/dcat/dataset_health.ttl",
    "ckanext-dcat/examples/dcat/dataset_multilingual.ttl",
    "ckanext-dcat/examples/dcat/catalog_pod.jsonld",
    "ckanext-dcat/examples/dcat/dataset_deri.ttl",
]
EMPTY_PAGE = {
    "ttl": b"@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<http://demo.ckan.org/catalog> a dcat:Catalog .\n",
    "rdf": b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
}


def serve_fixture(http_server, fixtures_dir: Path, rel: str) -> tuple[str, dict]:
    """The URL (and source config) to harvest a fixture from the local fixture server, its paging made local."""
    if rel.endswith("partial-collection-1.jsonld"):
        page1 = (fixtures_dir / rel).read_text()
        page2 = (fixtures_dir / "udata/dcat/partial-collection-2.jsonld").read_bytes()
        http_server.route("virtual/catalog.jsonld", body=page1.replace(
            "http://data.test.org/catalog.jsonld?page=2", http_server.url("virtual/catalog-page-2.jsonld")))
        http_server.route("virtual/catalog-page-2.jsonld", body=page2)
        return http_server.url("virtual/catalog.jsonld"), {}
    if rel.startswith("udata/dcat-historical/"):
        name = rel.rsplit("/", 1)[-1]
        ext = name.rsplit(".", 1)[-1]
        text = (fixtures_dir / rel).read_text()
        http_server.route(f"virtual/{name}", body=text.replace(
            f"http://demo.ckan.org/catalog.{ext}?page=2", http_server.url(f"virtual/page-2.{ext}")))
        http_server.route(f"virtual/page-2.{ext}", body=EMPTY_PAGE[ext])
        return http_server.url(f"virtual/{name}"), {}
    if rel.endswith("evian.json"):
        pod = next(iter(URIS_TO_REPLACE.values()))
        return http_server.url(rel), {"jsonld_contexts": {pod: http_server.url("udata/dcat-historical/context.jsonld")}}
    return http_server.url(rel), {}


# ------------------------------------------------------------------ what must survive
def _resource(resource: ResourceRecord) -> tuple:
    harvest = resource.harvest or {}
    return (
        resource.url, resource.title, resource.description, resource.format, resource.mime, resource.filesize,
        resource.type if resource.type in ("main", "api", "other") else "main",
        (resource.checksum.type, resource.checksum.value) if resource.checksum else None,
        resource.schema, (resource.extras or {}).get("dcat"),
        str(harvest.get("issued_at")) if harvest.get("issued_at") else None,
        str(harvest.get("modified_at")) if harvest.get("modified_at") else None,
    )


def _contacts(record) -> list[tuple]:
    return sorted(((c.name, c.email, c.url, c.role) for c in record.contact_points), key=repr)


def dataset_fields(dataset: DatasetRecord, *, published: bool = False) -> dict:
    """The fields a round trip keeps (docs/harvest.md), in comparable form."""
    dcat = dict((dataset.extras or {}).get("dcat") or {})
    meta = dataset.harvest
    return {
        "title": dataset.title,
        "description": dataset.description,
        "acronym": dataset.acronym,
        "tags": sorted(dataset.tags),
        "frequency": dataset.frequency,
        "temporal_coverage": dataset.temporal_coverage,
        "spatial": dataset.spatial,
        "license": dataset.license,
        "schema": dataset.schema,
        "contact_points": _contacts(dataset),
        "access_type": dataset.access_type,
        "access_type_reason_category": dataset.access_type_reason_category,
        "extras.dcat": dcat,
        "created_at": meta.created_at,
        "issued_at": meta.issued_at,
        "modified_at": meta.modified_at,
        "remote_url": meta.remote_url,
        "resources": sorted((_resource(r) for r in dataset.resources), key=repr),
    }


def expected_after_round_trip(original: DatasetRecord, catalog: Catalog, iri: str) -> dict:
    """The original's fields, changed only in the ways docs/harvest.md documents."""
    fields = dataset_fields(original)
    dcat = fields["extras.dcat"]
    licence = catalog.license_registry().get(original.license) if original.license else None
    own = dcat.get("license") or []
    guessed = catalog.license_registry().guess(own[0], default=None) if len(own) == 1 else None
    if licence and original.access_type in (None, "open") and not (guessed and guessed.id == original.license):
        # The licence IRI is published on the dataset: a harvester lists it among the dataset's licences.
        dcat["license"] = [licence.url or licence.id]
    if fields["remote_url"] is None or not is_valid_url(fields["remote_url"]):
        fields["remote_url"] = iri  # no landing page: the publication's own IRI is the page
    return fields


def dataservice_fields(service: DataserviceRecord, dataset_ids: dict[str, str]) -> dict:
    meta = service.harvest
    return {
        "title": service.title,
        "description": service.description,
        "base_api_url": service.base_api_url,
        "machine_documentation_url": service.machine_documentation_url,
        "license": service.license,
        "tags": sorted(service.tags),
        "contact_points": _contacts(service),
        "datasets": sorted(dataset_ids.get(d, d) for d in service.datasets),
        "issued_at": meta.issued_at,
        "modified_at": meta.modified_at,
        "created_at": meta.created_at,
    }


# ------------------------------------------------------------------ the test
def assert_round_trip(catalog: Catalog, server, source, tmp_path: Path, label: str, paths=None) -> None:  # noqa: ANN001
    """Harvest the publication in every format, every page, and compare it with the source's records."""
    originals = catalog.list_datasets(source_id=source.id)
    services = catalog.list_dataservices(source_id=source.id)
    for path in paths or ("/catalog.ttl", "/catalog.rdf", "/catalog.jsonld"):
        name = path.strip("/").replace(".", "-")
        again = Catalog.open(f"sqlite:///{tmp_path / f'again-{name}.db'}")
        server.requests.clear()
        try:
            republished, second = harvest(again, f"{server.url}{path}?page_size={PAGE_SIZE}", name=f"again {path}")
            assert second.job.status == "done", (path, second.job.errors)
            pages = max(1, (len(originals) + len(services) + PAGE_SIZE - 1) // PAGE_SIZE)
            walked = {q for m, p, q in server.requests if m == "GET" and p == path}
            assert walked == {f"page_size={PAGE_SIZE}"} | {f"page={n}&page_size={PAGE_SIZE}" for n in range(2, pages + 1)}
            copies = {d.harvest.remote_id: d for d in again.list_datasets(source_id=republished.id)}
            assert sorted(copies) == sorted(d.id for d in originals), path
            for original in originals:
                iri = f"{server.url}/datasets/{original.id}"
                got = dataset_fields(copies[original.id])
                want = expected_after_round_trip(original, catalog, iri)
                for key in want:
                    assert got[key] == want[key], (label, path, original.title, key)
            copied_services = {s.harvest.remote_id: s for s in again.list_dataservices(source_id=republished.id)}
            assert sorted(copied_services) == sorted(s.id for s in services)
            back = {copy.id: remote for remote, copy in copies.items()}
            for service in services:
                got = dataservice_fields(copied_services[service.id], back)
                assert got == dataservice_fields(service, {}), (label, path, service.title)
        finally:
            again.close()


@pytest.mark.parametrize("rel", PLAIN)
def test_round_trip(rel: str, published, http_server, fixtures_dir: Path, tmp_path: Path) -> None:
    catalog, server = published
    url, config = serve_fixture(http_server, fixtures_dir, rel)
    source, report = harvest(catalog, url, name="original", config=config)
    assert report.job.status == "done", report.job.errors
    assert_round_trip(catalog, server, source, tmp_path, rel)


@pytest.mark.parametrize("features", [{}, {"geodcatap": True}])
def test_round_trip_of_the_csw_dcat_fixtures(features: dict, published, fixtures_dir: Path, tmp_path: Path) -> None:
    from dataspace_tests.harvest.dcat.conftest import CswServer

    catalog, server = published
    csw = CswServer(fixtures_dir)  # udata/csw_dcat/geonetwork-dcat-page-{1,3,5}.xml by startPosition
    try:
        source, report = harvest(catalog, csw.url, name="csw", backend="csw-dcat", config={"features": features})
    finally:
        csw.stop()
    assert report.job.status == "done" and len(catalog.list_datasets(source_id=source.id)) == 6
    assert_round_trip(catalog, server, source, tmp_path, "csw_dcat")


def test_round_trip_through_content_negotiation(published, http_server, fixtures_dir: Path, tmp_path: Path) -> None:
    """`/catalog` without an extension: the backend reads the format from a HEAD, then follows the view's links."""
    catalog, server = published
    source, _report = harvest(catalog, http_server.url("udata/dcat/catalog.xml"), name="original")
    assert_round_trip(catalog, server, source, tmp_path, "conneg", paths=["/catalog"])
    assert ("HEAD", "/catalog", f"page_size={PAGE_SIZE}") in server.requests
