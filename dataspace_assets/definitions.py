"""The `dataspace` code location: every pillar's definitions, built from `configs/`."""

import dagster as dg

from dataspace_assets.dataspace.definitions import build_defs as dataspace_defs
from dataspace_assets.deltatwin.definitions import build_defs as deltatwin_defs
from dataspace_assets.executors import select_executor
from dataspace_assets.harvest.definitions import build_defs as harvest_defs
from dataspace_assets.harvest.publish import PublishedComponent
from dataspace_assets.harvest.publish.definitions import build_defs as publish_defs
from dataspace_assets.settings import Settings, load_settings


def published_components(settings: Settings) -> list[PublishedComponent]:
    """What `catalog/dcat` publishes of the data space: its collectors, harvesters and DeltaTwin outputs."""
    from dataspace_assets.dataspace.config import dataspace_folder, load_config
    from dataspace_assets.dataspace.schedules import Daily
    from dataspace_assets.dataspace.server import parquet_route
    from dataspace_assets.deltatwin.validate import validate_folder

    config = load_config(dataspace_folder(settings.configs_dir), timezone=settings.timezone, import_classes=False)
    published = []
    for kind, items in (("collector", config.collectors), ("harvester", config.harvesters)):
        for item in items:
            # A handler serving the same DATA_FORMAT is this component's route; the v0.0.2 route gives its latest item.
            handler = next((h for h in config.handlers if h.data_format == item.data_format), None)
            period = 86400 if isinstance(item.schedule, Daily) else getattr(item.schedule, "seconds", None)
            published.append(PublishedComponent(
                key=f"dataspace/{item.full_name}", kind=kind, title=item.full_name,
                description=item.description or f"The {kind} {item.full_name} of the data space ({item.data_format}).",
                data_format=item.data_format, media_type=item.content_type,
                schedule=str(item.schedule) if item.schedule else None, period_seconds=period,
                route=f"/{handler.full_name}" if handler else None,
                latest_route=f"/{item.full_name.replace('_', '-')}/", index_table=item.full_name,
                asset_key=("dataspace", item.full_name),
                # PARQUETIZE: its files, listed at materialization time from its table, are below this route.
                parquet_route=parquet_route(item.full_name) if item.parquetize else None,
                derived_from=tuple(f"dataspace/{name}" for name in dict.fromkeys((
                    getattr(item, "source", None), *getattr(item, "dependencies", ()),
                    *getattr(item, "optional_dependencies", ()))) if name and name != item.full_name),
            ))
    twins = settings.configs_dir / "deltatwins"
    for folder in sorted(p for p in twins.iterdir() if (p / "manifest.json").is_file()) if twins.is_dir() else []:
        manifest = validate_folder(folder).manifest
        for output in (manifest.outputs.values() if manifest else ()):
            published.append(PublishedComponent(
                # keyed like the twin's output asset: deltatwin/<twin name>/<output key>
                key=f"deltatwin/{manifest.name}/{output.name}", kind="twin-output",
                title=f"{manifest.name}: {output.name}", description=output.description or manifest.description,
                data_format=output.type, asset_key=("deltatwin", manifest.name, output.name),
                generated_by=manifest.name, used=tuple(manifest.inputs),
            ))
    return published


def build_definitions(settings: Settings) -> dg.Definitions:
    """Merge the three pillars and the automation sensor into one code location."""
    defs = dg.Definitions.merge(
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
    return with_published_catalogue(defs, settings)


def with_published_catalogue(defs: dg.Definitions, settings: Settings) -> dg.Definitions:
    """Add `catalog/dcat`, depending on the assets of the components it publishes that the location defines
    (and on their Parquet levels, whose files it lists)."""
    components = published_components(settings)
    graph = defs.resolve_asset_graph()
    defined = graph.get_all_asset_keys()
    deps = [key for key in (dg.AssetKey(list(c.asset_key)) for c in components) if key in defined]
    parquetized = {c.index_table for c in components if c.parquet_route}
    for key in sorted(defined, key=lambda k: k.to_user_string()):
        metadata = graph.get(key).metadata
        source = metadata.get("dataspace/source_component")
        if metadata.get("dataspace/component") == "parquetize" and getattr(source, "value", source) in parquetized:
            deps.append(key)
    return dg.Definitions.merge(defs, publish_defs(settings, components, deps))


defs = build_definitions(load_settings())
