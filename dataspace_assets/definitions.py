"""The `dataspace` code location: every pillar's definitions, built from `configs/`."""

import dagster as dg

from dataspace_assets.dataspace.definitions import build_defs as dataspace_defs
from dataspace_assets.deltatwin.definitions import build_defs as deltatwin_defs
from dataspace_assets.executors import select_executor
from dataspace_assets.harvest.definitions import build_defs as harvest_defs
from dataspace_assets.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Merge the three pillars and the automation sensor into one code location."""
    return dg.Definitions.merge(
        dataspace_defs(settings),
        deltatwin_defs(settings),
        harvest_defs(settings),
        dg.Definitions(
            executor=select_executor(settings),
            sensors=[
                # Open-source Dagster creates its automation sensor STOPPED; ours runs.
                dg.AutomationConditionSensorDefinition(
                    "dataspace_automation",
                    target=dg.AssetSelection.all(),
                    default_status=dg.DefaultSensorStatus.RUNNING,
                )
            ]
        ),
    )


defs = build_definitions(load_settings())
