"""The catalogue store: sources by id or slug, datasets with resources and contacts, dataservices."""

from __future__ import annotations

from datetime import date, timedelta

from dataspace_assets.harvest import actions
from dataspace_assets.harvest.catalog import Catalog, utcnow
from dataspace_assets.harvest.catalog.entities import ItemOutcome
from dataspace_assets.harvest.records import (
    Checksum,
    ContactPoint,
    DataserviceRecord,
    DatasetRecord,
    HarvestMetadata,
    ResourceRecord,
)


def test_sources_by_id_or_slug_with_unique_slugs(catalog: Catalog) -> None:
    a = actions.create_source(catalog, backend="factory", url="http://a.test/", name="My Portal")
    b = actions.create_source(catalog, backend="factory", url="http://b.test/", name="My portal")
    c = actions.create_source(catalog, backend="factory", url="http://c.test/", name="my  PORTAL!")
    assert [a.slug, b.slug, c.slug] == ["my-portal", "my-portal-1", "my-portal-2"]
    assert catalog.get_source("my-portal-1").id == b.id
    assert catalog.get_source(c.id).slug == "my-portal-2"
    renamed = catalog.update_source(a.id, name="Other name")
    assert renamed.slug == "other-name"
    assert catalog.get_source("my-portal") is None


def test_source_fields_and_defaults(catalog: Catalog) -> None:
    source = actions.create_source(
        catalog, backend="factory", url="https://portal.test:8443/catalog", name="P", organization="org-1",
        config={"count": 2},
    )
    stored = catalog.get_source(source.id)
    assert stored.domain == "portal.test"
    assert (stored.active, stored.autoarchive, stored.validation_state, stored.frequency) == (True, True, "pending", "manual")
    assert stored.schedule is None and stored.deleted is None
    assert stored.config == {"count": 2}
    assert stored.organization == "org-1"
    assert stored.to_json()["validation"] == {"state": "pending", "by": None, "on": None, "comment": None}


def test_dataset_round_trip(catalog: Catalog) -> None:
    dataset = DatasetRecord(
        title="Air quality",
        description="NO2",
        tags=["air", "no2"],
        frequency="daily",
        temporal_coverage={"start": date(2020, 1, 1), "end": None},
        spatial={"geom": {"type": "MultiPolygon", "coordinates": []}},
        contact_points=[ContactPoint("Env", "env@x.test", role="publisher"), ContactPoint("Env", "env@x.test")],
        resources=[
            ResourceRecord(url="http://x.test/a.csv", title="a", format="csv", checksum=Checksum("sha1", "ab"),
                           harvest={"uri": "http://x.test/r/a"}),
            ResourceRecord(url="http://x.test/b.json", title="b"),
        ],
        extras={"dcat": {"rights": ["free"]}},
        harvest=HarvestMetadata(remote_id="r1", domain="x.test", source_id="s1"),
    )
    dataset_id = catalog.save_dataset(dataset)
    loaded = catalog.get_dataset(dataset_id)
    assert loaded.title == "Air quality"
    assert loaded.temporal_coverage == {"start": date(2020, 1, 1), "end": None}
    assert [r.url for r in loaded.resources] == ["http://x.test/a.csv", "http://x.test/b.json"]
    assert loaded.resources[0].checksum == Checksum("sha1", "ab")
    assert loaded.resources[0].harvest == {"uri": "http://x.test/r/a"}
    assert [(c.name, c.role) for c in loaded.contact_points] == [("Env", "publisher"), ("Env", "contact")]
    assert catalog.count("contact_points") == 1  # one person, two roles
    assert loaded.harvest.remote_id == "r1"
    assert loaded.extras == {"dcat": {"rights": ["free"]}}
    assert catalog.dataset_row(dataset_id)["slug"] == "air-quality"

    # resource ids are kept when the record is saved again
    ids = [r.id for r in loaded.resources]
    loaded.resources.reverse()
    catalog.save_dataset(loaded)
    again = catalog.get_dataset(dataset_id)
    assert [r.id for r in again.resources] == list(reversed(ids))
    assert catalog.count("datasets") == 1 and catalog.count("resources") == 2


def test_dataservice_links_only_known_datasets(catalog: Catalog) -> None:
    dataset_id = catalog.save_dataset(DatasetRecord(title="D"))
    service_id = catalog.save_dataservice(
        DataserviceRecord(title="API", base_api_url="http://x.test/api", datasets=[dataset_id, "missing", dataset_id])
    )
    service = catalog.get_dataservice(service_id)
    assert service.datasets == [dataset_id]
    assert service.base_api_url == "http://x.test/api"


# ------------------------------------------------------------------ a chunk of harvested items
def _pending_items(catalog: Catalog, count: int) -> tuple[str, list[int]]:
    source = actions.create_source(catalog, backend="factory", url="http://chunk.test/", name="Chunk")
    job = catalog.create_job(source.id)
    catalog.add_items(job.id, [{"remote_id": str(i)} for i in range(count)])
    return job.id, [i.id for i in catalog.get_items(job.id)]


def _done(item_id: int, title: str, **record) -> ItemOutcome:
    return ItemOutcome(item_id=item_id, kind="dataset", status="done", started=utcnow(),
                       record=DatasetRecord(title=title, **record))


def test_a_chunk_gets_unique_slugs_with_few_probes(catalog: Catalog) -> None:
    catalog.save_dataset(DatasetRecord(title="Same"))
    _, ids = _pending_items(catalog, 4)
    outcomes = [_done(ids[0], "Same"), _done(ids[1], "Same 1"), _done(ids[2], "Same"), _done(ids[3], "Other")]
    catalog.store_outcomes(outcomes)
    slugs = [catalog.dataset_row(o.record.id)["slug"] for o in outcomes]
    assert slugs == ["same-2", "same-1", "same-3", "other"]  # "same-1" is another title's own slug


def test_one_record_that_cannot_be_stored_fails_alone(catalog: Catalog) -> None:
    job_id, ids = _pending_items(catalog, 3)
    bad = _done(ids[1], "Bad", resources=[ResourceRecord(url="http://x.test/b.csv")], extras={"x": object()})
    outcomes = [_done(ids[0], "Good 0"), bad, _done(ids[2], "Good 2")]
    catalog.store_outcomes(outcomes)
    assert [o.status for o in outcomes] == ["done", "failed", "done"]
    assert bad.errors[0]["message"].startswith("could not store the dataset: ")
    assert "Traceback" in bad.errors[0]["details"]
    assert sorted(d.title for d in catalog.list_datasets()) == ["Good 0", "Good 2"]
    assert catalog.count("resources") == 0  # nothing of the bad record is left behind
    items = catalog.get_items(job_id)  # statuses are written in the same transaction
    assert [(i.status, bool(i.dataset_id)) for i in items] == [("done", True), ("failed", False), ("done", True)]
    assert all(i.started is not None and i.ended >= i.started for i in items)


def test_a_remote_id_resolves_to_the_live_record_then_the_oldest(catalog: Catalog) -> None:
    def harvested(title: str) -> str:
        return catalog.save_dataset(DatasetRecord(title=title, harvest=HarvestMetadata(remote_id="r", domain="d.test")))

    def found() -> str | None:
        return catalog.find_by_remote_id("dataset", "r", any_source=False, domain="d.test")

    oldest, middle, newest = harvested("Oldest"), harvested("Middle"), harvested("Newest")
    now = utcnow()
    for days, dataset_id in ((3, oldest), (2, middle), (1, newest)):
        catalog.set_dataset_fields(dataset_id, created_at=now - timedelta(days=days))
    catalog.set_dataset_fields(oldest, deleted=now)
    assert found() == middle  # the oldest is deleted: the oldest live one
    catalog.set_dataset_fields(middle, deleted=now)
    assert found() == newest
    catalog.set_dataset_fields(newest, deleted=now)
    assert found() == oldest  # all deleted: the oldest


def test_a_resource_id_repeated_within_a_dataset_gets_a_new_id(catalog: Catalog) -> None:
    dataset = DatasetRecord(
        title="Twice",
        resources=[ResourceRecord(id="dup", url="http://x.test/a.csv"), ResourceRecord(id="dup", url="http://x.test/b.csv")],
    )
    stored = catalog.get_dataset(catalog.save_dataset(dataset))
    ids = [r.id for r in stored.resources]
    assert [r.url for r in stored.resources] == ["http://x.test/a.csv", "http://x.test/b.csv"]
    assert ids[0] == "dup" and ids[1] not in ("dup", None)
