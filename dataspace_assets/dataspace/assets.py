"""Collectors as Dagster assets `dataspace/<full_name>`, with their schedules (cron) or sensors (sub-minute)."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from dataspace_assets.dataspace.config import (
    CollectorConfig,
    HarvesterConfig,
    components_package,
    import_problem,
    load_class,
    utc_moment,
)
from dataspace_assets.dataspace.schedules import Period, cron_step_seconds, period_boundary_passed, plan
from dataspace_assets.storage.resources import DataspaceStore
from dataspace_assets.storage.store import Data, UnsupportedPayload, serialise

STORE_KEY = "dataspace_store"
RUN_TIME_TAG = "dataspace/run_time"
SCHEDULED_TAG = "dagster/scheduled_execution_time"
PREVIEW_BYTES = 2000
COLLECTOR_TAG = "dataspace/collector"
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def asset_key(full_name: str) -> dg.AssetKey:
    """The asset key of a data space component."""
    return dg.AssetKey(["dataspace", full_name])


def run_time(context: dg.AssetExecutionContext) -> datetime:
    """The logical time of this run: the schedule or sensor tick when there is one, else now (UTC)."""
    tags = context.run.tags if context.run else {}
    for tag in (RUN_TIME_TAG, SCHEDULED_TAG):
        if (moment := utc_moment(tags.get(tag))) is not None:
            return moment
    return datetime.now(UTC)


def preview(data: Data, payload: bytes) -> str:
    """A Markdown preview of a stored item: pretty JSON, or the first bytes."""
    head = payload[:PREVIEW_BYTES]
    if data.content_type.startswith("application/json"):
        try:
            text = json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
            return f"```json\n{text[:PREVIEW_BYTES]}{' …' if len(text) > PREVIEW_BYTES else ''}\n```"
        except ValueError:
            pass
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.hex(" ")
    return f"```\n{text}{' …' if len(payload) > PREVIEW_BYTES else ''}\n```"


def collector_asset(collector: CollectorConfig) -> dg.AssetsDefinition:
    """The asset of one collector: each materialization runs it once and stores at most one item."""
    spec = dg.AssetSpec(
        key=asset_key(collector.full_name),
        group_name=collector.group,
        description=collector.description or f"Collector {collector.full_name} ({collector.path}).",
        kinds={"python", "blob"},
        metadata={
            "dataspace/component": "collector",
            "dataspace/path": collector.path,
            "dataspace/config": f"{collector.file_label} [{collector.table}]",
            "dataspace/data_type": collector.data_type,
            "dataspace/data_format": collector.data_format,
            "dataspace/schedule": collector.schedule_text or "none (materialize by hand)",
        },
        freshness_policy=freshness(collector),
    )
    retry = (
        dg.RetryPolicy(max_retries=collector.retries, delay=collector.retry_delay or None)
        if collector.retries
        else None
    )
    package = components_package()

    @dg.multi_asset(
        specs=[spec],
        name=f"dataspace__{collector.full_name}",
        retry_policy=retry,
        pool=collector.pool,
        required_resource_keys={STORE_KEY},
    )
    def _collect(context) -> dg.MaterializeResult:
        return collect(context, collector, getattr(context.resources, STORE_KEY), package)

    return _collect


def freshness(collector: CollectorConfig) -> dg.FreshnessPolicy | None:
    """Freshness derived from SCHEDULE: warn after 1.5 periods without a run, fail after 2 (plus a minute)."""
    if collector.schedule is None or not collector.schedule_enabled:
        return None
    period = collector.schedule.seconds if isinstance(collector.schedule, Period) else 86400
    # Dagster's freshness needs windows of a minute or more: sub-minute collectors get those floors.
    warn = max(1.5 * period, 60)
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(seconds=max(2 * period + 60, warn + 60)), warn_window=timedelta(seconds=warn)
    )


def _where(config: CollectorConfig | HarvesterConfig) -> str:
    """How a component's messages name it: kind, full name, file and table."""
    return f"{config.kind} {config.full_name} ({config.file_label} [{config.table}])"


def component_class(config: CollectorConfig | HarvesterConfig, package: str) -> type:
    """The class a collector's or harvester's PATH names, imported now (lazily, per component)."""
    try:
        return config.component_class or load_class(config.path, package, config.root)
    except Exception as exc:  # a broken module fails this component only, with the same line as validation
        # Retrying cannot fix an import: fail at once with the reason.
        raise dg.Failure(
            description=f"{_where(config)} PATH: {import_problem(config.path, exc)}", allow_retries=False
        ) from exc


def _settings_failure(config: CollectorConfig | HarvesterConfig, exc: TypeError) -> dg.Failure:
    """The failure of settings the constructor does not take: retrying cannot fix them."""
    settings = ", ".join(sorted(config.settings)) or "none"
    return dg.Failure(
        description=f"{_where(config)}: {config.path} does not take its settings ({settings}): {exc}",
        allow_retries=False,
    )


def instantiate(config: CollectorConfig | HarvesterConfig, package: str, cls: type | None = None) -> Any:
    """The component of a collector or harvester, given its settings and its name.

    Its class is imported unless given (a harvester passes the class it imported for its first window), and
    the settings are checked against the constructor, so a mismatch fails the run once, without retries.
    """
    cls = cls or component_class(config, package)
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # no signature to check (some builtins): calling it is the only test
        try:
            component = cls(**config.settings)
        except TypeError as exc:
            raise _settings_failure(config, exc) from exc
    else:
        try:
            signature.bind(**config.settings)
        except TypeError as exc:
            raise _settings_failure(config, exc) from exc
        # Checked first: a TypeError raised *inside* the constructor is the component's own failure (retried
        # per RETRIES), not a settings mismatch.
        component = cls(**config.settings)
    component.name = config.full_name
    return component


def collect(
    context: dg.AssetExecutionContext,
    collector: CollectorConfig,
    store_resource: DataspaceStore,
    package: str,
) -> dg.MaterializeResult:
    """Run the collector once and store what it returns."""
    component = instantiate(collector, package)
    component.run_time = moment = run_time(context)
    history = store_history(context, collector, store_resource, component)
    result = component.run()
    if result is None:
        context.log.info(f"{collector.full_name} returned None: nothing stored")
        return dg.MaterializeResult(
            metadata={"dataspace/stored": False, "dataspace/note": "the collector returned None: nothing stored"}
        )
    try:
        payload = serialise(result)
    except UnsupportedPayload as exc:
        # Retrying cannot fix the collector's code: fail at once with the reason.
        raise dg.Failure(
            description=f"collector {collector.full_name} ({collector.path}) {exc}", allow_retries=False
        ) from exc
    store = store_resource.get_store()
    data = store.write(collector.full_name, payload, date=moment, content_type=collector.content_type)
    context.log.info(f"{collector.full_name}: stored {data.size} bytes at {data.location}")
    return dg.MaterializeResult(
        metadata={
            **({"dataspace/history_items": dg.MetadataValue.int(history)} if history else {}),
            "dataspace/stored": True,
            "dagster/uri": dg.MetadataValue.url(data.location),
            "dataspace/hash": data.hash,
            "dataspace/size": dg.MetadataValue.int(data.size),
            "dataspace/date": dg.MetadataValue.timestamp(data.date),
            "dataspace/item_id": dg.MetadataValue.int(int(data.id)),
            "dataspace/content_type": data.content_type,
            "preview": dg.MetadataValue.md(preview(data, payload)),
        }
    )


def store_history(
    context: dg.AssetExecutionContext, collector: CollectorConfig, store_resource: DataspaceStore, component: Any
) -> int:
    """On a collector's first run, store the past items its optional `history()` yields (date, result).

    Nothing is stored while the collector has items already, so a retried or repeated run adds no copies.
    """
    history = getattr(component, "history", None)
    if not callable(history):
        return 0
    store = store_resource.get_store()
    if store.count(collector.full_name) or store.last_date(collector.full_name) is not None:
        return 0
    stored = 0
    for date, result in history():
        if result is None:
            continue
        try:
            payload = serialise(result)
        except UnsupportedPayload as exc:
            raise dg.Failure(
                description=f"collector {collector.full_name} ({collector.path}) history {exc}", allow_retries=False
            ) from exc
        store.write(collector.full_name, payload, date=date, content_type=collector.content_type)
        stored += 1
    context.log.info(f"{collector.full_name}: first run, stored {stored} history item(s)")
    return stored


def collector_trigger(
    collector: CollectorConfig, asset: dg.AssetsDefinition
) -> dg.ScheduleDefinition | dg.SensorDefinition | None:
    """The schedule (periods of a minute or more, daily times) or sensor (sub-minute) that runs a collector."""
    if collector.schedule is None:
        return None
    how = plan(collector.schedule)
    name = f"dataspace_{collector.full_name}"
    description = f"Runs collector {collector.full_name} {collector.schedule} ({collector.schedule_text})."
    if how.is_sensor:
        interval = how.sensor_seconds or 1

        @dg.sensor(
            name=f"{name}_sensor",
            minimum_interval_seconds=interval,
            target=asset,
            default_status=_sensor_status(collector),
            description=description,
        )
        def _tick(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
            # A sub-minute period can outrun its runs: skip the tick while the previous one is queued or
            # running, so the run queue stays bounded (a 2s collector once queued runs without end).
            busy = context.instance.get_runs(
                filters=dg.RunsFilter(tags={COLLECTOR_TAG: collector.full_name}, statuses=UNFINISHED), limit=1
            )
            if busy:
                return dg.SkipReason(
                    f"{collector.full_name}: run {busy[0].run_id} is still {busy[0].status.value.lower()}; tick skipped"
                )
            now = datetime.now(UTC)
            slot = int(now.timestamp()) // interval
            moment = datetime.fromtimestamp(slot * interval, UTC)
            # One run per period slot, even if the sensor is evaluated twice within it.
            return dg.RunRequest(
                run_key=f"{collector.full_name}:{slot}",
                tags={RUN_TIME_TAG: moment.isoformat(), COLLECTOR_TAG: collector.full_name},
            )

        return _tick

    should_execute = None
    if how.period_seconds:
        period, step = how.period_seconds, cron_step_seconds(how.cron)

        def should_execute(context: dg.ScheduleEvaluationContext) -> bool:
            tick = context.scheduled_execution_time or datetime.now(UTC)
            return period_boundary_passed(tick, tick - timedelta(seconds=step), period)

    return dg.ScheduleDefinition(
        name=f"{name}_schedule",
        cron_schedule=how.cron,
        execution_timezone=collector.timezone,
        target=asset,
        should_execute=should_execute,
        default_status=(
            dg.DefaultScheduleStatus.RUNNING if collector.schedule_enabled else dg.DefaultScheduleStatus.STOPPED
        ),
        description=description,
    )


def _sensor_status(collector: CollectorConfig) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if collector.schedule_enabled else dg.DefaultSensorStatus.STOPPED
