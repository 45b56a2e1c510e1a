"""The harvest engine: identity, item statuses, job statuses, max items, autoarchive, preview."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dataspace_assets.harvest import actions, engine
from dataspace_assets.harvest.catalog import Catalog, HarvestSource, utcnow
from dataspace_assets.harvest.records import DatasetRecord, HarvestMetadata


def make(catalog: Catalog, url: str = "http://portal.test/catalog", name: str = "Portal", **kwargs) -> HarvestSource:
    config = kwargs.pop("config", None) or {}
    return actions.create_source(
        catalog, backend="factory", url=url, name=name, config=config, validation_state="accepted", **kwargs
    )


def statuses(report: engine.JobReport) -> list[tuple[str | None, str]]:
    return [(i.remote_id, i.status) for i in report.items]


def messages(report: engine.JobReport) -> dict[str | None, list[str]]:
    return {i.remote_id: [e["message"] for e in i.errors] for i in report.items if i.errors}


def test_run_creates_a_done_job_and_datasets(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 3})
    report = engine.run_job(catalog, source)
    job = report.job
    assert job.status == "done"
    assert job.started is not None and job.ended is not None and job.ended >= job.started
    assert job.items_total == 3 and job.items_by_status["done"] == 3
    assert job.items_by_type == {"dataset": 3, "dataservice": 0}
    datasets = catalog.list_datasets(source_id=source.id)
    assert sorted(d.title for d in datasets) == ["Dataset 0", "Dataset 1", "Dataset 2"]
    meta = datasets[0].harvest
    assert (meta.backend, meta.source_id, meta.domain) == ("Factory", source.id, "portal.test")
    assert meta.last_update is not None and meta.remote_id in {"0", "1", "2"}
    assert all(i.dataset_id for i in report.items)
    assert report.items[0].remote_url == "http://factory.test/0"


def test_empty_remote_is_done_with_no_item(catalog: Catalog) -> None:
    report = engine.run_job(catalog, make(catalog, config={"count": 0}))
    assert (report.job.status, report.job.items_total, report.items) == ("done", 0, [])


def test_rerun_updates_without_duplicating(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 3})
    first = engine.run_job(catalog, source)
    resource_ids = {d.id: [r.id for r in d.resources] for d in catalog.list_datasets()}
    second = engine.run_job(catalog, source)
    assert catalog.count("datasets") == 3 and catalog.count("resources") == 3
    assert [i.dataset_id for i in first.items] == [i.dataset_id for i in second.items]
    assert {d.id: [r.id for r in d.resources] for d in catalog.list_datasets()} == resource_ids
    assert len(catalog.list_jobs(source.id)) == 2


def test_missing_identifier_and_duplicates(catalog: Catalog) -> None:
    report = engine.run_job(catalog, make(catalog, config={"ids": ["a", None, "b", "a", ""]}))
    assert statuses(report) == [("a", "done"), (None, "skipped"), ("b", "done"), ("a", "failed"), (None, "skipped")]
    assert [e["message"] for e in report.items[1].errors] == ["missing identifier"]
    assert [e["message"] for e in report.items[3].errors] == ["Identifier 'a' already exists"]
    assert report.job.status == "done-errors"
    assert catalog.count("datasets") == 2


def test_item_failures_are_isolated(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 5, "crash": ["1"], "invalid": ["2"], "skip": ["3"], "untitled": ["4"]})
    report = engine.run_job(catalog, source)
    assert statuses(report) == [("0", "done"), ("1", "failed"), ("2", "failed"), ("3", "skipped"), ("4", "skipped")]
    assert messages(report) == {
        "1": ["boom on 1"],
        "2": ["invalid record 2"],
        "3": ["not wanted: 3"],
        "4": ["missing title on dataset"],
    }
    crash, invalid = report.items[1].errors[0], report.items[2].errors[0]
    assert "Traceback" in crash["details"] and "RuntimeError" in crash["details"]
    assert invalid["details"] is None  # validation errors carry no traceback
    assert report.job.status == "done-errors"
    assert [d.title for d in catalog.list_datasets()] == ["Dataset 0"]


def _check_storage_failure_is_isolated(catalog: Catalog) -> None:
    # Items 1 and 3 claim the same resource id: the database refuses the second, within one chunk.
    source = make(catalog, config={"count": 5, "resource_ids": {"1": "shared", "3": "shared"}})
    report = engine.run_job(catalog, source)
    assert statuses(report) == [("0", "done"), ("1", "done"), ("2", "done"), ("3", "failed"), ("4", "done")]
    assert messages(report)["3"][0].startswith("could not store the dataset: ")
    assert report.items[3].dataset_id is None
    assert sorted(d.title for d in catalog.list_datasets()) == ["Dataset 0", "Dataset 1", "Dataset 2", "Dataset 4"]
    assert catalog.count("resources") == 4  # nothing of the refused record is left behind
    assert report.job.status == "done-errors"


def test_a_record_the_database_refuses_fails_alone(catalog: Catalog) -> None:
    _check_storage_failure_is_isolated(catalog)


@pytest.mark.services
def test_a_record_the_database_refuses_fails_alone_on_postgresql(pg_url: str, plugin_path) -> None:
    catalog = Catalog.open(pg_url)
    try:
        _check_storage_failure_is_isolated(catalog)
    finally:
        catalog.close()


def test_items_end_with_their_processing_times(catalog: Catalog) -> None:
    report = engine.run_job(catalog, make(catalog, config={"count": 2, "crash": ["1"]}))
    assert all(i.started is not None and i.ended is not None and i.ended >= i.started for i in report.items)
    assert report.job.items_by_status["started"] == 0


def test_what_is_logged_while_processing_an_item_is_kept_on_it(catalog: Catalog) -> None:
    report = engine.run_job(catalog, make(catalog, config={"count": 2, "warn": ["1"]}))
    assert [i.logs for i in report.items] == [[], [{"level": "warning", "message": "odd record 1"}]]


def test_a_blank_title_is_a_missing_title(catalog: Catalog) -> None:
    report = engine.run_job(catalog, make(catalog, config={"count": 2, "blank_title": ["1"]}))
    assert statuses(report) == [("0", "done"), ("1", "skipped")]
    assert messages(report) == {"1": ["missing title on dataset"]}
    assert catalog.count("datasets") == 1


def test_an_unknown_licence_is_dropped_with_a_warning(catalog: Catalog) -> None:
    report = engine.run_job(catalog, make(catalog, config={"count": 2, "licenses": {"0": "cc-by", "1": "made-up"}}))
    assert statuses(report) == [("0", "done"), ("1", "done")]
    assert [catalog.get_dataset(i.dataset_id).license for i in report.items] == ["cc-by", None]
    assert report.items[1].logs == [{"level": "warning", "message": 'unknown licence "made-up" dropped'}]


def test_skipped_items_alone_leave_the_job_done(catalog: Catalog) -> None:
    report = engine.run_job(catalog, make(catalog, config={"count": 2, "skip": ["0"]}))
    assert report.job.status == "done"


def test_listing_failure_fails_the_job_and_keeps_listed_items(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 2, "fail_listing": "page 2 returned 404"})
    report = engine.run_job(catalog, source)
    assert report.job.status == "failed"
    assert [e["message"] for e in report.job.errors] == ["page 2 returned 404"]
    assert statuses(report) == [("0", "done"), ("1", "done")]
    assert catalog.count("datasets") == 2


def test_a_failing_finalize_fails_the_job_and_archives_nothing(catalog: Catalog) -> None:
    source = make(catalog, config={"ids": ["a", "b"]})
    ids = {i.remote_id: i.dataset_id for i in engine.run_job(catalog, source).items}
    _age(catalog, ids["b"], 30)
    catalog.update_source(source.id, config={"ids": ["a"], "fail_finalize": "cleanup broke"})
    report = engine.run_job(catalog, catalog.get_source(source.id))
    assert report.job.status == "failed"
    [error] = report.job.errors
    assert error["message"] == "cleanup broke" and "RuntimeError" in error["details"]
    assert statuses(report) == [("a", "done")]
    assert catalog.get_dataset(ids["b"]).archived is None


def test_unknown_backend_fails_the_job_with_one_error(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 1})
    catalog.update_source(source.id, backend="gone")
    report = engine.run_job(catalog, catalog.get_source(source.id))
    assert report.job.status == "failed"
    assert [e["message"] for e in report.job.errors] == ['Unknown backend "gone"']


def test_max_items_counts_skipped_and_failed(catalog: Catalog) -> None:
    source = make(catalog, config={"ids": [None, "a", "a", "b", "c", "d"]})
    report = engine.run_job(catalog, source, max_items=4)
    assert statuses(report) == [(None, "skipped"), ("a", "done"), ("a", "failed"), ("b", "done")]
    assert [e["message"] for e in report.job.errors] == ["4 max items reached"]
    assert report.job.status == "done-errors"


def test_dataservices_come_second_and_link_the_jobs_datasets(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 2, "dataservices": ["api"]})
    report = engine.run_job(catalog, source)
    assert [i.kind for i in report.items] == ["dataset", "dataset", "dataservice"]
    service = catalog.get_dataservice(report.items[2].dataservice_id)
    assert sorted(service.datasets) == sorted(i.dataset_id for i in report.items[:2])
    assert service.harvest.source_url == source.url and service.harvest.backend == "Factory"
    assert report.job.items_by_type == {"dataset": 2, "dataservice": 1}


def test_a_dataservice_without_title_is_skipped(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 1, "dataservices": ["api", "blank"], "untitled_services": ["blank"]})
    report = engine.run_job(catalog, source)
    assert statuses(report) == [("0", "done"), ("api", "done"), ("blank", "skipped")]
    assert messages(report) == {"blank": ["missing title on dataservice"]}
    assert catalog.count("dataservices") == 1 and report.job.status == "done"


# ------------------------------------------------------------------ identity
def _existing(catalog: Catalog, remote_id: str, **harvest) -> str:
    return catalog.save_dataset(
        DatasetRecord(title="Old", harvest=HarvestMetadata(remote_id=remote_id, **harvest), **harvest.pop("_own", {}))
    )


def test_identity_by_domain_lets_a_recreated_source_take_its_datasets_back(catalog: Catalog) -> None:
    old_id = _existing(catalog, "0", domain="portal.test", source_id="deleted-source")
    report = engine.run_job(catalog, make(catalog, config={"count": 1}))
    assert report.items[0].dataset_id == old_id
    assert catalog.count("datasets") == 1
    assert catalog.get_dataset(old_id).title == "Dataset 0"


def test_identity_by_source_id_across_a_domain_change(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 1})
    old_id = _existing(catalog, "0", domain="old-domain.test", source_id=source.id)
    report = engine.run_job(catalog, source)
    assert report.items[0].dataset_id == old_id


def test_plain_remote_id_of_another_domain_and_source_is_not_matched(catalog: Catalog) -> None:
    other = _existing(catalog, "0", domain="elsewhere.test", source_id="other")
    report = engine.run_job(catalog, make(catalog, config={"count": 1}))
    assert report.items[0].dataset_id != other
    assert catalog.count("datasets") == 2


def test_uri_remote_id_matches_across_sources(catalog: Catalog) -> None:
    uri = "http://data.test/datasets/1"
    other = _existing(catalog, uri, domain="elsewhere.test", source_id="other")
    report = engine.run_job(catalog, make(catalog, config={"ids": [uri]}))
    assert report.items[0].dataset_id == other
    assert catalog.get_dataset(other).harvest.domain == "portal.test"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://data.test/datasets/1", True),
        ("urn:uuid:6f1a1b1c-0000-4000-8000-000000000001", True),
        ("ftp://data.test/x", True),
        ("dataset-1", False),
        ("http:/no-host", False),
        ("http://data.test/a b", False),
        ("", False),
        (None, False),
    ],
)
def test_is_uri(value: str | None, expected: bool) -> None:
    assert engine.is_uri(value) is expected


def test_urn_remote_id_matches_across_sources(catalog: Catalog) -> None:
    urn = "urn:uuid:6f1a1b1c-0000-4000-8000-000000000001"
    other = _existing(catalog, urn, domain="elsewhere.test", source_id="other")
    report = engine.run_job(catalog, make(catalog, config={"ids": [urn]}))
    assert report.items[0].dataset_id == other
    assert catalog.count("datasets") == 1


def test_ownership_conflict_fails_the_item(catalog: Catalog) -> None:
    taken = catalog.save_dataset(
        DatasetRecord(title="Theirs", organization="org-b", harvest=HarvestMetadata(remote_id="0", domain="portal.test"))
    )
    report = engine.run_job(catalog, make(catalog, config={"count": 2}, organization="org-a"))
    assert statuses(report) == [("0", "failed"), ("1", "done")]
    assert messages(report) == {"0": [f"Item has another owner: {taken}"]}
    assert catalog.get_dataset(taken).title == "Theirs"
    assert catalog.get_dataset(report.items[1].dataset_id).organization == "org-a"


def test_ownership_conflict_with_a_user_owned_source(catalog: Catalog) -> None:
    bobs = catalog.save_dataset(
        DatasetRecord(title="Bob's", owner="bob", harvest=HarvestMetadata(remote_id="0", domain="portal.test"))
    )
    orgs = catalog.save_dataset(
        DatasetRecord(title="Org's", organization="org-b", owner="alice", harvest=HarvestMetadata(remote_id="1", domain="portal.test"))
    )
    # an organization's dataset is not the user's, even when the user is recorded as its owner
    report = engine.run_job(catalog, make(catalog, config={"count": 3}, owner="alice"))
    assert statuses(report) == [("0", "failed"), ("1", "failed"), ("2", "done")]
    assert messages(report) == {"0": [f"Item has another owner: {bobs}"], "1": [f"Item has another owner: {orgs}"]}
    assert (catalog.get_dataset(bobs).title, catalog.get_dataset(orgs).title) == ("Bob's", "Org's")


def test_new_datasets_belong_to_the_source_owner(catalog: Catalog) -> None:
    report = engine.run_job(catalog, make(catalog, config={"count": 1}, owner="alice"))
    dataset = catalog.get_dataset(report.items[0].dataset_id)
    assert (dataset.organization, dataset.owner) == (None, "alice")


# ------------------------------------------------------------------ autoarchive
def _age(catalog: Catalog, dataset_id: str, days: int) -> None:
    catalog.set_dataset_fields(dataset_id, harvest_last_update=utcnow() - timedelta(days=days))


def test_autoarchive_after_grace_period_and_unarchive_on_return(catalog: Catalog) -> None:
    source = make(catalog, config={"ids": ["a", "b", "c"]})
    first = engine.run_job(catalog, source)
    ids = {i.remote_id: i.dataset_id for i in first.items}
    _age(catalog, ids["b"], 8)
    _age(catalog, ids["c"], 6)  # within the grace period
    catalog.update_source(source.id, config={"ids": ["a"]})
    second = engine.run_job(catalog, catalog.get_source(source.id))
    assert statuses(second) == [("a", "done"), ("b", "archived")]
    assert second.items[1].dataset_id == ids["b"]
    archived = catalog.get_dataset(ids["b"])
    assert archived.archived is not None
    assert archived.harvest.archived == "not-on-remote" and archived.harvest.archived_at is not None
    assert catalog.get_dataset(ids["c"]).archived is None
    assert second.job.status == "done"

    # an archived record is reported again on every run, without being re-archived
    third = engine.run_job(catalog, catalog.get_source(source.id))
    assert ("b", "archived") in statuses(third)
    assert catalog.get_dataset(ids["b"]).archived == archived.archived

    # it comes back: un-archived
    catalog.update_source(source.id, config={"ids": ["a", "b"]})
    fourth = engine.run_job(catalog, catalog.get_source(source.id))
    assert statuses(fourth) == [("a", "done"), ("b", "done")]
    back = catalog.get_dataset(ids["b"])
    assert back.archived is None and back.harvest.archived is None and back.harvest.archived_at is None


def test_failed_and_skipped_items_count_as_present(catalog: Catalog) -> None:
    source = make(catalog, config={"ids": ["a", "b"]})
    ids = {i.remote_id: i.dataset_id for i in engine.run_job(catalog, source).items}
    _age(catalog, ids["a"], 30)
    _age(catalog, ids["b"], 30)
    catalog.update_source(source.id, config={"ids": ["a", "b"], "crash": ["a"], "skip": ["b"]})
    report = engine.run_job(catalog, catalog.get_source(source.id))
    assert statuses(report) == [("a", "failed"), ("b", "skipped")]
    assert catalog.get_dataset(ids["a"]).archived is None


def test_no_autoarchive_when_disabled_or_when_the_job_failed(catalog: Catalog) -> None:
    source = make(catalog, config={"ids": ["a", "b"]}, autoarchive=False)
    ids = {i.remote_id: i.dataset_id for i in engine.run_job(catalog, source).items}
    _age(catalog, ids["b"], 30)
    catalog.update_source(source.id, config={"ids": ["a"]})
    assert statuses(engine.run_job(catalog, catalog.get_source(source.id))) == [("a", "done")]
    catalog.update_source(source.id, autoarchive=True, config={"ids": ["a"], "fail_listing": "down"})
    report = engine.run_job(catalog, catalog.get_source(source.id))
    assert report.job.status == "failed" and statuses(report) == [("a", "done")]
    assert catalog.get_dataset(ids["b"]).archived is None


def test_autoarchive_covers_dataservices(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 1, "dataservices": ["api"]})
    report = engine.run_job(catalog, source)
    service_id = report.items[1].dataservice_id
    catalog.set_dataservice_fields(service_id, harvest_last_update=utcnow() - timedelta(days=10))
    catalog.update_source(source.id, config={"count": 1})
    again = engine.run_job(catalog, catalog.get_source(source.id))
    assert statuses(again) == [("0", "done"), ("api", "archived")]
    service = catalog.get_dataservice(service_id)
    assert service.archived_at is not None and service.harvest.archived_reason == "not-on-remote"


# ------------------------------------------------------------------ preview
def test_preview_saves_nothing_and_stops_at_20(catalog: Catalog) -> None:
    source = make(catalog, config={"count": 30, "crash": ["3"], "dataservices": ["api"]})
    report = engine.preview_job(catalog, source)
    assert report.job.items_total == 20
    assert report.job.status == "done-errors"
    assert len(report.datasets) == 19 and report.datasets[report.items[0].dataset_id].title == "Dataset 0"
    assert report.job.errors == []  # the max-items error is not reported by a preview
    for table in ("jobs", "items", "datasets", "resources", "dataservices", "contact_points"):
        assert catalog.count(table) == 0, table


def test_preview_of_a_source_that_is_never_stored(catalog: Catalog) -> None:
    report = engine.preview_job(catalog, backend="factory", url="http://new.test/", name="New", config={"count": 2})
    assert [i.status for i in report.items] == ["done", "done"]
    assert catalog.count("sources") == 0 and catalog.count("datasets") == 0


@pytest.mark.services
def test_run_and_preview_on_postgresql(pg_url: str, plugin_path) -> None:
    catalog = Catalog.open(pg_url)
    try:
        source = make(catalog, config={"ids": ["a", "a", None], "dataservices": ["api"]})
        preview = engine.preview_job(catalog, source)
        assert [i.status for i in preview.items] == ["done", "failed", "skipped", "done"]
        assert catalog.count("datasets") == 0 and catalog.count("jobs") == 0
        report = engine.run_job(catalog, source)
        assert report.job.status == "done-errors"
        assert catalog.count("datasets") == 1 and catalog.count("dataservices") == 1
    finally:
        catalog.close()


def test_progress_reports_the_total_then_each_item(catalog: Catalog) -> None:
    calls: list[tuple[int, int]] = []
    engine.run_job(catalog, make(catalog, config={"ids": ["a", None, "b"], "dataservices": ["api"]}),
                   progress=lambda n, total: calls.append((n, total)))
    assert calls == [(0, 3), (1, 0), (1, 0), (1, 0)]  # the skipped item is decided while listing


class _Clock:
    """A monotonic clock the test moves by hand (what a part took is the test's choice, not the machine's)."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


def _part_sizes(monkeypatch, count: int, seconds_per_item: float) -> list[int]:
    clock = _Clock()
    monkeypatch.setattr(engine.time, "monotonic", clock.monotonic)
    sizes = []
    for part in engine._in_parts(list(range(count))):
        sizes.append(len(part))
        clock.now += seconds_per_item * len(part)
    return sizes


def test_fast_items_are_saved_in_parts_growing_to_the_chunk_size(monkeypatch) -> None:
    sizes = _part_sizes(monkeypatch, 3000, 0.0001)
    assert sizes[:5] == [50, 100, 200, 400, engine.CHUNK_SIZE] and sum(sizes) == 3000
    assert max(sizes) == engine.CHUNK_SIZE


def test_a_slow_remote_keeps_small_parts_so_progress_shows(monkeypatch) -> None:
    sizes = _part_sizes(monkeypatch, 300, 0.5)  # half a second per record: a part of 50 takes 25 s
    assert sizes == [engine.FIRST_PART] * 6
