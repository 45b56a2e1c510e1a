"""Dagster definitions of the catalogue publication: the `catalog/dcat` asset."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from dataspace_assets.harvest.publish.components import PublishedComponent
from dataspace_assets.settings import Settings


def build_defs(
    settings: Settings, components: Sequence[PublishedComponent] = (), deps: Sequence[dg.AssetKey] = ()
) -> dg.Definitions:
    """The `catalog/dcat` asset over these components (the top-level definitions know every pillar and build them)."""
    from dataspace_assets.harvest.publish.assets import build_catalog_asset

    return dg.Definitions(assets=[build_catalog_asset(settings, components, deps)])
