"""Dagster definitions of the harvest pillar: the `catalog/harvest` asset, its job and the schedule sensor."""

import dagster as dg

from dataspace_assets.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    """Build this pillar's asset, job and sensor (no database access at load time)."""
    from dataspace_assets.harvest.assets import build_harvest_asset, build_harvest_job
    from dataspace_assets.harvest.sensors import build_schedule_sensor

    return dg.Definitions(
        assets=[build_harvest_asset(settings)],
        jobs=[build_harvest_job()],
        sensors=[build_schedule_sensor(settings)],
    )
