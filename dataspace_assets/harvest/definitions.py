"""Dagster definitions of the harvest pillar: `catalog/harvest` (with its checks), `catalog/sources`, the job and the sensor."""

import dagster as dg

from dataspace_assets.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    """Build this pillar's asset, job and sensor (no database access at load time)."""
    from dataspace_assets.harvest.admin import sources_spec
    from dataspace_assets.harvest.assets import build_harvest_asset, build_harvest_job
    from dataspace_assets.harvest.sensors import build_schedule_sensor

    return dg.Definitions(
        assets=[build_harvest_asset(settings), sources_spec()],
        jobs=[build_harvest_job()],
        sensors=[build_schedule_sensor(settings)],
    )


def harvest_job_for_workers() -> dg.JobDefinition:
    """The harvest job rebuilt from the environment, with the executor DATASPACE_EXECUTOR names (step workers load it)."""
    from dataspace_assets.executors import select_executor
    from dataspace_assets.harvest.assets import HARVEST_JOB_NAME
    from dataspace_assets.settings import load_settings

    settings = load_settings()
    return build_defs(settings).resolve_job_def(HARVEST_JOB_NAME).with_executor_def(select_executor(settings))


def execute_harvest(
    settings: Settings, instance: dg.DagsterInstance, partition_key: str, tags: dict[str, str]
) -> tuple[str, list[str]]:
    """Run one partition of `catalog/harvest` from this process; return the run id and its failure messages.

    With DATASPACE_EXECUTOR=celery the steps go to the Celery workers; otherwise they run here,
    in this process (the fastest for a command one waits for).
    """
    from dataspace_assets.executors import select_executor
    from dataspace_assets.harvest.assets import HARVEST_JOB_NAME
    from dataspace_assets.runs import QUIET_RUN_CONFIG, failure_messages

    if settings.executor == "celery":
        select_executor(settings)  # a clear error when the broker is missing, before any run
        with dg.execute_job(
            dg.reconstructable(harvest_job_for_workers),
            instance=instance,
            tags={**tags, "dagster/partition": partition_key},
            run_config=QUIET_RUN_CONFIG,
        ) as result:
            return result.run_id, [message for _, message in failure_messages(result)]
    result = build_defs(settings).resolve_job_def(HARVEST_JOB_NAME).execute_in_process(
        instance=instance, partition_key=partition_key, tags=tags, run_config=QUIET_RUN_CONFIG, raise_on_error=False
    )
    return result.run_id, [message for _, message in failure_messages(result)]
