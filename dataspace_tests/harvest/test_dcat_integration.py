"""`catalog/harvest` partitions harvested with the DCAT backend: the shipped example and real fixtures."""

from __future__ import annotations

import shutil

import dagster as dg

from dataspace_assets.harvest import actions, sync_declared_sources
from dataspace_assets.harvest.assets import HARVEST_JOB_NAME
from dataspace_assets.harvest.backends.dcat import DcatBackend  # noqa: F401 - a broken backend fails, never skips
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.definitions import build_defs
from dataspace_assets.harvest.sources_config import PARTITIONS_NAME, add_partitions
from dataspace_assets.settings import PROJECT_ROOT, Settings


def _materialize(settings: Settings, instance: dg.DagsterInstance, source_id: str) -> dg.ExecuteInProcessResult:
    job = build_defs(settings).resolve_job_def(HARVEST_JOB_NAME)
    slug = Catalog.from_settings(settings).get_source(source_id).slug  # partitions are source slugs
    return job.execute_in_process(instance=instance, partition_key=slug, raise_on_error=False)


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


def test_the_shipped_example_harvests_offline(tmp_settings: Settings, dagster_instance: dg.DagsterInstance) -> None:
    shutil.copytree(PROJECT_ROOT / "configs" / "harvest", tmp_settings.configs_dir / "harvest")
    [source_id] = sync_declared_sources(tmp_settings, dagster_instance)
    assert dagster_instance.get_dynamic_partitions(PARTITIONS_NAME) == ["example-city"]
    result = _materialize(tmp_settings, dagster_instance, source_id)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    metadata = _metadata(result)
    assert metadata["job_status"] == "done"
    assert metadata["items_done"] == 3
    catalog = Catalog.from_settings(tmp_settings)
    datasets = {d.title: d for d in catalog.list_datasets(source_id=source_id)}
    assert sorted(datasets) == ["Air quality measurements", "Bike counters", "Street trees"]
    assert len(datasets["Air quality measurements"].resources) == 2
    assert datasets["Air quality measurements"].harvest.backend == "DCAT"
    assert datasets["Air quality measurements"].harvest.domain == "localhost"


def test_flat_jsonld_twice_through_the_asset(
    tmp_settings: Settings, dagster_instance: dg.DagsterInstance, http_server
) -> None:
    catalog = Catalog.from_settings(tmp_settings)
    source = actions.create_source(
        catalog, backend="dcat", url=http_server.url("udata/dcat/flat.jsonld"), name="Flat",
        validation_state="accepted", config={"allow_private_addresses": True},
    )
    add_partitions(dagster_instance, [source.slug])
    for _ in range(2):
        result = _materialize(tmp_settings, dagster_instance, source.id)
        assert result.success
        assert _metadata(result)["items_done"] == 3
    datasets = catalog.list_datasets(source_id=source.id)
    assert sorted(len(d.resources) for d in datasets) == [1, 2, 2]
    assert catalog.count("datasets") == 3
    assert [j.status for j in catalog.list_jobs(source.id)] == ["done", "done"]


def test_a_remote_error_fails_the_job_with_one_error(
    tmp_settings: Settings, dagster_instance: dg.DagsterInstance, http_server
) -> None:
    http_server.route("udata/dcat/flat.jsonld", status=500)
    catalog = Catalog.from_settings(tmp_settings)
    source = actions.create_source(
        catalog, backend="dcat", url=http_server.url("udata/dcat/flat.jsonld"), name="Down",
        validation_state="accepted", config={"allow_private_addresses": True, "retries": 0},
    )
    add_partitions(dagster_instance, [source.slug])
    result = _materialize(tmp_settings, dagster_instance, source.id)
    assert not result.success
    [job] = catalog.list_jobs(source.id)
    assert job.status == "failed" and len(job.errors) == 1
    assert http_server.url("udata/dcat/flat.jsonld") in job.errors[0]["message"]


def test_preview_of_bnodes_saves_nothing(tmp_settings: Settings, http_server) -> None:
    from dataspace_assets.harvest import engine

    catalog = Catalog.from_settings(tmp_settings)
    report = engine.preview_job(
        catalog, backend="dcat", url=http_server.url("udata/dcat/bnodes.xml"), name="Preview",
        config={"allow_private_addresses": True},
    )
    services = [i for i in report.items if i.kind == "dataservice"]
    assert len(services) == 1 and len(report.dataservices[services[0].dataservice_id].datasets) == 2
    for table in ("sources", "jobs", "datasets", "dataservices", "contact_points"):
        assert catalog.count(table) == 0, table
