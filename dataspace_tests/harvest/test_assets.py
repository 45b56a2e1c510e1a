"""The `catalog/harvest` graph asset: one partition per source, materialization metadata per job."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from dataspace_assets.harvest import actions
from dataspace_assets.harvest.assets import HARVEST_ASSET_KEY, HARVEST_JOB_NAME, run_tags
from dataspace_assets.harvest.catalog import Catalog
from dataspace_assets.harvest.definitions import build_defs
from dataspace_assets.harvest.sources_config import add_partitions
from dataspace_assets.settings import Settings


@pytest.fixture
def setup(tmp_settings: Settings, dagster_instance: dg.DagsterInstance, plugin_path: Path):
    catalog = Catalog.from_settings(tmp_settings)
    job = build_defs(tmp_settings).resolve_job_def(HARVEST_JOB_NAME)
    return catalog, job, dagster_instance


def _materialization(result: dg.ExecuteInProcessResult) -> dg.AssetMaterialization:
    [event] = result.get_asset_materialization_events()
    return event.event_specific_data.materialization


def test_definitions_load_the_partitioned_asset_and_sensor(tmp_settings: Settings) -> None:
    defs = build_defs(tmp_settings)
    graph = defs.resolve_asset_graph()
    node = graph.get(HARVEST_ASSET_KEY)
    assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
    assert node.partitions_def.name == "harvest_sources"
    sensor = defs.resolve_sensor_def("harvest_schedule_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    ops = {n.name for n in defs.resolve_job_def(HARVEST_JOB_NAME).graph.nodes}
    assert ops == {"catalog__harvest"}


def test_materializing_a_partition_runs_a_job(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog, job, instance = setup
    monkeypatch.setenv("DATASPACE_HARVEST_CHUNK_SIZE", "50")  # the default (2,500) would make one step
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Portal", validation_state="accepted",
        config={"count": 120, "crash": ["7"], "dataservices": ["api"]},
    )
    add_partitions(instance, [source.id])
    result = job.execute_in_process(
        instance=instance, partition_key=source.id, tags=run_tags(source.id, source.slug, source.domain)
    )
    assert result.success
    # three chunks of at most 50 dataset items fanned out (DATASPACE_HARVEST_CHUNK_SIZE)
    process_steps = {e.step_key for e in result.all_events if e.is_step_success and "harvest_process" in e.step_key}
    assert len(process_steps) == 3
    materialization = _materialization(result)
    assert materialization.asset_key == HARVEST_ASSET_KEY
    assert materialization.partition == source.id
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    [harvest_job] = catalog.list_jobs(source.id)
    assert harvest_job.dagster_run_id == result.run_id
    assert metadata["job_id"] == harvest_job.id
    assert metadata["job_status"] == "done-errors"
    assert metadata["items_total"] == 121
    assert metadata["items_by_status"]["done"] == 120 and metadata["items_failed"] == 1
    assert metadata["items_by_type"] == {"dataset": 120, "dataservice": 1}
    assert metadata["job_link"] == f"dataspace harvest job {harvest_job.id}"
    assert metadata["job_errors"] == []
    assert catalog.count("datasets") == 119
    service = catalog.list_dataservices(source_id=source.id)[0]
    assert len(service.datasets) == 119  # linked in finalize, after every chunk


def test_max_items_tag_caps_the_run(setup) -> None:
    catalog, job, instance = setup
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="P", validation_state="accepted", config={"count": 9}
    )
    add_partitions(instance, [source.id])
    result = job.execute_in_process(instance=instance, partition_key=source.id, tags=run_tags(source.id, "p", "x", 4))
    metadata = _materialization(result).metadata
    assert metadata["items_total"].value == 4
    assert metadata["job_errors"].value == ["4 max items reached"]


def test_an_unaccepted_source_fails_the_run_clearly(setup) -> None:
    catalog, job, instance = setup
    source = actions.create_source(catalog, backend="factory", url="http://portal.test/", name="Pending source")
    add_partitions(instance, [source.id])
    result = job.execute_in_process(instance=instance, partition_key=source.id, raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description == (
        'harvest source "pending-source" is not accepted (validation: pending); '
        "an administrator must run `dataspace harvest validate pending-source` first"
    )
    assert catalog.count("jobs") == 0


def test_a_failed_job_fails_the_step_and_keeps_the_job(setup) -> None:
    catalog, job, instance = setup
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="P", validation_state="accepted",
        config={"count": 1, "fail_listing": "HTTP 500 on http://portal.test/"},
    )
    add_partitions(instance, [source.id])
    result = job.execute_in_process(instance=instance, partition_key=source.id, raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    [harvest_job] = catalog.list_jobs(source.id)
    assert failure.step_failure_data.user_failure_data.description == (
        f"harvest job {harvest_job.id} failed: HTTP 500 on http://portal.test/"
    )
    assert harvest_job.status == "failed" and catalog.count("datasets") == 1


def test_run_tags_name_the_partition_source_and_domain() -> None:
    assert run_tags("id1", "slug", "data.test", 5) == {
        "dagster/partition": "id1",
        "dataspace/harvest-source": "slug",
        "dataspace/harvest-domain": "data.test",
        "dataspace/harvest-max-items": "5",
    }
    assert "dataspace/harvest-max-items" not in run_tags("id1", "slug", "data.test")


def harvest_job_from_environment() -> dg.JobDefinition:
    """The harvest job built from the DATASPACE_* environment (rebuilt in each step process)."""
    from dataspace_assets.settings import load_settings

    return build_defs(load_settings()).resolve_job_def(HARVEST_JOB_NAME).with_executor_def(dg.multiprocess_executor)


def test_steps_in_separate_processes_rebuild_the_backend_from_the_job(
    setup, tmp_settings: Settings, plugin_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from dataspace_assets.settings import PROJECT_ROOT

    catalog, _job, instance = setup
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(plugin_path), str(PROJECT_ROOT)]))
    monkeypatch.setenv("DATASPACE_HARVEST_CHUNK_SIZE", "50")  # two chunks, as the default would make one
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="P", validation_state="accepted",
        config={"count": 60, "dataservices": ["api"]},
    )
    add_partitions(instance, [source.id])
    with dg.execute_job(
        dg.reconstructable(harvest_job_from_environment),
        instance=instance,
        tags={"dagster/partition": source.id},
        run_config={"execution": {"config": {"max_concurrent": 2}}},
    ) as result:
        assert result.success
        pids = {e.pid for e in result.all_events if e.is_step_success}
    assert len(pids) == 4  # initialize, two chunks, finalize: each in its own process
    [job] = catalog.list_jobs(source.id)
    assert (job.status, job.items_by_status["done"]) == ("done", 61)
    # the description proves process_dataset saw the job_data written by initialize in another process
    assert {d.description for d in catalog.list_datasets()} == {"Made up from http://portal.test/ (60 listed)"}


def test_a_harvest_is_a_few_large_in_process_steps(setup) -> None:
    catalog, job, instance = setup
    assert job.executor_def is dg.in_process_executor  # the parsed remote stays in the run's memory
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Large", validation_state="accepted",
        config={"count": 120},
    )
    add_partitions(instance, [source.id])
    result = job.execute_in_process(instance=instance, partition_key=source.id, tags=run_tags(source.id, source.slug, source.domain))
    assert result.success
    process_steps = {e.step_key for e in result.all_events if e.is_step_success and "harvest_process" in e.step_key}
    assert process_steps == {"catalog__harvest.harvest_process[chunk_0]"}  # 120 items: one step of up to 2,500
    [harvest_job] = catalog.list_jobs(source.id)
    assert harvest_job.items_by_status["done"] == 120 and harvest_job.status == "done"
