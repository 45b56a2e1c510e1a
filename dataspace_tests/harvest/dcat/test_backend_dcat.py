"""Acceptance: DCAT fixture catalogues served over loopback HTTP, harvested by the real engine (SOURCES.md values)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from dataspace_assets.harvest.backends.dcat import DcatBackend


def job_error(report) -> str:
    [error] = report.job.errors
    return error["message"]


def statuses(report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in report.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


def snapshot(harvester, source) -> dict:
    """What a re-run must leave unchanged: dataset ids, resource ids and URLs, service links."""
    return {
        "datasets": sorted(
            (d.id, d.harvest.remote_id, d.title, tuple(sorted((r.id, r.url, r.title) for r in d.resources)))
            for d in harvester.catalog.list_datasets(source_id=source.id)
        ),
        "dataservices": sorted(
            (s.id, s.title, tuple(sorted(s.datasets))) for s in harvester.catalog.list_dataservices(source_id=source.id)
        ),
        "counts": {t: harvester.catalog.count(t) for t in ("datasets", "dataservices", "contact_points")},
    }


def assert_rerun_changes_nothing(harvester, path: str, **kwargs) -> None:
    source = harvester.source(path, **kwargs)
    before = snapshot(harvester, source)
    report = harvester.run(path, **kwargs)
    assert report.job.status in ("done", "done-errors")
    assert snapshot(harvester, source) == before


# ---------------------------------------------------------------- udata/dcat
def test_flat_jsonld(harvester) -> None:
    report = harvester.run("udata/dcat/flat.jsonld")
    assert report.job.status == "done" and statuses(report) == {"done": 3}
    datasets = harvester.datasets(harvester.source("udata/dcat/flat.jsonld"))
    assert sorted(datasets) == ["1", "2", "3"]
    for key, ds in datasets.items():
        assert ds.title == f"Dataset {key}" and ds.description == f"Dataset {key} description"
        assert ds.harvest.remote_url == ds.harvest.uri == f"http://data.test.org/datasets/{key}"
        assert ds.harvest.issued_at.date() == ds.harvest.modified_at.date() == date(2016, 12, 14)
        assert ds.harvest.backend == "DCAT" and ds.harvest.dct_identifier == key
        assert ds.harvest.domain == "127.0.0.1" and ds.harvest.last_update is not None
    assert datasets["1"].tags == ["tag-1", "tag-2", "tag-3", "tag-4", "theme-1", "theme-2"]
    assert [len(datasets[k].resources) for k in ("1", "2", "3")] == [2, 2, 1]
    assert_rerun_changes_nothing(harvester, "udata/dcat/flat.jsonld")


def test_bnodes_jsonld(harvester) -> None:
    report = harvester.run("udata/dcat/bnodes.jsonld")
    assert statuses(report) == {"done": 3}
    datasets = harvester.datasets(harvester.source("udata/dcat/bnodes.jsonld"))
    assert [len(datasets[k].resources) for k in ("1", "2", "3")] == [2, 2, 1]
    first = datasets["1"].resources[0]
    assert first.title == "Resource 1-1"
    assert (first.description, first.format, first.mime, first.type) == ("A JSON resource", "json", "application/json", "main")
    assert_rerun_changes_nothing(harvester, "udata/dcat/bnodes.jsonld")


def test_bnodes_xml_with_a_dataservice(harvester) -> None:
    report = harvester.run("udata/dcat/bnodes.xml")
    assert report.job.status == "done"
    assert statuses(report) == {"done": 4}
    source = harvester.source("udata/dcat/bnodes.xml")
    datasets = harvester.datasets(source)
    assert [len(datasets[k].resources) for k in ("1", "2", "3")] == [2, 2, 1]
    assert datasets["1"].spatial is None and datasets["3"].spatial is None
    assert datasets["2"].spatial["geom"]["type"] == "MultiPolygon"
    assert len(datasets["2"].spatial["geom"]["coordinates"]) == 3
    assert {"repartition-des-especes", "inspire"} <= set(datasets["1"].tags)
    assert {"hydrographie", "inspire"} <= set(datasets["2"].tags)
    assert "inspire" not in datasets["3"].tags
    [service] = harvester.catalog.list_dataservices(source_id=source.id)
    assert service.title == "Explore API v2"
    assert service.base_api_url == "https://data.paris2024.org/api/explore/v2.1/"
    assert service.machine_documentation_url == "https://data.paris2024.org/api/explore/v2.1/swagger.json"
    assert service.harvest.remote_url == "https://data.paris2024.org/api/explore/v2.1/console"
    assert sorted(service.datasets) == sorted([datasets["2"].id, datasets["3"].id])
    assert service.harvest.source_url == source.url
    assert_rerun_changes_nothing(harvester, "udata/dcat/bnodes.xml")


def test_bnodes_xml_max_items(harvester) -> None:
    report = harvester.run("udata/dcat/bnodes.xml", max_items=2)
    assert report.job.status == "done"
    assert statuses(report) == {"done": 2}
    assert job_error(report) == "2 max items reached, not all datasets/dataservices were retrieved"
    assert harvester.catalog.count("datasets") == 2 and harvester.catalog.count("dataservices") == 0


def test_bnodes_xml_preview_saves_nothing(harvester) -> None:
    from dataspace_assets.harvest import engine

    report = engine.preview_job(
        harvester.catalog, backend="dcat", url=harvester.server.url("udata/dcat/bnodes.xml"), name="Preview",
        config={"allow_private_addresses": True},
    )
    [service_item] = [i for i in report.items if i.kind == "dataservice"]
    assert len(report.dataservices[service_item.dataservice_id].datasets) == 2
    assert not report.job.errors
    for table in ("sources", "jobs", "datasets", "dataservices", "contact_points"):
        assert harvester.catalog.count(table) == 0, table


@pytest.fixture
def catalog_xml(harvester):
    report = harvester.run("udata/dcat/catalog.xml")
    return report, harvester.datasets(harvester.source("udata/dcat/catalog.xml"))


def test_catalog_xml(harvester, catalog_xml) -> None:
    report, datasets = catalog_xml
    assert statuses(report) == {"done": 4} and report.job.status == "done"
    assert harvester.catalog.count("dataservices") == 0
    ds1, ds2, ds3, ds4 = (datasets[k] for k in ("1", "2", "3", "4"))
    assert ds1.description == "# h1 title\n\n## h2 title\n\n**and bold text**"
    assert ds1.temporal_coverage == {"start": date(2016, 1, 1), "end": date(2016, 12, 5)}
    [contact] = [c for c in ds1.contact_points if c.role == "contact"]
    assert (contact.name, contact.email, contact.url) == ("Organization contact", "hello@its.me", "https://data.support.com")
    assert ds1.frequency is None and ds1.license == "lov1"
    resources = {r.title: r for r in ds1.resources}
    assert len(ds1.resources) == 4
    r11 = resources["Resource 1-1"]
    assert (r11.format, r11.mime, r11.filesize) == ("json", "application/json", 12323)
    assert r11.harvest["issued_at"].startswith("2018-03-12") and r11.harvest["modified_at"].startswith("2018-03-14")
    assert resources["Resource 1-2"].format == "json"
    assert (resources["Resource 1-3"].type, resources["Resource 1-3"].url) == ("other", "http://data.test.org/datasets/1/resources/3")
    assert (resources["Resource 1-4"].type, resources["Resource 1-4"].format) == ("api", None)
    assert ds2.license == "lov2" and ds2.extras["dcat"]["rights"] == ["Licence Ouverte Version 2.0"]
    assert ds3.frequency == "daily" and ds3.harvest.created_at.date() == date(2016, 12, 12)
    assert ds3.access_type == "restricted" and ds3.license is None
    assert ds3.access_type_reason_category == "intellectual-property"  # INSPIRE 13.1.e
    assert {"hvd", "observation-de-la-terre-et-environnement"} <= set(ds3.tags)
    assert "accessRights" not in ds4.extras.get("dcat", {})
    assert_rerun_changes_nothing(harvester, "udata/dcat/catalog.xml")


def test_format_from_head_content_type(harvester, fixtures_dir: Path) -> None:
    body = (fixtures_dir / "udata/dcat/catalog.xml").read_bytes()
    harvester.server.route("virtual/catalog", body=body, content_type="application/xml; charset=utf-8")
    report = harvester.run("virtual/catalog")
    assert report.job.status == "done" and statuses(report) == {"done": 4}
    assert [m for m, p, _ in harvester.server.requests if p == "/virtual/catalog"] == ["HEAD", "GET"]


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/html; charset=utf-8", 'Unsupported mime type "text/html"'),
        ("application/octet-stream", 'Unsupported mime type "application/octet-stream"'),
    ],
)
def test_undetectable_format_fails_the_job(harvester, content_type: str, message: str) -> None:
    harvester.server.route("virtual/catalog", body=b"<html></html>", content_type=content_type)
    report = harvester.run("virtual/catalog")
    assert report.job.status == "failed" and job_error(report) == message and report.items == []


def test_head_404_fails_the_job(harvester) -> None:
    report = harvester.run("virtual/nothing-here")
    assert report.job.status == "failed"
    assert job_error(report) == f"404 Client Error: Not Found for url: {harvester.server.url('virtual/nothing-here')}"


def test_nested_jsonld(harvester) -> None:
    report = harvester.run("udata/dcat/nested.jsonld")
    assert statuses(report) == {"done": 1}
    [ds] = harvester.datasets(harvester.source("udata/dcat/nested.jsonld")).values()
    assert ds.temporal_coverage == {"start": date(2016, 1, 1), "end": date(2016, 12, 5)}
    assert ds.harvest.remote_url == "http://data.test.org/datasets/1"
    [resource] = ds.resources
    assert resource.type == "main"
    assert (resource.checksum.type, resource.checksum.value) == ("sha1", "fb4106aa286a53be44ec99515f0f0421d4d7ad7d")
    assert_rerun_changes_nothing(harvester, "udata/dcat/nested.jsonld")


def test_partial_collection_paging(harvester, fixtures_dir: Path) -> None:
    page1 = (fixtures_dir / "udata/dcat/partial-collection-1.jsonld").read_text()
    page2 = (fixtures_dir / "udata/dcat/partial-collection-2.jsonld").read_bytes()
    # The fixture names its next page on data.test.org; point it at the loopback server instead.
    next_url = harvester.server.url("virtual/catalog-page-2.jsonld")
    harvester.server.route("virtual/catalog.jsonld", body=page1.replace("http://data.test.org/catalog.jsonld?page=2", next_url))
    harvester.server.route("virtual/catalog-page-2.jsonld", body=page2)
    report = harvester.run("virtual/catalog.jsonld")
    assert report.job.status == "done" and statuses(report) == {"done": 4}
    assert len(harvester.datasets(harvester.source("virtual/catalog.jsonld"))) == 4
    assert [p for m, p, _ in harvester.server.requests if m == "GET"] == ["/virtual/catalog.jsonld", "/virtual/catalog-page-2.jsonld"]
    assert_rerun_changes_nothing(harvester, "virtual/catalog.jsonld")


def test_a_broken_second_page_fails_the_job_and_keeps_the_first(harvester, fixtures_dir: Path) -> None:
    page1 = (fixtures_dir / "udata/dcat/partial-collection-1.jsonld").read_text()
    next_url = harvester.server.url("virtual/catalog-page-2.jsonld")
    harvester.server.route("virtual/catalog.jsonld", body=page1.replace("http://data.test.org/catalog.jsonld?page=2", next_url))
    harvester.server.route("virtual/catalog-page-2.jsonld", body=b"{ not json")
    report = harvester.run("virtual/catalog.jsonld")
    assert report.job.status == "failed"
    assert job_error(report).startswith(f"Failed to parse {next_url} as json-ld: ")
    assert statuses(report) == {"done": 3}
    assert len(harvester.datasets(harvester.source("virtual/catalog.jsonld"))) == 3


def test_geonetwork(harvester) -> None:
    report = harvester.run("udata/dcat/geonetwork.xml")
    assert statuses(report) == {"done": 1}
    [(remote_id, ds)] = harvester.datasets(harvester.source("udata/dcat/geonetwork.xml")).items()
    expected = "0c456d2d-9548-4a2a-94ef-231d9d890ce2 https://sig.oreme.org/geonetwork/srv/resources0c456d2d-9548-4a2a-94ef-231d9d890ce2"
    assert remote_id == ds.harvest.dct_identifier == expected
    assert ds.harvest.issued_at.date() == date(2004, 11, 3)
    assert ds.harvest.created_at is None and ds.harvest.modified_at is None and ds.harvest.remote_url is None
    assert ds.description.startswith("Data of type chemistry")
    assert ds.temporal_coverage == {"start": date(2004, 11, 3), "end": date(2005, 3, 30)}
    assert ds.tags == ["biodiversity-dynamics", "inspire"]
    assert_rerun_changes_nothing(harvester, "udata/dcat/geonetwork.xml")


def test_datara_contacts(harvester) -> None:
    path = "udata/dcat/datara--5a26b0f6-0ccf-46ad-ac58-734054b91977.rdf.xml"
    report = harvester.run(path)
    assert statuses(report) == {"done": 1}
    [ds] = harvester.datasets(harvester.source(path)).values()
    assert sorted((c.name, c.email, c.role) for c in ds.contact_points) == [
        (
            "Administrateur de Données (Direction Régionale de l’Environnement de l’Aménagement et du Logement "
            "d'Auvergne-Rhône-Alpes (DREAL Auvergne-Rhône-Alpes))",
            "sig.dreal-ara@developpement-durable.gouv.fr",
            "user",
        ),
        ("IGN", "sav.bd@ign.fr", "rightsHolder"),
    ]
    assert_rerun_changes_nothing(harvester, path)


def test_series(harvester) -> None:
    report = harvester.run("udata/dcat/series.xml")
    assert statuses(report) == {"done": 1}
    [ds] = harvester.datasets(harvester.source("udata/dcat/series.xml")).values()
    assert ds.title == "DCE – Bassin Artois-Picardie - Etat global"
    assert_rerun_changes_nothing(harvester, "udata/dcat/series.xml")
    assert harvester.catalog.count("datasets") == 1


def test_jsonld_contexts_keyed_by_the_documents_own_context_url(harvester) -> None:
    pod = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"  # what evian.json names as @context
    config = {"jsonld_contexts": {pod: harvester.server.url("udata/dcat-historical/context.jsonld")}}
    report = harvester.run("udata/dcat/evian.json", config=config, name="evian by own url")
    assert report.job.status == "done" and statuses(report) == {"done": 8}
    assert ("GET", "/udata/dcat-historical/context.jsonld") in [(m, p) for m, p, _ in harvester.server.requests]


def test_evian_with_an_offline_context(harvester) -> None:
    pod = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
    from dataspace_assets.harvest.dcat.rdf import URIS_TO_REPLACE

    # The dead POD context is first rewritten to its gist copy (spec 2.1); the config serves that copy offline.

    config = {"jsonld_contexts": {URIS_TO_REPLACE[pod]: harvester.server.url("udata/dcat-historical/context.jsonld")}}
    report = harvester.run("udata/dcat/evian.json", config=config)
    assert report.job.status == "done" and statuses(report) == {"done": 8}
    datasets = harvester.datasets(harvester.source("udata/dcat/evian.json"))
    item = datasets["https://www.arcgis.com/home/item.html?id=f6565516d1354383b25793e630cf3f2b&sublayer=5"]
    assert item.spatial["geom"] == {
        "type": "MultiPolygon",
        "coordinates": [[[[6.5735, 46.3912], [6.6069, 46.3912], [6.6069, 46.4028], [6.5735, 46.4028], [6.5735, 46.3912]]]],
    }
    assert ("GET", "/udata/dcat-historical/context.jsonld") in [(m, p) for m, p, _ in harvester.server.requests]
    assert len(datasets) == 8
    assert_rerun_changes_nothing(harvester, "udata/dcat/evian.json", config=config)


# ---------------------------------------------------------------- udata/dcat-historical
def _ckan_page(harvester, fixtures_dir: Path, name: str, page2: bytes | None, *, status: int | None = None) -> str:
    text = (fixtures_dir / "udata/dcat-historical" / name).read_text()
    ext = name.rsplit(".", 1)[-1]
    next_url = harvester.server.url(f"virtual/page-2.{ext}")
    harvester.server.route(f"virtual/{name}", body=text.replace(f"http://demo.ckan.org/catalog.{ext}?page=2", next_url))
    if page2 is not None:
        harvester.server.route(f"virtual/page-2.{ext}", body=page2)
    elif status:
        harvester.server.route(f"virtual/page-2.{ext}", status=status)
    return f"virtual/{name}"


def _repair(text: str) -> str:
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _non_ascii_keyword_ids(fixtures_dir: Path) -> set[str]:
    from rdflib import Graph
    from rdflib.namespace import DCAT, DCTERMS

    graph = Graph().parse(fixtures_dir / "udata/dcat-historical/ckan.ttl", format="turtle")
    return {
        str(graph.value(node, DCTERMS.identifier))
        for node in graph.subjects(DCAT.keyword, None)
        if any(not str(k).isascii() for p in (DCAT.keyword, DCAT.theme) for k in graph.objects(node, p))
    }


EMPTY = {
    "ttl": b"@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<http://demo.ckan.org/catalog> a dcat:Catalog .\n",
    "rdf": b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
}


@pytest.mark.parametrize("name", ["ckan.ttl", "ckan.rdf"])
def test_ckan_legacy_paged_collection(harvester, fixtures_dir: Path, name: str) -> None:
    path = _ckan_page(harvester, fixtures_dir, name, EMPTY[name.rsplit(".", 1)[-1]])
    report = harvester.run(path)
    # udata 17.18 failed 3 items on its resource URL validator ("http://none", "http://example.xml"); we keep them.
    assert report.job.status == "done" and statuses(report) == {"done": 100}
    datasets = harvester.datasets(harvester.source(path))
    assert len(datasets) == 100
    assert sum(len(d.resources) for d in datasets.values()) == 135
    assert sum(1 for d in datasets.values() if not d.resources) == 6
    assert sum(1 for d in datasets.values() if d.tags) == 62
    assert [(k, d.temporal_coverage) for k, d in datasets.items() if d.temporal_coverage] == [
        ("a4a6570b-d91d-4bdd-af18-d7beca65c37f", {"start": date(2016, 12, 5), "end": None})
    ]
    assert all(d.frequency is None for d in datasets.values())
    result = json.loads((fixtures_dir / "udata/dcat-historical/ckan.ttl.udata-17.18-result.json").read_text())
    expected = result["datasets"]
    assert len(expected) == 97
    # The 3 items udata 17.18 failed on its URL validator are kept here, with the offending resource URLs.
    bad_urls = {
        remote_id: sorted(r.url for r in datasets[remote_id].resources if r.url in ("http://none", "http://example.xml"))
        for remote_id in result["_summary"]["failed_items"]
    }
    assert bad_urls == {
        "1c3ffd89-c6bf-43c0-8628-1bdeb85a9512": ["http://example.xml"],
        "43c0bc41-c99a-4746-906d-9982395034a5": ["http://none"],
        "c7d3c592-6d82-4be3-b855-3bf128e5800d": ["http://none"],
    }
    assert sum(len(datasets[k].resources) for k in expected) == result["_summary"]["resources"] == 132
    # That udata run read the Turtle as Latin-1 (no charset on text/turtle), so its non-ASCII titles and
    # tags are mojibake: titles are repaired before comparing, tags compared where the keywords are ASCII.
    non_ascii = _non_ascii_keyword_ids(fixtures_dir)
    compared_tags = 0
    for remote_id, values in expected.items():
        ds = datasets[remote_id]
        assert (ds.title, len(ds.resources)) == (_repair(values["title"]), values["n_resources"]), remote_id
        if remote_id not in non_ascii:
            assert ds.tags == values["tags"], remote_id
            compared_tags += 1
    assert compared_tags == 97 - 9
    assert_rerun_changes_nothing(harvester, path)


def test_ckan_page_2_missing_fails_the_job_and_keeps_page_1(harvester, fixtures_dir: Path) -> None:
    path = _ckan_page(harvester, fixtures_dir, "ckan.ttl", None, status=404)
    report = harvester.run(path)
    assert report.job.status == "failed"
    assert job_error(report) == f"404 Client Error: Not Found for url: {harvester.server.url('virtual/page-2.ttl')}"
    assert len(harvester.datasets(harvester.source(path))) == 100


# ---------------------------------------------------------------- ckanext-dcat examples
def test_ckanext_catalogs(harvester) -> None:
    for path in ("ckanext-dcat/examples/dcat/catalog.rdf", "ckanext-dcat/examples/dcat/catalog_datasets_list.rdf"):
        report = harvester.run(path, name=path)
        assert statuses(report) == {"done": 2}, path
        datasets = {d.title: d for d in harvester.datasets(harvester.source(path, name=path)).values()}
        assert sorted(datasets) == ["Example dataset 1", "Example dataset 2"]
        assert datasets["Example dataset 1"].tags == ["pollution", "stats"]
        assert datasets["Example dataset 2"].tags == ["education", "sloths", "stats"]
        assert (len(datasets["Example dataset 1"].resources), len(datasets["Example dataset 2"].resources)) == (3, 2)
        # The licence candidate matches nothing in the registry, so the default licence applies (spec 2.7).
        assert datasets["Example dataset 1"].extras["dcat"]["license"] == ["https://data.some.org/link/to/license"]
        assert datasets["Example dataset 1"].license == "notspecified"
        assert_rerun_changes_nothing(harvester, path, name=path)


def test_ckanext_dataset_rdf(harvester) -> None:
    path = "ckanext-dcat/examples/dcat/dataset.rdf"
    assert statuses(harvester.run(path)) == {"done": 1}
    [(remote_id, ds)] = harvester.datasets(harvester.source(path)).items()
    assert (remote_id, ds.title) == ("9df8df51-63db-37a8-e044-0003ba9b0d98", "Zimbabwe Regional Geochemical Survey.")
    assert ds.frequency == "daily"
    assert ds.temporal_coverage == {"start": date(1905, 3, 1), "end": date(2013, 1, 5)}
    assert ds.tags == ["earth-sciences", "exploration", "geochemistry", "geology"]
    [res] = ds.resources
    assert (res.title, res.format, res.mime, res.type) == ("Some website", "html", "text/html", "api")
    # spdx checksum whose value is typed xsd:hexBinary
    assert (res.checksum.type, res.checksum.value) == ("sha1", "4304cf2e751e6053c90b1804c89c0ebb758f395a")
    assert_rerun_changes_nothing(harvester, path)


def test_ckanext_small_files(harvester) -> None:
    path = "ckanext-dcat/examples/dcat/dataset_afs.ttl"
    assert statuses(harvester.run(path)) == {"done": 1}
    [ds] = harvester.datasets(harvester.source(path)).values()
    assert ds.title == "A test dataset on your catalogue" and len(ds.resources) == 2
    assert_rerun_changes_nothing(harvester, path)

    path = "ckanext-dcat/examples/dcat/dataset_gov_de.rdf"
    assert statuses(harvester.run(path)) == {"done": 1}
    [ds] = harvester.datasets(harvester.source(path)).values()
    assert ds.title == "Liefer- und Abholservices (Gastronomie)" and len(ds.resources) == 9
    assert sorted(r.format or "none" for r in ds.resources) == sorted(
        ["geojson", "wms", "wfs", "none", "none", "xlsx", "csv", "gml", "kml"]
    )
    assert {r.title for r in ds.resources} == {ds.title} and all(r.checksum is None for r in ds.resources)
    assert_rerun_changes_nothing(harvester, path)

    path = "ckanext-dcat/examples/dcat/dataset_health.ttl"
    assert statuses(harvester.run(path)) == {"done": 1}
    [ds] = harvester.datasets(harvester.source(path)).values()
    assert (ds.title, ds.frequency, ds.tags) == ("HealthDCAT-AP test dataset", "daily", ["test-1", "test-2", "test-3"])
    assert ds.temporal_coverage == {"start": date(2020, 3, 1), "end": date(2024, 12, 31)}
    assert [r.format for r in ds.resources] == ["csv"]
    assert_rerun_changes_nothing(harvester, path)
    assert harvester.catalog.count("datasets") == 3


def test_ckanext_multilingual_with_english_as_default_language(harvester) -> None:
    path = "ckanext-dcat/examples/dcat/dataset_multilingual.ttl"
    assert statuses(harvester.run(path, config={"default_language": "en"})) == {"done": 1}
    [ds] = harvester.datasets(harvester.source(path)).values()
    assert ds.title == "Test DCAT dataset"
    assert ds.tags == ["oaks", "pines", "pinos", "pins", "robles", "roures"]
    assert_rerun_changes_nothing(harvester, path, config={"default_language": "en"})


@pytest.mark.parametrize("path", ["ckanext-dcat/examples/dcat/catalog_pod.jsonld", "ckanext-dcat/examples/dcat/dataset_deri.ttl"])
def test_records_without_identifier_are_skipped(harvester, path: str) -> None:
    report = harvester.run(path)
    assert report.job.status == "done"
    [item] = report.items
    assert (item.status, [e["message"] for e in item.errors]) == ("skipped", ["missing identifier"])
    assert harvester.catalog.count("datasets") == 0
    again = harvester.run(path)
    assert [(i.status, [e["message"] for e in i.errors]) for i in again.items] == [("skipped", ["missing identifier"])]
    assert harvester.catalog.count("datasets") == 0


# ---------------------------------------------------------------- faults fail the job cleanly
def test_xxe_document_fails_the_job_without_leaking(harvester, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY secret SYSTEM "{secret.as_uri()}">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/"
         xmlns:dcat="http://www.w3.org/ns/dcat#">
  <dcat:Dataset rdf:about="http://ex.test/ds"><dct:identifier>x</dct:identifier><dct:title>&secret;</dct:title></dcat:Dataset>
</rdf:RDF>"""
    harvester.server.route("virtual/xxe.xml", body=body)
    report = harvester.run("virtual/xxe.xml")
    assert report.job.status == "failed"
    assert job_error(report) == (
        f"{harvester.server.url('virtual/xxe.xml')}: XML with a DTD or entity declarations is refused "
        "(DTDs and entities are disabled)"
    )
    assert harvester.catalog.count("datasets") == 0
    assert "TOP-SECRET" not in json.dumps(report.job.to_json())


def test_billion_laughs_fails_the_job(harvester) -> None:
    entities = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    body = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{entities}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&l9;</rdf:RDF>'
    harvester.server.route("virtual/laughs.rdf", body=body)
    report = harvester.run("virtual/laughs.rdf")
    assert report.job.status == "failed"
    assert "XML with a DTD or entity declarations is refused" in job_error(report)


def test_private_address_fails_the_job_unless_allowed(harvester) -> None:
    report = harvester.run("udata/dcat/flat.jsonld", config={"allow_private_addresses": False})
    assert report.job.status == "failed"
    assert job_error(report).startswith(f"{harvester.server.url('udata/dcat/flat.jsonld')}: refused to connect to private address")
    assert [p for _m, p, _h in harvester.server.requests] == []


def test_redirect_fails_the_job(harvester) -> None:
    harvester.server.route("udata/dcat/flat.jsonld", status=301, headers={"Location": "http://data.test.org/flat.jsonld"})
    report = harvester.run("udata/dcat/flat.jsonld")
    url = harvester.server.url("udata/dcat/flat.jsonld")
    assert job_error(report) == f"HTTP 301 redirect refused for url: {url} (to http://data.test.org/flat.jsonld)"


def test_html_extension_is_an_unsupported_format(harvester) -> None:
    harvester.server.route("virtual/catalog.html", body=b"<html/>", content_type="text/html")
    report = harvester.run("virtual/catalog.html")
    assert job_error(report) == f'{harvester.server.url("virtual/catalog.html")}: unsupported RDF format "rdfa"'


def test_local_files_only_when_enabled(harvester, fixtures_dir: Path) -> None:
    url = (fixtures_dir / "udata/dcat/flat.jsonld").as_uri()
    report = harvester.run(url, name="local-off")
    assert job_error(report) == f'{url}: local files are not allowed for this source (config "allow_local_files")'
    report = harvester.run(url, name="local-on", config={"allow_local_files": True})
    assert statuses(report) == {"done": 3}


def test_config_type_checks() -> None:
    assert DcatBackend.validate_config({"allow_private_addresses": "yes", "default_language": 3, "timeout": 1.5}) == [
        'Config key "allow_private_addresses" of "dcat" backend must be bool',
        'Config key "default_language" of "dcat" backend must be str',
    ]


def test_config_range_checks() -> None:
    # a timeout of 0 or less used to fail the job with requests' wording, naming no config key
    assert DcatBackend.validate_config({"timeout": -1, "retries": -2, "retry_backoff": 0, "max_bytes": 0}) == [
        'Config key "timeout" of "dcat" backend must be above 0',
        'Config key "retries" of "dcat" backend must be 0 or more',
        'Config key "max_bytes" of "dcat" backend must be above 0',
    ]
