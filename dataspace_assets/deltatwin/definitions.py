"""Dagster definitions of the deltatwin pillar, built from `configs/`."""

import dagster as dg

from dataspace_assets.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    """Build this pillar's assets, sensors and resources from the deployment's configs."""
    return dg.Definitions()
