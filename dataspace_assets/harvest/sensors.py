"""The harvest schedule: a sensor that launches every accepted, active source when its cron tick is due."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
from croniter import croniter

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest import admin
from dataspace_assets.harvest.assets import HARVEST_JOB_NAME, harvest_partitions, run_tags
from dataspace_assets.harvest.catalog import Catalog, HarvestSource
from dataspace_assets.harvest.reaper import reap
from dataspace_assets.settings import Settings

SENSOR_NAME = "harvest_schedule_sensor"
FIRST_LOOKBACK = timedelta(minutes=1)  # on the very first tick, a tick due in the last minute still runs


def latest_tick(cron: str, after: datetime, until: datetime, tz: str = "UTC") -> datetime | None:
    """The last tick of the cron schedule in (after, until], or None."""
    local = until.astimezone(ZoneInfo(tz))
    tick = croniter(cron, local).get_prev(datetime)
    # croniter.get_prev is strictly before `until`, ignoring its microseconds; a tick in the
    # first second of `until`'s minute counts as due, at the whole minute so its run key is stable.
    if local.second == 0 and croniter.match(cron, local):
        tick = local.replace(microsecond=0)
    tick = tick.astimezone(timezone.utc)
    return tick if after < tick <= until else None


def is_schedulable(source: HarvestSource) -> bool:
    """Only accepted, active, live sources with a schedule run on their own."""
    return (
        source.deleted is None and source.active and source.validation_state == "accepted" and bool(source.schedule)
    )


def due_run_requests(
    sources: list[HarvestSource], after: datetime, now: datetime, tz: str = "UTC"
) -> list[dg.RunRequest]:
    """A run request per source whose cron ticked in (after, now], keyed by (source, tick) so it runs once."""
    requests = []
    for source in sources:
        if not is_schedulable(source):
            continue
        tick = latest_tick(source.schedule or "", after, now, tz)
        if tick is None:
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{source.id}:{tick.isoformat()}",
                partition_key=source.slug,
                tags=run_tags(source.slug, source.domain),
            )
        )
    return requests


def launch_run_requests(catalog: Catalog, requests: list[dict]) -> list[dg.RunRequest]:
    """A run request per `dataspace harvest launch` of a source that may still run."""
    runs = []
    for request in requests:
        source = catalog.get_source(request["source_id"])
        if source is None or source.validation_state != "accepted":
            continue
        runs.append(
            dg.RunRequest(
                run_key=f"launch:{source.id}:{request['id']}:{request['requested_at'].isoformat()}",
                partition_key=source.slug,
                tags=run_tags(source.slug, source.domain, request.get("max_items")),
            )
        )
    return runs


def _digest(observation: dg.AssetObservation) -> str:
    """A short fingerprint of the sources table, to report it only when it changed."""
    table = observation.metadata["sources"].value
    rows = [record.data for record in table.records]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_schedule_sensor(settings: Settings) -> dg.SensorDefinition:
    """The sensor that syncs declared sources, keeps the partitions current and launches due sources."""

    @dg.sensor(
        name=SENSOR_NAME,
        job_name=HARVEST_JOB_NAME,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Launch each accepted, active harvest source when its cron schedule is due.",
    )
    def harvest_schedule_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        from dataspace_assets.harvest.sources_config import (
            partition_changes,
            read_declared_sources,
            sync_into_catalog,
        )

        now = datetime.now(timezone.utc)
        state = json.loads(context.cursor) if context.cursor else {}
        after = datetime.fromisoformat(state["last"]) if state.get("last") else now - FIRST_LOOKBACK
        catalog = Catalog.from_settings(settings)
        sync_error = None
        asset_events: list[dg.AssetObservation] = []
        try:
            reaped = reap(catalog, context.instance)
            for job_id in reaped.jobs:
                context.log.warning(f"closed harvest job {job_id}: its run had died")
            for run_id in reaped.runs:
                context.log.warning(f"marked Dagster run {run_id} failed: its process is gone")
            try:
                sync_into_catalog(catalog, read_declared_sources(settings.configs_dir))
            except DataspaceError as exc:
                # A bad declaration must not stop the other sources' schedules, nor show as a traceback.
                sync_error = f"configs/harvest not synced: {exc}"
                context.log.error(sync_error)
            sources = catalog.list_sources(deleted=None)
            known = set(context.instance.get_dynamic_partitions(harvest_partitions.name))
            missing, gone = partition_changes(catalog, known)
            launches = launch_run_requests(catalog, catalog.take_launch_requests())
            observation = admin.sources_observation(catalog)
            digest = _digest(observation)
            if digest != state.get("sources"):
                asset_events.append(observation)
        finally:
            catalog.close()
        # Partitions are exactly the accepted, live sources.
        partition_requests = []
        if missing:
            partition_requests.append(harvest_partitions.build_add_request(missing))
        if gone:
            partition_requests.append(harvest_partitions.build_delete_request(gone))
        run_requests = due_run_requests(sources, after, now, settings.timezone) + launches
        return dg.SensorResult(
            run_requests=run_requests,
            skip_reason=sync_error if sync_error and not run_requests else None,
            cursor=json.dumps({"last": now.isoformat(), "sources": digest}),
            dynamic_partitions_requests=partition_requests,
            asset_events=asset_events,
        )

    return harvest_schedule_sensor
