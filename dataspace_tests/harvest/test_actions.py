"""Administrator actions on sources: create, validate, delete, clean, schedule, purge, attach, detach."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest import actions, engine
from dataspace_assets.harvest.catalog import Catalog, utcnow
from dataspace_assets.harvest.records import DatasetRecord


def _create(catalog: Catalog, **kwargs):
    values = {"backend": "factory", "url": "http://portal.test/", "name": "Portal", **kwargs}
    return actions.create_source(catalog, **values)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "nope"}, 'harvest source: Unknown backend "nope" (known backends: ckan, csw-dcat, csw-iso-19139, dcat, dkan, factory, ods)'),
        ({"url": "ftp://x.test/"}, 'harvest source: invalid url "ftp://x.test/" (expected http://, https:// or file://)'),
        ({"url": "not a url"}, 'harvest source: invalid url "not a url" (expected http://, https:// or file://)'),
        ({"name": " "}, "harvest source: a name is required"),
        ({"frequency": "hourly"}, 'harvest source: unknown frequency "hourly" (expected one of manual, monthly, weekly, daily)'),
        ({"config": {"filters": [{"key": "x", "value": 1}]}}, 'harvest source: Unknown filter key "x" for "factory" backend'),
        ({"config": {"filters": [{"key": "tag", "value": 1}]}}, 'harvest source: Wrong type for filter "tag" of "factory" backend: expected str'),
        ({"schedule": "every day"}, 'invalid schedule "every day": expected a cron expression like "0 0 * * *"'),
    ],
)
def test_create_rejects_bad_sources(catalog: Catalog, kwargs: dict, message: str) -> None:
    with pytest.raises(DataspaceError) as error:
        _create(catalog, **kwargs)
    assert str(error.value) == message
    assert catalog.count("sources") == 0


def test_validate_accepts_and_schedules_daily_by_default(catalog: Catalog) -> None:
    source = _create(catalog)
    accepted = actions.validate_source(catalog, source.slug, by="admin")
    assert (accepted.validation_state, accepted.schedule, accepted.validation_by) == ("accepted", "0 0 * * *", "admin")
    assert accepted.validation_on is not None
    kept = actions.validate_source(catalog, actions.schedule_source(catalog, source.id, "5 4 * * *").id)
    assert kept.schedule == "5 4 * * *"


def test_refuse_needs_a_comment(catalog: Catalog) -> None:
    source = _create(catalog)
    with pytest.raises(DataspaceError, match='^refusing harvest source "portal" needs a comment'):
        actions.validate_source(catalog, source.id, refuse=True)
    refused = actions.validate_source(catalog, source.id, refuse=True, comment="not open data")
    assert (refused.validation_state, refused.validation_comment) == ("refused", "not open data")


def test_unaccepted_source_refuses_to_run(catalog: Catalog) -> None:
    source = _create(catalog)
    with pytest.raises(DataspaceError) as error:
        engine.ensure_runnable(source)
    assert str(error.value) == (
        'harvest source "portal" is not accepted (validation: pending); '
        "an administrator must run `dataspace harvest validate portal` first"
    )


def test_unknown_source_message(catalog: Catalog) -> None:
    with pytest.raises(DataspaceError) as error:
        actions.get_source(catalog, "missing")
    assert str(error.value) == 'harvest source "missing" not found (give its id or slug; see `dataspace harvest sources`)'


def test_schedule_and_unschedule(catalog: Catalog) -> None:
    source = _create(catalog)
    cron = actions.schedule_cron(minute="30", hour="2", day_of_week="1")
    assert cron == "30 2 * * 1"
    assert actions.schedule_source(catalog, source.slug, cron).schedule == "30 2 * * 1"
    assert actions.unschedule_source(catalog, source.slug).schedule is None
    with pytest.raises(DataspaceError, match='^harvest source "portal" is not scheduled$'):
        actions.unschedule_source(catalog, source.slug)
    with pytest.raises(DataspaceError, match="^invalid schedule"):
        actions.schedule_cron(minute="61")


def test_delete_clean_and_purge(catalog: Catalog) -> None:
    source = _create(catalog, config={"count": 2, "dataservices": ["api"]}, validation_state="accepted")
    report = engine.run_job(catalog, source)
    kept = _create(catalog, name="Kept", url="http://kept.test/", config={"count": 1}, validation_state="accepted")
    engine.run_job(catalog, kept)

    actions.delete_source(catalog, source.slug)
    assert catalog.get_source(source.slug) is None
    assert catalog.get_source(source.id, include_deleted=True).deleted is not None
    assert [s.slug for s in catalog.list_sources()] == ["kept"]

    purged = actions.purge_sources(catalog)
    assert [s.id for s in purged] == [source.id]
    assert catalog.get_source(source.id, include_deleted=True) is None
    assert catalog.list_jobs(source.id) == [] and catalog.count("jobs") == 1
    for item in report.items:
        if item.dataset_id:
            dataset = catalog.get_dataset(item.dataset_id)
            assert dataset.archived is not None and dataset.harvest.archived == "harvester-deleted"
    service = catalog.get_dataservice(report.items[2].dataservice_id)
    assert service.archived_at is not None and service.harvest.archived_reason == "harvester-deleted"
    assert catalog.get_dataset(catalog.list_datasets(source_id=kept.id)[0].id).archived is None

    assert actions.clean_source(catalog, kept.slug) == 1
    assert catalog.list_datasets(source_id=kept.id) == []
    assert len(catalog.list_datasets(source_id=kept.id, include_deleted=True)) == 1


def test_purge_jobs_after_retention(catalog: Catalog) -> None:
    source = _create(catalog, config={"count": 1}, validation_state="accepted")
    old = engine.run_job(catalog, source).job
    new = engine.run_job(catalog, source).job
    catalog.update_job(old.id, created=utcnow() - timedelta(days=366))
    assert actions.purge_jobs(catalog) == 1
    assert [j.id for j in catalog.list_jobs(source.id)] == [new.id]


def test_attach_and_detach(catalog: Catalog, tmp_path: Path) -> None:
    local = catalog.save_dataset(DatasetRecord(title="Local"))
    holder = catalog.save_dataset(DatasetRecord(title="Holder"))
    catalog.set_dataset_fields(holder, harvest_domain="portal.test", harvest_remote_id="r-1",
                               harvest={"domain": "portal.test", "remote_id": "r-1"})
    csv_file = tmp_path / "attach.csv"
    csv_file.write_text(f"local;remote\n{local};r-1\nmissing;r-2\n")
    report = actions.attach(catalog, csv_file, "portal.test")
    assert report.attached == [(local, "r-1")]
    assert report.errors == [f"{csv_file}:3: unknown dataset 'missing'"]
    attached = catalog.get_dataset(local)
    assert (attached.harvest.domain, attached.harvest.remote_id) == ("portal.test", "r-1")
    assert catalog.get_dataset(holder).harvest.remote_id is None  # detached: no two datasets hold one remote id

    actions.detach(catalog, local)
    assert catalog.get_dataset(local).harvest.remote_id is None
    with pytest.raises(DataspaceError, match="^dataset nope not found$"):
        actions.detach(catalog, "nope")


def test_attach_needs_the_columns(catalog: Catalog, tmp_path: Path) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("id,remote\n1,2\n")
    with pytest.raises(DataspaceError) as error:
        actions.attach(catalog, csv_file, "portal.test")
    assert str(error.value) == f"{csv_file}: missing column(s) local, remote (expected a ';' CSV with local;remote)"


def test_a_new_harvest_after_attach_updates_the_attached_dataset(catalog: Catalog, tmp_path: Path) -> None:
    local = catalog.save_dataset(DatasetRecord(title="Local"))
    (tmp_path / "a.csv").write_text(f"local;remote\n{local};0\n")
    actions.attach(catalog, tmp_path / "a.csv", "portal.test")
    source = _create(catalog, config={"count": 1}, validation_state="accepted")
    report = engine.run_job(catalog, source)
    assert report.items[0].dataset_id == local
    assert catalog.get_dataset(local).title == "Dataset 0"


def test_detach_all_from_source(catalog: Catalog) -> None:
    source = _create(catalog, config={"count": 2}, validation_state="accepted")
    engine.run_job(catalog, source)
    assert actions.detach_all_from_source(catalog, source.slug) == 2
    assert catalog.list_datasets(source_id=source.id) == []
    assert catalog.count("datasets") == 2
