"""Acceptance: the CKAN and DKAN backends against a loopback action API serving the real datasud.fr and DKAN answers."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest import actions, engine
from dataspace_tests.harvest.backends.apiserver import ApiServer

API = "ckan/api/3/action/"
LOOPBACK = {"allow_private_addresses": True, "retries": 0}
DATASUD_ORG = "communaute-dagglomeration-de-gap-tallard-durance"


def statuses(report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in report.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


def ok(result) -> bytes:
    return json.dumps({"success": True, "result": result}).encode()


def serve_packages(api: ApiServer, packages: dict[str, bytes], prefix: str = API) -> None:
    """package_show?id=<name> → the bytes given for that name (404 JSON otherwise)."""

    def show(query, _body):
        name = (query.get("id") or [""])[0]
        if name in packages:
            return 200, "application/json", packages[name]
        return 404, "application/json", json.dumps({"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}}).encode()

    api.on(prefix + "package_show", show)


@pytest.fixture
def datasud(api: ApiServer, fixtures_dir: Path) -> dict[str, bytes]:
    """The datasud.fr answers: package_search (7 results) and one package_show per name."""
    folder = fixtures_dir / "udata/snapshots/ckan-datasud"
    search = (folder / "package_search.json").read_bytes()
    packages = {p.name[len("package_show-"):-len(".json")]: p.read_bytes() for p in folder.glob("package_show-*.json")}
    api.on(API + "package_search", lambda q, b: (200, "application/json", search))
    api.answer(API + "package_list", 200, "application/json", ok(sorted(packages)))
    serve_packages(api, packages)
    return packages


def make_source(catalog, api: ApiServer, *, backend: str = "ckan", config: dict | None = None, name: str = "CKAN", path: str = "ckan/"):
    existing = next((s for s in catalog.list_sources() if s.name == name), None)
    return existing or actions.create_source(
        catalog, backend=backend, url=api.url(path), name=name, validation_state="accepted",
        config={**LOOPBACK, **(config or {})},
    )


def run(catalog, api, **kwargs):
    max_items = kwargs.pop("max_items", None)
    source = make_source(catalog, api, **kwargs)
    return source, engine.run_job(catalog, source, max_items=max_items)


def state(catalog, source) -> tuple:
    datasets = sorted(
        (d.id, d.harvest.remote_id, d.title, tuple(sorted((r.id, r.url, r.format or "") for r in d.resources)))
        for d in catalog.list_datasets(source_id=source.id)
    )
    return datasets, catalog.count("datasets"), catalog.count("resources")


# ---------------------------------------------------------------- datasud.fr, field by field
def test_datasud_with_an_organization_filter(catalog, api, datasud, fixtures_dir: Path) -> None:
    config = {"filters": [{"key": "organization", "value": DATASUD_ORG}]}
    source, report = run(catalog, api, config=config)
    assert report.job.status == "done" and statuses(report) == {"done": 7}
    search = api.seen(API + "package_search")
    assert search[0].query["q"] == [f"organization:{DATASUD_ORG}"] and search[0].query["rows"] == ["1000"]
    assert not api.seen(API + "package_list")
    assert sorted(r.query["id"][0] for r in api.seen(API + "package_show")) == sorted(datasud)

    expected = json.loads((fixtures_dir / "udata/snapshots/ckan-datasud/expected-udata-2025-07.json").read_text())
    by_remote = {d.harvest.remote_id: d for d in catalog.list_datasets(source_id=source.id)}
    assert {i.remote_id for i in report.items} == {i["remote_id"] for i in expected["job"]["items"]}
    assert len(by_remote) == 7
    for want in expected["datasets"]:
        got = by_remote[want["harvest"]["remote_id"]]
        assert got.title == want["title"]
        # udata's html2text pass folds the Markdown's line breaks; ours keeps them, the words are the same.
        assert " ".join(got.description.split()) == want["description"]
        assert sorted(got.tags) == sorted(want["tags"])
        assert got.harvest.backend == "CKAN" and got.harvest.domain == "127.0.0.1"
        assert got.harvest.remote_url == want["harvest"]["remote_url"]
        assert got.harvest.ckan_name == want["harvest"]["ckan_name"]
        assert got.harvest.created_at == datetime.fromisoformat(want["harvest"]["created_at"]).replace(tzinfo=timezone.utc)
        assert got.harvest.modified_at is None
        assert got.license == "lov2"
        assert got.private is False
        # Today's rule: the file keeps its UUID, the WMS and WFS share a numeric id so the WFS overwrites the WMS.
        assert len(got.resources) == 2
        file_res, wfs = got.resources
        want_res = want["resources"][0]
        assert (file_res.title, file_res.url, file_res.format, file_res.mime, file_res.filetype, file_res.type) == (
            want_res["title"], want_res["url"], want_res["format"], want_res["mime"], "remote", "main",
        )
        assert file_res.harvest["remote_id"] == want_res["_id"]
        issued = datetime.fromisoformat(want_res["harvest"]["created_at"]).replace(tzinfo=timezone.utc)
        assert file_res.harvest["issued_at"] == issued.isoformat()  # stored as JSON
        assert wfs.format == "ogc:wfs" and re.fullmatch(r"\d+", wfs.harvest["remote_id"])
        assert "service=WFS" in wfs.url

    slugs = {row["slug"] for row in (catalog.dataset_row(d.id) for d in by_remote.values())}
    assert slugs == {d["slug"] for d in expected["datasets"]}

    before = state(catalog, source)
    _, again = run(catalog, api, config=config)
    assert again.job.status == "done" and statuses(again) == {"done": 7}
    assert state(catalog, source) == before  # same datasets, same resource ids, nothing duplicated


def test_package_list_without_filters(catalog, api, datasud) -> None:
    source, report = run(catalog, api)
    assert report.job.status == "done" and statuses(report) == {"done": 7}
    assert len(api.seen(API + "package_list")) == 1 and not api.seen(API + "package_search")
    items = {i.remote_id for i in report.items}
    assert all(re.fullmatch(r"[0-9a-f-]{36}", rid) for rid in items)  # the package ids replaced the names


def test_search_clauses_exclude_and_paging_beyond_1000(catalog, api) -> None:
    names = [f"pkg-{i}" for i in range(1203)]

    def search(query, _body):
        start = int(query["start"][0])
        rows = int(query["rows"][0])
        chunk = names[start : start + rows]
        return 200, "application/json", ok({"count": len(names), "results": [{"name": n} for n in chunk]})

    api.on(API + "package_search", search)
    config = {"filters": [{"key": "organization", "value": "foo"}, {"key": "tags", "value": "bar", "type": "exclude"}]}
    source = make_source(catalog, api, config=config)
    backend = engine.build_backend(catalog, source)
    backend.initialize()
    assert [i.remote_id for i in backend.items] == names
    calls = api.seen(API + "package_search")
    assert [c.query["q"][0] for c in calls] == ["organization:foo AND -tags:bar"] * 2
    assert [c.query["start"][0] for c in calls] == ["0", "1000"]


def endless_search(api: ApiServer, prefix: str = API, per_page: int = 2) -> None:
    """A hostile package_search: a few rows a page, and a `count` that is always ahead of `start`."""

    def search(query, _body):
        start = int(query["start"][0])
        names = [f"pkg-{i}" for i in range(start, start + per_page)]
        return 200, "application/json", ok({"count": start + 10 * per_page, "results": [{"name": n} for n in names]})

    api.on(prefix + "package_search", search)


def test_an_endless_search_stops_at_the_page_cap(catalog, api) -> None:
    endless_search(api)
    config = {"filters": [{"key": "organization", "value": "foo"}], "max_pages": 3}
    source, report = run(catalog, api, config=config)
    assert [c.query["start"][0] for c in api.seen(API + "package_search")] == ["0", "2", "4"]
    # The job fails; the packages of the pages walked are still fetched (the listing's usual partial failure).
    assert report.job.status == "failed" and len(report.items) == 6
    assert sorted(c.query["id"][0] for c in api.seen(API + "package_show")) == [f"pkg-{i}" for i in range(6)]
    next_page = api.url(API + "package_search") + "?q=organization%3Afoo&rows=1000&start=6"
    assert [e["message"] for e in report.job.errors] == [
        f'stopped after 3 pages (config "max_pages"): {next_page} was not fetched'
    ]


def test_the_page_cap_defaults_to_the_dcat_one(catalog, api) -> None:
    source = make_source(catalog, api, config={"filters": [{"key": "tags", "value": "x"}]})
    assert engine.build_backend(catalog, source).max_pages == 1000
    dkan = make_source(catalog, api, backend="dkan", name="DKAN", path="dkan/", config={"max_pages": 7})
    assert engine.build_backend(catalog, dkan).max_pages == 7


# ---------------------------------------------------------------- DKAN
def test_dkan_french_dates_sizes_and_list_result(catalog, api, fixtures_dir: Path) -> None:
    body = (fixtures_dir / "udata/ckan/dkan-french-w-license.json").read_bytes()
    prefix = "dkan/api/3/action/"
    api.answer(prefix + "package_list", 200, "application/json", ok(["fake-name"]))
    serve_packages(api, {"fake-name": body}, prefix)
    source, report = run(catalog, api, backend="dkan", name="DKAN", path="dkan/")
    assert report.job.status == "done" and statuses(report) == {"done": 1}
    [dataset] = catalog.list_datasets(source_id=source.id)
    assert dataset.harvest.remote_id == "04be6288-696d-4331-850d-a144871a7e3a"
    assert dataset.harvest.backend == "DKAN"
    assert dataset.harvest.created_at == datetime(2019, 12, 10, tzinfo=timezone.utc)
    assert dataset.harvest.modified_at is None
    assert len(dataset.resources) == 2
    xlsx = next(r for r in dataset.resources if r.format == "xlsx")
    assert xlsx.filesize == 42 and xlsx.harvest["issued_at"] == "2019-12-19T00:00:00+00:00"
    assert dataset.description == "Liste et coordonnées des antennes de proximité du conseil régional Hauts-de-France."
    assert dataset.license == "fr-lo"  # only license_title, an Etalab licence page URL
    assert "administration" in dataset.tags and "services-d-utilite-publique-et-services-publics" in dataset.tags
    assert dataset.private is False  # "private": true is harvested as a public dataset
    before = state(catalog, source)
    _, again = run(catalog, api, backend="dkan", name="DKAN", path="dkan/")
    assert again.job.status == "done" and state(catalog, source) == before


# ---------------------------------------------------------------- bad answers
def test_a_package_failing_the_schema(catalog, api, fixtures_dir: Path) -> None:
    legacy = json.loads((fixtures_dir / "ckanext-dcat/examples/ckan/full_ckan_dataset_legacy.json").read_text())
    api.answer(API + "package_list", 200, "application/json", ok(["zimbabwe-regional-geochemical-survey"]))
    serve_packages(api, {"zimbabwe-regional-geochemical-survey": ok(legacy)})
    _, report = run(catalog, api)
    assert report.job.status == "done-errors"
    [item] = report.items
    assert item.status == "failed" and item.remote_id == legacy["id"]
    assert item.errors[0]["message"] == "Validation error:\n- [resources.0.created] required key not provided"
    assert item.errors[0]["details"] is None


@pytest.mark.parametrize(
    ("status", "content_type", "body", "message"),
    [
        (200, "application/json", json.dumps({"success": False, "error": "Access denied"}), "Access denied"),
        (200, "application/json", json.dumps({"success": False, "error": {"message": "Bad request"}}), "Bad request"),
        (200, "application/json", json.dumps({"success": False, "error": {"__type": "Authorization Error", "message": "Access denied"}}), "Authorization Error: Access denied"),
        (200, "text/html; charset=utf-8", "<html><body>maintenance</body></html>", "Unknown Error: {url} returned HTML"),
        (200, "text/plain", '"Some error"', "Some error"),
        (500, "application/json", "{}", "500 Server Error"),
        (200, "application/json", '{"success": true, "result": ["a", "b"', "Invalid JSON returned by {url}"),
    ],
)
def test_listing_errors_fail_the_job(catalog, api, status, content_type, body, message) -> None:
    api.answer(API + "package_list", status, content_type, body)
    _, report = run(catalog, api)
    assert report.job.status == "failed" and report.items == []
    assert len(report.job.errors) == 1
    assert report.job.errors[0]["message"].startswith(message.format(url=api.url(API + "package_list")))


def test_package_show_errors_fail_their_item_only(catalog, api, datasud) -> None:
    broken = {
        "parkings-ville-de-gap": b"<html>oops</html>",
        "cendriers----ville-de-gap": json.dumps({"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}}).encode(),
        "corbeilles---ville-de-gap": datasud["corbeilles---ville-de-gap"][:500],
    }
    source, report = run(catalog, api)
    assert statuses(report) == {"done": 7}
    before = {d.harvest.remote_id: d.id for d in catalog.list_datasets(source_id=source.id)}

    packages = {**datasud, **broken}

    def show(query, _body):
        name = query["id"][0]
        ctype = "text/html" if name == "parkings-ville-de-gap" else "application/json"
        return 200, ctype, packages[name]

    api.on(API + "package_show", show)
    _, again = run(catalog, api)
    assert again.job.status == "done-errors" and statuses(again) == {"done": 4, "failed": 3}
    messages = sorted(i.errors[0]["message"] for i in again.items if i.status == "failed")
    assert messages[0].startswith("Invalid JSON returned by ")
    assert messages[1] == "Not Found Error: Not found"
    assert messages[2] == f"Unknown Error: {api.url(API + 'package_show')} returned HTML"
    failed_ids = {i.remote_id for i in again.items if i.status == "failed"}
    assert failed_ids == {"parkings-ville-de-gap", "cendriers----ville-de-gap", "corbeilles---ville-de-gap"}
    # Nothing stored is lost: the 7 datasets of the first run are all still there, with the same ids.
    assert {d.harvest.remote_id: d.id for d in catalog.list_datasets(source_id=source.id)} == before


def test_package_without_resources_is_skipped(catalog, api) -> None:
    package = {
        "id": "p1", "name": "empty", "title": "Empty", "notes": None, "license_id": None, "license_title": None,
        "tags": [], "metadata_created": "2020-01-01", "metadata_modified": "2020-01-02", "organization": None,
        "resources": [], "private": False, "type": "dataset", "author": None, "author_email": None,
        "maintainer": None, "maintainer_email": None, "state": "active",
    }
    api.answer(API + "package_list", 200, "application/json", ok(["empty"]))
    serve_packages(api, {"empty": ok(package)})
    _, report = run(catalog, api)
    [item] = report.items
    assert item.status == "skipped" and item.errors[0]["message"] == "Dataset empty has no record"


# ---------------------------------------------------------------- the apikey
def test_apikey_is_sent_and_never_shown(catalog, api, datasud, tmp_path, monkeypatch, capsys) -> None:
    secret = "s3cr3t-api-key-42"
    source, report = run(catalog, api, config={"apikey": secret})
    assert report.job.status == "done"
    assert {r.headers.get("Authorization") for r in api.requests} == {secret}
    shown = json.dumps([actions.source_json(s) for s in catalog.list_sources()])
    assert secret not in shown and '"apikey": "********"' in shown
    assert secret not in json.dumps(report.job.to_json()) + json.dumps([i.to_json() for i in report.items], default=str)


def test_an_echoed_apikey_is_masked_in_errors(catalog, api) -> None:
    api.answer(API + "package_list", 200, "text/plain", '"Invalid key s3cr3t-echo"')
    _, report = run(catalog, api, config={"apikey": "s3cr3t-echo"})
    assert report.job.status == "failed"
    assert report.job.errors[0]["message"] == "Invalid key ********"


def test_apikey_from_the_environment(catalog, api, datasud, monkeypatch) -> None:
    monkeypatch.setenv("DATASUD_KEY", "from-env")
    _, report = run(catalog, api, config={"apikey": {"env": "DATASUD_KEY"}})
    assert report.job.status == "done"
    assert {r.headers.get("Authorization") for r in api.requests} == {"from-env"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"apikey": ""}, 'Config key "apikey" of "ckan" backend must be a non-empty string'),
        ({"apikey": 42}, 'Config key "apikey" of "ckan" backend must be a non-empty string'),
        ({"concurrency": 0}, 'Config key "concurrency" of "ckan" backend must be a whole number from 1 to 32'),
        ({"filters": [{"key": "nope", "value": "x"}]}, 'Unknown filter key "nope" for "ckan" backend'),
        ({"features": {"inspire": True}}, 'Unknown feature key "inspire" for "ckan" backend'),
    ],
)
def test_config_is_checked_at_creation(catalog, config, message) -> None:
    with pytest.raises(DataspaceError, match=re.escape(message)):
        actions.create_source(catalog, backend="ckan", url="https://ckan.test/", name="bad", config=config)


@pytest.mark.parametrize("backend", ["ckan", "dkan"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, 'Config key "max_pages" must be between 1 and 100000 (got 0)'),
        (10**9, 'Config key "max_pages" must be between 1 and 100000'),
        ("many", 'Config key "max_pages" must be int'),
        (True, 'Config key "max_pages" must be int'),
    ],
)
def test_max_pages_is_checked_at_creation(catalog, backend, value, message) -> None:
    with pytest.raises(DataspaceError, match=re.escape(message)):
        actions.create_source(catalog, backend=backend, url="https://ckan.test/", name="bad", config={"max_pages": value})


def test_autoarchive_and_come_back(catalog, api, datasud) -> None:
    from datetime import timedelta

    from dataspace_assets.harvest.catalog import utcnow

    source, first = run(catalog, api)
    assert statuses(first) == {"done": 7}
    gone = next(d for d in catalog.list_datasets(source_id=source.id) if d.harvest.ckan_name == "parkings-ville-de-gap")
    catalog.set_dataset_fields(gone.id, harvest_last_update=utcnow() - timedelta(days=10))
    api.answer(API + "package_list", 200, "application/json", ok(sorted(n for n in datasud if n != "parkings-ville-de-gap")))
    _, second = run(catalog, api)
    assert statuses(second) == {"done": 6, "archived": 1}
    archived = catalog.get_dataset(gone.id)
    assert archived.archived is not None and archived.harvest.archived == "not-on-remote"
    api.answer(API + "package_list", 200, "application/json", ok(sorted(datasud)))
    _, third = run(catalog, api)
    assert statuses(third) == {"done": 7}
    back = catalog.get_dataset(gone.id)
    assert back.archived is None and back.harvest.archived is None and catalog.count("datasets") == 7


def test_preview_saves_nothing(catalog, api, datasud) -> None:
    report = engine.preview_job(
        catalog, backend="ckan", url=api.url("ckan/"), name="Preview", config=dict(LOOPBACK)
    )
    assert report.job.status == "done" and len(report.datasets) == 7
    assert (catalog.count("datasets"), catalog.count("jobs"), catalog.count("sources")) == (0, 0, 0)
