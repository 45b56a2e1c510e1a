"""Acceptance: the OpenDataSoft (API v1) backend against a loopback portal serving the real udata-ods answers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest import actions, engine
from dataspace_tests.harvest.backends.apiserver import ApiServer

LOOPBACK = {"allow_private_addresses": True, "retries": 0}
SEARCH = "ods/api/datasets/1.0/search/"


def statuses(report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in report.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


def serve_portal(api: ApiServer, datasets: dict[str, bytes]) -> None:
    """A search answer listing `datasets` (in order) and one dataset GET per id."""
    entries = [json.loads(body) for body in datasets.values()]

    def search(query, _body):
        start, rows = int(query["start"][0]), int(query["rows"][0])
        return 200, "application/json", json.dumps({"nhits": len(entries), "datasets": entries[start : start + rows]}).encode()

    api.on(SEARCH, search)
    for dataset_id, body in datasets.items():
        api.answer(f"ods/api/datasets/1.0/{dataset_id}/", 200, "application/json", body)


@pytest.fixture
def ods_files(fixtures_dir: Path) -> dict[str, bytes]:
    folder = fixtures_dir / "udata-ods"
    return {name: (folder / f"{name}.json").read_bytes() for name in ("test-a", "test-b", "test-c", "inspire", "empty")}


def run(catalog, api, *, config: dict | None = None, name: str = "ODS", max_items: int | None = None):
    source = next((s for s in catalog.list_sources() if s.name == name), None) or actions.create_source(
        catalog, backend="ods", url=api.url("ods/"), name=name, validation_state="accepted",
        config={**LOOPBACK, **(config or {})},
    )
    return source, engine.run_job(catalog, source, max_items=max_items)


def by_remote(catalog, source) -> dict:
    return {d.harvest.remote_id: d for d in catalog.list_datasets(source_id=source.id)}


def test_search_json_from_the_2019_plugin(catalog, api, fixtures_dir: Path) -> None:
    search = json.loads((fixtures_dir / "udata-ods/search.json").read_text())
    serve_portal(api, {d["datasetid"]: json.dumps(d).encode() for d in search["datasets"]})
    api.answer(SEARCH, 200, "application/json", (fixtures_dir / "udata-ods/search.json").read_bytes())
    source, report = run(catalog, api)
    assert report.job.status == "done" and len(report.items) == 4
    assert statuses(report) == {"done": 3, "skipped": 1}
    [call] = api.seen(SEARCH)
    assert (call.query["start"], call.query["rows"], call.query["interopmetas"]) == (["0"], ["50"], ["true"])
    datasets = by_remote(catalog, source)
    assert set(datasets) == {"test-a", "test-b", "test-shp-limit"}
    shp_limit = datasets["test-shp-limit"]  # 50,001 records: GeoJSON but no Shapefile
    assert [r.format for r in shp_limit.resources] == ["csv", "json", "geojson"]


def test_test_a_and_test_b_field_by_field(catalog, api, ods_files) -> None:
    serve_portal(api, {k: ods_files[k] for k in ("test-a", "test-b", "test-c")})
    source, report = run(catalog, api)
    assert report.job.status == "done" and statuses(report) == {"done": 2, "skipped": 1}
    skipped = next(i for i in report.items if i.status == "skipped")
    assert skipped.errors[0]["message"] == "Dataset test-c has no record"
    datasets = by_remote(catalog, source)
    a = datasets["test-a"]
    assert (a.title, a.description, a.frequency, a.private) == ("test-a", "test-a-description", "unknown", False)
    assert a.tags == ["culture", "environment", "heritage", "keyword1", "keyword2"]
    assert a.license == "fr-lo"
    assert a.harvest.backend == "OpenDataSoft"
    assert a.harvest.ods_references == "http://example.com"
    assert a.harvest.modified_at == datetime(2015, 4, 9, 10, 28, 45, tzinfo=timezone.utc)
    assert a.harvest.remote_url == a.harvest.ods_url == api.url("ods/explore/dataset/test-a/")
    assert a.harvest.ods_has_records is True and a.harvest.ods_geo is False
    assert [(r.title, r.format, r.mime, r.harvest["ods_type"]) for r in a.resources] == [
        ("CSV format export", "csv", "text/csv", "api"),
        ("JSON format export", "json", "application/json", "api"),
    ]
    assert a.resources[0].url == api.url(
        "ods/explore/dataset/test-a/download?format=csv&timezone=Europe%2FBerlin&use_labels_for_header=false"
    )
    assert a.resources[0].description == "- *toto*: toto[text]\n- *titi*: titi[text]"

    b = datasets["test-b"]
    assert b.tags == ["buildings", "equipment", "housing", "keyword1", "spatial-planning", "town-planning"]
    assert [(r.title, r.format, r.mime, r.harvest["ods_type"]) for r in b.resources] == [
        ("CSV format export", "csv", "text/csv", "api"),
        ("JSON format export", "json", "application/json", "api"),
        ("GeoJSON format export", "geojson", "application/vnd.geo+json", "api"),
        ("Shapefile format export", "shp", None, "api"),
        ("gtfs.zip", "zip", "application/zip", "alternative_export"),
        ("Documentation", "pdf", "application/pdf", "attachment"),
        ("Extra file", "xls", "application/vnd.ms-excel", "attachment"),
    ]
    assert b.resources[4].description == "GTFS 15/01"
    assert b.resources[5].url == api.url("ods/api/datasets/1.0/test-b/attachments/documentation_pdf")
    ids = [r.id for r in b.resources]

    _, again = run(catalog, api)
    assert again.job.status == "done" and statuses(again) == {"done": 2, "skipped": 1}
    assert [r.id for r in by_remote(catalog, source)["test-b"].resources] == ids
    assert catalog.count("datasets") == 2 and catalog.count("resources") == 9


def test_inspire_and_empty_datasets(catalog, api, ods_files) -> None:
    serve_portal(api, {k: ods_files[k] for k in ("inspire", "empty")})
    _, report = run(catalog, api)
    messages = sorted(i.errors[0]["message"] for i in report.items)
    assert messages == ["Dataset empty has no record", "Dataset inspire has INSPIRE metadata"]
    source, report = run(catalog, api, config={"features": {"inspire": True}}, name="ODS inspire")
    assert statuses(report) == {"done": 1, "skipped": 1}
    assert set(by_remote(catalog, source)) == {"inspire"}


def test_refine_and_exclude_filters_and_paging(catalog, api, ods_files) -> None:
    many = {f"ds-{i}": json.dumps({**json.loads(ods_files["test-a"]), "datasetid": f"ds-{i}"}).encode() for i in range(120)}
    serve_portal(api, many)
    config = {"filters": [{"key": "tags", "value": "transport"}, {"key": "publisher", "value": "acme", "type": "exclude"}]}
    source, report = run(catalog, api, config=config, max_items=70)
    calls = api.seen(SEARCH)
    assert [c.query["start"][0] for c in calls] == ["0", "50"]
    assert all(c.query["refine.keyword"] == ["transport"] and c.query["exclude.publisher"] == ["acme"] for c in calls)
    assert len(report.items) == 70 and statuses(report) == {"done": 70}
    _, full = run(catalog, api, config=config)
    assert [c.query["start"][0] for c in api.seen(SEARCH)][2:] == ["0", "50", "100"]
    assert len(full.items) == 120 and catalog.count("datasets") == 120


def test_bad_answers(catalog, api, ods_files) -> None:
    serve_portal(api, {k: ods_files[k] for k in ("test-a", "test-b")})
    source, first = run(catalog, api)
    assert statuses(first) == {"done": 2}
    api.answer("ods/api/datasets/1.0/test-b/", 500, "application/json", "{}")
    api.answer("ods/api/datasets/1.0/test-a/", 200, "application/json", ods_files["test-a"][:40])
    _, report = run(catalog, api)
    assert report.job.status == "done-errors" and statuses(report) == {"failed": 2}
    messages = sorted(i.errors[0]["message"] for i in report.items)
    assert messages[0].startswith("500 Server Error") and messages[1].startswith("Invalid JSON returned by ")
    assert set(by_remote(catalog, source)) == {"test-a", "test-b"}  # nothing stored is lost
    api.answer(SEARCH, 200, "text/html", "<html>maintenance</html>")
    _, failed = run(catalog, api)
    assert failed.job.status == "failed" and failed.job.errors[0]["message"].startswith("Invalid JSON returned by ")


def test_an_endless_search_stops_at_the_page_cap(catalog, api, ods_files) -> None:
    template = json.loads(ods_files["test-a"])

    def search(query, _body):  # a hostile portal: every page is full and `nhits` is always two pages ahead
        start, rows = int(query["start"][0]), int(query["rows"][0])
        page = [{**template, "datasetid": f"ds-{i}"} for i in range(start, start + rows)]
        return 200, "application/json", json.dumps({"nhits": start + 2 * rows, "datasets": page}).encode()

    api.on(SEARCH, search)
    source, report = run(catalog, api, config={"max_pages": 4})
    # The job fails; the datasets of the pages walked are still fetched (the listing's usual partial failure).
    assert report.job.status == "failed" and len(report.items) == 200
    assert len(api.seen("ods/api/datasets/1.0/ds-0/")) == 1 and not api.seen("ods/api/datasets/1.0/ds-200/")
    assert [c.query["start"][0] for c in api.seen(SEARCH)] == ["0", "50", "100", "150"]
    next_page = api.url(SEARCH) + "?start=200&rows=50&interopmetas=true"
    assert [e["message"] for e in report.job.errors] == [
        f'stopped after 4 pages (config "max_pages"): {next_page} was not fetched'
    ]
    assert engine.build_backend(catalog, actions.create_source(catalog, backend="ods", url=api.url("ods/"), name="Default")).max_pages == 1000


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, 'Config key "max_pages" must be between 1 and 100000 (got 0)'),
        (100_001, 'Config key "max_pages" must be between 1 and 100000'),
        ("many", 'Config key "max_pages" must be int'),
    ],
)
def test_max_pages_is_checked_at_creation(catalog, value, message) -> None:
    with pytest.raises(DataspaceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        actions.create_source(catalog, backend="ods", url="https://ods.test/", name="bad", config={"max_pages": value})
