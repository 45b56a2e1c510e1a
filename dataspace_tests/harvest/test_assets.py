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
def setup(harvest_env):
    """(catalogue, harvest job, instance) on SQLite, then on PostgreSQL with the production instance yaml."""
    settings, instance = harvest_env
    catalog = Catalog.from_settings(settings)
    job = build_defs(settings).resolve_job_def(HARVEST_JOB_NAME)
    yield catalog, job, instance
    catalog.close()


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
    assert defs.resolve_job_def(HARVEST_JOB_NAME).tags["dagster/max_retries"] == "0"  # harvests opt out of run retries
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == HARVEST_ASSET_KEY}
    assert checks == {"harvest_job_status", "harvest_failed_items"}
    assert dg.AssetKey(["catalog", "sources"]) in graph.get_all_asset_keys()


def test_materializing_a_partition_runs_a_job(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog, job, instance = setup
    monkeypatch.setenv("DATASPACE_HARVEST_CHUNK_SIZE", "50")  # the default (2,500) would make one step
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Portal", validation_state="accepted",
        config={"count": 120, "crash": ["7"], "dataservices": ["api"]},
    )
    add_partitions(instance, [source.slug])
    result = job.execute_in_process(
        instance=instance, partition_key=source.slug, tags=run_tags(source.slug, source.domain)
    )
    assert result.success
    # three chunks of at most 50 dataset items fanned out (DATASPACE_HARVEST_CHUNK_SIZE)
    process_steps = {e.step_key for e in result.all_events if e.is_step_success and "harvest_process" in e.step_key}
    assert len(process_steps) == 3
    materialization = _materialization(result)
    assert materialization.asset_key == HARVEST_ASSET_KEY
    assert materialization.partition == "portal"  # partitions are slugs, readable in the UI
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    [harvest_job] = catalog.list_jobs(source.id)
    assert harvest_job.dagster_run_id == result.run_id
    assert metadata["job_id"] == harvest_job.id
    assert metadata["job_status"] == "done-errors"
    assert metadata["items_total"] == 121
    assert (metadata["items_done"], metadata["items_failed"], metadata["items_skipped"]) == (120, 1, 0)
    assert "items_by_status" not in metadata and "dagster/row_count" not in metadata  # each count once
    assert metadata["items_by_type"] == {"dataset": 120, "dataservice": 1}
    assert metadata["job_link"] == f"dataspace harvest job {harvest_job.id}"
    assert metadata["job_errors"] == []
    assert materialization.metadata["source_url"] == dg.MetadataValue.url("http://portal.test/")
    [problem] = metadata["failed_and_skipped_items"].records
    assert problem.data == {"status": "failed", "kind": "dataset", "remote_id": "7", "message": "boom on 7"}
    checks = {e.check_name: (e.passed, e.severity) for e in result.get_asset_check_evaluations()}
    assert checks == {
        "harvest_job_status": (True, dg.AssetCheckSeverity.ERROR),
        "harvest_failed_items": (False, dg.AssetCheckSeverity.WARN),
    }
    assert catalog.source_locks() == []  # the source is free again
    assert catalog.count("datasets") == 119
    service = catalog.list_dataservices(source_id=source.id)[0]
    assert len(service.datasets) == 119  # linked in finalize, after every chunk


def test_max_items_tag_caps_the_run(setup) -> None:
    catalog, job, instance = setup
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="P", validation_state="accepted", config={"count": 9}
    )
    add_partitions(instance, [source.slug])
    result = job.execute_in_process(instance=instance, partition_key=source.slug, tags=run_tags("p", "x", 4))
    metadata = _materialization(result).metadata
    assert metadata["items_total"].value == 4
    assert metadata["job_errors"].value == ["4 max items reached"]


def test_an_unaccepted_source_fails_the_run_clearly(setup) -> None:
    catalog, job, instance = setup
    source = actions.create_source(catalog, backend="factory", url="http://portal.test/", name="Pending source")
    add_partitions(instance, [source.slug])
    result = job.execute_in_process(instance=instance, partition_key=source.slug, raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description == (
        'harvest source "pending-source" is not accepted (validation: pending); '
        "an administrator must run `dataspace harvest validate pending-source` first"
    )
    assert catalog.count("jobs") == 0


def test_a_failed_listing_fails_the_listing_step_and_keeps_the_job(setup) -> None:
    catalog, job, instance = setup
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="P", validation_state="accepted",
        config={"count": 1, "fail_listing": "HTTP 500 on http://portal.test/"},
    )
    add_partitions(instance, [source.slug])
    result = job.execute_in_process(instance=instance, partition_key=source.slug, raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "catalog__harvest.harvest_initialize"  # the step that failed is shown failed
    [harvest_job] = catalog.list_jobs(source.id)
    assert failure.step_failure_data.user_failure_data.description == (
        f"harvest job {harvest_job.id} failed while listing: HTTP 500 on http://portal.test/"
    )
    assert harvest_job.status == "failed" and catalog.count("datasets") == 1  # items found so far are kept
    assert catalog.source_locks() == []
    status = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(HARVEST_ASSET_KEY, "harvest_job_status")]
    )
    [record] = status.values()
    assert record.event.dagster_event.event_specific_data.passed is False


def test_the_sources_table_lists_every_source_with_its_last_job(setup) -> None:
    catalog, job, instance = setup
    ok = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Portal", validation_state="accepted",
        config={"count": 2},
    )
    actions.create_source(catalog, backend="factory", url="http://pending.test/", name="Waiting")
    refused = actions.create_source(catalog, backend="factory", url="http://no.test/", name="No")
    actions.validate_source(catalog, refused.id, refuse=True, comment="closed data")
    add_partitions(instance, [ok.slug])
    assert job.execute_in_process(instance=instance, partition_key=ok.slug).success
    event = instance.get_latest_materialization_event(dg.AssetKey(["catalog", "sources"]))
    assert event is None  # an observation, not a materialization
    [record] = instance.fetch_observations(dg.AssetKey(["catalog", "sources"]), limit=1).records
    metadata = record.asset_observation.metadata
    rows = {r.data["slug"]: r.data for r in metadata["sources"].value.records}
    assert set(rows) == {"portal", "waiting", "no"}
    assert (rows["portal"]["last_job"], rows["portal"]["done"], rows["portal"]["total"]) == ("done", 2, 2)
    assert rows["waiting"]["validation"] == "pending" and rows["waiting"]["last_job"] == "never run"
    assert rows["no"]["validation"] == "refused (closed data)"
    assert metadata["sources_pending"].value == 1 and metadata["sources_refused"].value == 1


def test_a_second_run_of_a_busy_source_refuses_clearly(setup) -> None:
    catalog, job, instance = setup
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="P", validation_state="accepted", config={"count": 3}
    )
    add_partitions(instance, [source.slug])
    # a live run holds the source (queued: never dead)
    holder = instance.create_run_for_job(job, tags=run_tags(source.slug, source.domain)).run_id
    assert catalog.claim_source(source.id, holder) is None
    result = job.execute_in_process(instance=instance, partition_key=source.slug, raise_on_error=False)
    [failure] = result.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description.startswith(
        f'harvest source "p" is already being harvested by Dagster run {holder} (since '
    )
    assert catalog.count("jobs") == 0 and catalog.count("datasets") == 0


def test_run_tags_name_the_partition_source_and_domain() -> None:
    assert run_tags("slug", "data.test", 5) == {
        "dagster/partition": "slug",
        "dataspace/harvest-source": "slug",
        "dataspace/harvest-domain": "data.test",
        "dataspace/harvest-max-items": "5",
        "dagster/max_retries": "0",
    }
    assert "dataspace/harvest-max-items" not in run_tags("slug", "data.test")


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
    add_partitions(instance, [source.slug])
    with dg.execute_job(
        dg.reconstructable(harvest_job_from_environment),
        instance=instance,
        tags={"dagster/partition": source.slug},
        run_config={"execution": {"config": {"max_concurrent": 2}}},
    ) as result:
        assert result.success
        pids = {e.pid for e in result.all_events if e.is_step_success}
    assert len(pids) == 4  # initialize, two chunks, finalize: each in its own process
    # the run worker (this process) was tagged by the first step, so the reaper can watch it
    [run] = instance.get_runs()
    assert run.tags["dataspace/run-process"].split(":")[1] == str(os.getpid())
    [job] = catalog.list_jobs(source.id)
    assert (job.status, job.items_by_status["done"]) == ("done", 61)
    # the description proves process_dataset saw the job_data written by initialize in another process
    assert {d.description for d in catalog.list_datasets()} == {"Made up from http://portal.test/ (60 listed)"}


def test_an_in_process_harvest_is_two_steps(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog, job, instance = setup
    assert job.executor_def is dg.in_process_executor  # the parsed remote stays in the run's memory
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="Large", validation_state="accepted",
        config={"count": 120, "crash": ["7"]},
    )
    add_partitions(instance, [source.slug])
    result = job.execute_in_process(instance=instance, partition_key=source.slug, tags=run_tags(source.slug, source.domain))
    assert result.success
    # In-process, a fan-out buys nothing: the initialize step maps and stores every item, no process step runs.
    steps = {e.step_key for e in result.all_events if e.is_step_success}
    assert steps == {"catalog__harvest.harvest_initialize", "catalog__harvest.harvest_finalize"}
    [harvest_job] = catalog.list_jobs(source.id)
    assert harvest_job.items_by_status["done"] == 119 and harvest_job.status == "done-errors"
    # what it did shows on its output, not as extra log events
    [output] = [e for e in result.all_events if e.is_successful_output and e.step_key.endswith("harvest_initialize")]
    metadata = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    assert metadata == {"items_listed": 120, "items_done": 119, "items_failed": 1}

    # an operator's chunk size still fans out, and one chunk that holds everything is still one step
    monkeypatch.setenv("DATASPACE_HARVEST_CHUNK_SIZE", "200")
    result = job.execute_in_process(instance=instance, partition_key=source.slug, tags=run_tags(source.slug, source.domain))
    assert {e.step_key for e in result.all_events if e.is_step_success} == steps
    monkeypatch.setenv("DATASPACE_HARVEST_CHUNK_SIZE", "100")
    result = job.execute_in_process(instance=instance, partition_key=source.slug, tags=run_tags(source.slug, source.domain))
    process = {e.step_key for e in result.all_events if e.is_step_success and "harvest_process" in e.step_key}
    assert process == {"catalog__harvest.harvest_process[chunk_0]", "catalog__harvest.harvest_process[chunk_1]"}
    assert [j.status for j in catalog.list_jobs(source.id)] == ["done-errors"] * 3


def test_the_production_instance_queues_runs_with_those_limits(pg_dagster_instance: dg.DagsterInstance) -> None:
    coordinator = pg_dagster_instance.run_coordinator
    assert type(coordinator).__name__ == "QueuedRunCoordinator"
    queue = pg_dagster_instance.get_concurrency_config().run_queue_config
    keys = {limit["key"] for limit in queue.tag_concurrency_limits}
    assert {"dataspace/harvest-source", "dataspace/harvest-domain"} <= keys
    assert pg_dagster_instance.run_monitoring_enabled
    assert type(pg_dagster_instance.run_storage).__name__ == "PostgresRunStorage"


def test_a_pool_limit_set_by_the_operator_is_used_and_never_reset(setup) -> None:
    catalog, job, instance = setup
    storage = instance.event_log_storage
    storage.set_concurrency_slots("harvest", 1)  # what `dagster instance concurrency set harvest 1` does
    source = actions.create_source(
        catalog, backend="factory", url="http://portal.test/", name="P", validation_state="accepted", config={"count": 120}
    )
    add_partitions(instance, [source.slug])
    for _ in range(2):  # the second run meets the limit row the first one saw (the PostgreSQL bug of pools.py)
        result = job.execute_in_process(instance=instance, partition_key=source.slug, raise_on_error=False)
        assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    info = storage.get_concurrency_info("harvest")
    assert info.slot_count == 1 and info.claimed_slots == []
    assert [j.status for j in catalog.list_jobs(source.id)] == ["done", "done"]
