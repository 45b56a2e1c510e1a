"""Parquetize as Dagster assets: `dataspace/<name>_parquet` per BATCH window, `..._parquet_<GROUP>` per roll-up.

Each level is a time-window partitioned asset downstream of the level it is made from, so a backfill of any
range (CLI or UI) re-derives exactly those windows; a range runs as one run (single-run backfill policy).
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import dagster as dg

from dataspace_assets.dataspace.assets import STORE_KEY, asset_key
from dataspace_assets.dataspace.config import ComponentConfig
from dataspace_assets.dataspace.parquetize.batches import Parquetizer, WindowResult, pending_windows
from dataspace_assets.dataspace.parquetize.plan import Level, ParquetPlan, floor_window, parse_plan
from dataspace_assets.storage.store import DataStore

PARQUET_TAG = "dataspace/parquetize"
WINDOW_TABLE_ROWS = 200  # windows listed in a run's metadata table; the totals count them all


def parquet_key(component: str, plan: ParquetPlan, index: int) -> dg.AssetKey:
    """The asset key of one level: `<name>_parquet` for the batch level, `<name>_parquet_<GROUP>` above."""
    name = f"{component}_parquet" if index == 0 else f"{component}_parquet_{plan.levels[index].label}"
    return dg.AssetKey(["dataspace", name])


def level_partitions(plan: ParquetPlan, level: Level) -> dg.TimeWindowPartitionsDefinition:
    """One partition per window of a level, in UTC, from the plan's START on."""
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule=level.cron,
        start=floor_window(plan.start, level.seconds),
        fmt=level.partition_format,
        timezone="UTC",
    )


def parquet_assets(component: ComponentConfig) -> list[dg.AssetsDefinition]:
    """Every level asset of a component with PARQUETIZE (none without it)."""
    if not component.parquetize:
        return []
    plan = parse_plan(component.parquetize)
    return [_level_asset(component, plan, index) for index in range(len(plan.levels))]


def _level_asset(component: ComponentConfig, plan: ParquetPlan, index: int) -> dg.AssetsDefinition:
    level = plan.levels[index]
    name = component.full_name
    upstream = asset_key(name) if index == 0 else parquet_key(name, plan, level.source or 0)
    made_from = "its snapshots" if index == 0 else f"its {plan.levels[level.source or 0].label} Parquet files"
    split = f", one file per {', '.join(level.keys)}" if level.keys else ""
    partitions = level_partitions(plan, level)

    # A backfill of a level is one run over its range (BackfillPolicy.single_run); Dagster marks that
    # parameter beta, and its warning would print on every command that loads the definitions.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)

        @dg.asset(
            key=parquet_key(name, plan, index),
            group_name=component.group,
            description=f"{name} as Parquet, one file per {level.label} window made from {made_from}{split}.",
            deps=[upstream],
            partitions_def=partitions,
            backfill_policy=dg.BackfillPolicy.single_run(),
            # A window is cut once it has closed: the latest partition of a time-window definition is complete.
            automation_condition=dg.AutomationCondition.on_cron(level.cron, "UTC"),
            kinds={"parquet"},
            op_tags={PARQUET_TAG: name},
            metadata={
                "dataspace/component": "parquetize",
                "dataspace/source_component": name,
                "dataspace/level": level.label,
                "dataspace/keys": ", ".join(level.keys) or "none",
                "dataspace/table": f"{name}_parquetize",
            },
            required_resource_keys={STORE_KEY},
        )
        def _parquetize(context) -> dg.MaterializeResult:  # unannotated: annotations are strings here
            store = getattr(context.resources, STORE_KEY).get_store()
            parquetizer = Parquetizer(store, name, plan)
            results = []
            for key in context.partition_keys:
                window = partitions.time_window_for_partition_key(key)
                result = (
                    parquetizer.batch(window.start, window.end)
                    if index == 0
                    else parquetizer.roll_up(index, window.start, window.end)
                )
                context.log.info(_summary(name, result))
                results.append(result)
            return dg.MaterializeResult(metadata=run_metadata(results))

    return _parquetize


def run_metadata(results: list[WindowResult]) -> dict[str, dg.RawMetadataValue]:
    """Counts of a run (one window, or the range of a backfill), the Arrow schema and a table per window."""
    rows = sum(r.rows for r in results)
    original = sum(r.original_size for r in results)
    compressed = sum(r.compressed_size for r in results)
    files = [f for r in results for f in r.files]
    schema: dict[str, str] = {}
    for result in results:
        schema.update(result.schema)
    metadata: dict[str, dg.RawMetadataValue] = {
        "dagster/row_count": dg.MetadataValue.int(rows),
        "windows": dg.MetadataValue.int(len(results)),
        "snapshots": dg.MetadataValue.int(sum(r.snapshots for r in results)),
        "valid": dg.MetadataValue.int(sum(r.valid for r in results)),
        "skipped": dg.MetadataValue.int(sum(r.skipped for r in results)),
        "skipped_schema": dg.MetadataValue.int(sum(r.invalid for r in results)),
        "skipped_empty": dg.MetadataValue.int(sum(r.empty for r in results)),
        "skipped_not_json": dg.MetadataValue.int(sum(r.not_json for r in results)),
        "skipped_not_records": dg.MetadataValue.int(sum(r.not_records for r in results)),
        "original_size": dg.MetadataValue.int(original),
        "compressed_size": dg.MetadataValue.int(compressed),
        "compression_ratio": dg.MetadataValue.float(round(original / compressed, 3) if compressed else 0.0),
        "files_written": dg.MetadataValue.int(len(files)),
        "files_replaced": dg.MetadataValue.int(sum(r.replaced for r in results)),
        "schema": dg.MetadataValue.table_schema(
            dg.TableSchema(columns=[dg.TableColumn(column, kind) for column, kind in schema.items()])
        ),
        "per_window": dg.MetadataValue.table(
            records=[
                dg.TableRecord(
                    {
                        "window_start": r.start.isoformat(),
                        "rows": r.rows,
                        "skipped": r.skipped,
                        "original_size": r.original_size,
                        "compressed_size": r.compressed_size,
                        "written_to": r.into or r.level,
                    }
                )
                for r in results[:WINDOW_TABLE_ROWS]
            ],
        ),
    }
    if files:
        metadata["dagster/uri"] = dg.MetadataValue.url(files[-1].location)
    return metadata


def _summary(name: str, result: WindowResult) -> str:
    where = f" into the {result.into} file" if result.into else ""
    note = f" ({result.note})" if result.note else ""
    return (
        f"{name} {result.level} window {result.start.isoformat()}: {result.rows} rows from {result.valid} "
        f"snapshot(s), {result.skipped} skipped{where}{note}"
    )


def pending_partition_keys(
    store: DataStore, component: ComponentConfig, index: int, now: datetime | None = None
) -> list[str]:
    """Partition keys of the complete windows of level `index` that have input and no file yet."""
    plan = parse_plan(component.parquetize)
    partitions = level_partitions(plan, plan.levels[index])
    starts = pending_windows(store, component.full_name, plan, index, now or datetime.now(UTC))
    return [partitions.get_partition_key_for_timestamp(start.timestamp()) for start in starts]
