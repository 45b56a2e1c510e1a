"""Dagster definitions of the dataspace pillar, built from `configs/dataspace/**/*.toml`."""

from __future__ import annotations

import dagster as dg

from dataspace_assets.errors import DataspaceError
from dataspace_assets.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    """One asset per collector, its schedule or sensor, and the store resource (no I/O at load time)."""
    from dataspace_assets.dataspace.assets import STORE_KEY, collector_asset, collector_trigger
    from dataspace_assets.dataspace.parquetize.assets import parquet_assets
    from dataspace_assets.dataspace.config import dataspace_folder, load_config
    from dataspace_assets.dataspace.handler_sensors import handler_sensor_defs
    from dataspace_assets.storage.io_manager import IO_MANAGER_KEY, DataspaceIOManager
    from dataspace_assets.storage.resources import DataspaceStore

    # Classes are only located here, not imported: a component whose module fails to import fails its own
    # runs (and `dataspace config validate`), not the whole code location.
    config = load_config(dataspace_folder(settings.configs_dir), timezone=settings.timezone, import_classes=False)
    if config.problems:
        lines = "\n".join(f"  {problem}" for problem in config.problems)
        raise DataspaceError(
            f"{len(config.problems)} problem(s) in the data space configs ({config.folder}):\n{lines}"
        )
    assets = []
    schedules: list[dg.ScheduleDefinition] = []
    sensors: list[dg.SensorDefinition] = []
    for collector in config.collectors:
        asset = collector_asset(collector)
        assets.append(asset)
        trigger = collector_trigger(collector, asset)
        if isinstance(trigger, dg.ScheduleDefinition):
            schedules.append(trigger)
        elif trigger is not None:
            sensors.append(trigger)
    assets.extend(harvester_defs(config.harvesters, sensors))
    # Handlers with ON_NEW: a job and a sensor each (push handlers).
    handler_jobs, handler_sensors = handler_sensor_defs(config)
    sensors.extend(handler_sensors)
    for component in (*config.collectors, *config.harvesters):
        assets.extend(parquet_assets(component))
    store = DataspaceStore.from_settings(settings)
    return dg.Definitions(
        assets=assets,
        schedules=schedules,
        sensors=sensors,
        jobs=handler_jobs,
        resources={STORE_KEY: store, IO_MANAGER_KEY: DataspaceIOManager(store=store)},
    )


def harvester_defs(harvesters: list, sensors: list[dg.SensorDefinition]) -> list[dg.AssetsDefinition]:
    """One asset per harvester (eager automation, SCHEDULE as an extra tick) and the backlog sensor."""
    from dataspace_assets.dataspace.harvesters import backlog_sensor, harvester_asset

    built = {h.full_name: harvester_asset(h) for h in harvesters}
    if built:
        sensors.append(backlog_sensor(harvesters, built))
    return list(built.values())
