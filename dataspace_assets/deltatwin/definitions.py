"""Dagster definitions of the deltatwin pillar: one graph asset per twin folder under `configs/deltatwins/`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dataspace_assets.settings import Settings

TWINS_FOLDER = "deltatwins"


def twin_folders(configs_dir: Path) -> list[Path]:
    """Every folder of `configs/deltatwins/` holding a manifest.json, in name order."""
    root = configs_dir / TWINS_FOLDER
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "manifest.json").is_file())


def twin_definitions(folders: list[Path], settings: Settings, *, registries: tuple[Path, ...] = ()) -> dg.Definitions:
    """The assets of the given twin folders and the store resource their bound inputs read."""
    from dataspace_assets.deltatwin.assets import IO_MANAGER, STORE_RESOURCE, RunPaths, TwinFileIOManager, twin_asset
    from dataspace_assets.deltatwin.plan import build_plan
    from dataspace_assets.errors import DataspaceError
    from dataspace_assets.storage.resources import DataspaceStore

    paths = RunPaths.from_settings(settings)
    assets = []
    names: dict[str, Path] = {}
    for folder in folders:
        plan = build_plan(folder, registries=registries)
        if plan.name in names:
            raise DataspaceError(f"{folder}: twin name {plan.name!r} is already used by {names[plan.name]}")
        names[plan.name] = folder
        assets.append(twin_asset(plan, paths))
    resources = {
        STORE_RESOURCE: DataspaceStore.from_settings(settings),
        IO_MANAGER: TwinFileIOManager(base_dir=paths.outputs),
    }
    return dg.Definitions(assets=assets, resources=resources)


def build_defs(settings: Settings) -> dg.Definitions:
    """One `graph_multi_asset` per twin folder of the deployment's configs (validated; no I/O beyond reading them)."""
    return twin_definitions(twin_folders(settings.configs_dir), settings)
