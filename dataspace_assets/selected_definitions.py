"""The code location `dataspace run` (continuous mode) starts its daemon on: only the selected schedules and sensors."""

from dataspace_assets.run_command import selected_definitions
from dataspace_assets.settings import load_settings

defs = selected_definitions(load_settings())
