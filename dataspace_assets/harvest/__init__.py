"""The harvest pillar: harvest sources, jobs and items, backends, and the `catalog/harvest` asset."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

    from dataspace_assets.settings import Settings


def sync_declared_sources(settings: "Settings", instance: "dg.DagsterInstance | None" = None) -> list[str]:
    """Sync the sources declared in `configs/harvest/*.toml` into the catalogue and the partitions; return their ids."""
    from dataspace_assets.harvest.sources_config import sync_declared_sources as _sync

    return _sync(settings, instance)


__all__ = ["sync_declared_sources"]
