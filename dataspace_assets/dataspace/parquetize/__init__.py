"""Parquetize: a component's JSON snapshots as schema-checked, time-bucketed Parquet files (AITwin's PARQUETIZE).

`plan.py` checks the key, `batches.py` writes and rolls up files (no Dagster), `assets.py` makes one
time-partitioned asset per level. The main job and `dataspace run --parquetize` use `parquet_levels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import dagster as dg

from dataspace_assets.dataspace.config import ComponentConfig, DataspaceConfig
from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.store import DataStore


@dataclass(frozen=True)
class ParquetLevelAsset:
    """One level asset of one component, and how to find its pending windows."""

    key: dg.AssetKey
    component: ComponentConfig
    index: int

    def pending(self, store: DataStore, now: datetime | None = None) -> list[str]:
        """Partition keys of the complete windows with input and no file yet, oldest first."""
        from dataspace_assets.dataspace.parquetize.assets import pending_partition_keys

        return pending_partition_keys(store, self.component, self.index, now)


def parquet_levels(config: DataspaceConfig, names: Sequence[str] | None = None) -> list[ParquetLevelAsset]:
    """Every parquetize level of the named components (all of them for None or `all`), lower levels first."""
    from dataspace_assets.dataspace.parquetize.assets import parquet_key
    from dataspace_assets.dataspace.parquetize.plan import parse_plan

    components = [c for c in (*config.collectors, *config.harvesters) if c.parquetize]
    if names and list(names) != ["all"]:
        by_name = {c.full_name: c for c in components}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            known = ", ".join(sorted(by_name)) or "none"
            raise DataspaceError(f"--parquetize: no PARQUETIZE component named {', '.join(unknown)} (known: {known})")
        components = [by_name[n] for n in dict.fromkeys(names)]
    levels = []
    for component in components:
        plan = parse_plan(component.parquetize)
        levels += [
            ParquetLevelAsset(parquet_key(component.full_name, plan, index), component, index)
            for index in range(len(plan.levels))
        ]
    return levels


__all__ = ["ParquetLevelAsset", "parquet_levels"]
