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


def harvest_run_tags(settings: "Settings", partitions_def: "dg.PartitionsDefinition", partition_key: str) -> dict[str, str]:
    """The tags of a harvest run of this partition (source, domain), or none when it is not a harvest partition."""
    from dataspace_assets.harvest.assets import harvest_partitions, run_tags
    from dataspace_assets.harvest.catalog import Catalog

    if getattr(partitions_def, "name", None) != harvest_partitions.name:
        return {}
    catalog = Catalog.from_settings(settings)
    try:
        source = catalog.get_source(partition_key)
    finally:
        catalog.close()
    return run_tags(partition_key, source.domain) if source is not None else {}


def harvest_progress(settings: "Settings", partition_key: str) -> str | None:
    """`N/M item(s) processed` of the source's open job, or None when it has none."""
    from dataspace_assets.harvest.catalog import Catalog

    catalog = Catalog.from_settings(settings)
    try:
        source = catalog.get_source(partition_key)
        jobs = catalog.open_jobs(source.id) if source is not None else []
    finally:
        catalog.close()
    if not jobs:
        return None
    job = jobs[-1]
    by_status = job.items_by_status or {}
    done = job.items_total - by_status.get("pending", 0) - by_status.get("started", 0)
    return f"{done}/{job.items_total} item(s) processed"


__all__ = ["harvest_progress", "harvest_run_tags", "sync_declared_sources"]
