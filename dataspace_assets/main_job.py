"""The main job: materialize every asset defined by `configs/` once, into the persistent instance."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dagster as dg

from dataspace_assets.definitions import build_definitions
from dataspace_assets.harvest import sync_declared_sources
from dataspace_assets.instance import get_instance
from dataspace_assets.runs import QUIET_RUN_CONFIG, failure_messages
from dataspace_assets.settings import Settings, redact


# Dagster's run tags for a partition range in one run (what a single-run backfill sets).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass
class Materialized:
    """One asset (or asset partition) the main job materialized, with where its data went."""

    asset: str
    partition: str | None
    uri: str | None
    detail: str | None = None


@dataclass
class MainJobReport:
    """What a main-job run did, for the summary printed to the user."""

    run_ids: list[str] = field(default_factory=list)
    materialized: list[Materialized] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    orphan_blobs: int = 0  # blobs no index row points at (`dataspace storage check`)

    @property
    def ok(self) -> bool:
        return not self.failures


def _partition_keys(partitions_def: dg.PartitionsDefinition, instance: dg.DagsterInstance) -> list[str]:
    """Every dynamic or static partition; only the latest one of a time-window definition."""
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        last = partitions_def.get_last_partition_key()
        return [last] if last else []
    return list(partitions_def.get_partition_keys(dynamic_partitions_store=instance))


def _detail(metadata: dict) -> str | None:
    """A harvest job's source and item counts, the one thing worth a line besides a blob URI."""
    if "items_by_status" not in metadata:
        return None
    by_status = sorted(metadata["items_by_status"].items())
    counts = ", ".join(f"{count} {status}" for status, count in by_status if count)
    return f"source {metadata.get('source')}: job {metadata.get('job_status')}, items {counts or 'none'}"


def _record(report: MainJobReport, result: dg.ExecuteInProcessResult, partition: str | None) -> None:
    report.run_ids.append(result.run_id)
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        metadata = {name: getattr(value, "value", value) for name, value in materialization.metadata.items()}
        report.materialized.append(
            Materialized(
                materialization.asset_key.to_user_string(), partition, metadata.get("dagster/uri"), _detail(metadata)
            )
        )
    if not result.success:
        for step, message in failure_messages(result):
            report.failures.append(f"{step}{f' [{partition}]' if partition else ''}: {message}")


def run_main_job(
    settings: Settings,
    *,
    instance: dg.DagsterInstance | None = None,
    echo: Callable[[str], None] = print,
    asset_keys: Sequence[dg.AssetKey] | None = None,
) -> MainJobReport:
    """Materialize every asset once: unpartitioned ones in one run, then each partition of the others.

    `asset_keys` limits the run to those assets (`dataspace run --collectors ...`).
    """
    instance = instance or get_instance(settings)
    defs = build_definitions(settings)
    sources = sync_declared_sources(settings, instance)
    echo(f"declared harvest sources synced: {len(sources)}")

    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    report = MainJobReport()
    unpartitioned: list[dg.AssetKey] = []
    by_partitions: dict[dg.PartitionsDefinition, list[dg.AssetKey]] = {}
    wanted = set(asset_keys) if asset_keys is not None else None
    parquet = [level for level in _parquet_levels(settings) if wanted is None or level.key in wanted]
    parquet_keys = {level.key for level in parquet}
    for key in sorted(graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
        if wanted is not None and key not in wanted:
            continue
        if key in parquet_keys:
            continue  # below: their pending windows, once what they are made from is stored
        node = graph.get(key)
        needs_inputs = node.metadata.get("deltatwin/needs_inputs")
        if getattr(needs_inputs, "value", needs_inputs) is True:
            report.skipped.append(key.to_user_string())  # a twin with required inputs: `dataspace twin run` or the UI
            continue
        if node.partitions_def is None:
            unpartitioned.append(key)
        else:
            by_partitions.setdefault(node.partitions_def, []).append(key)

    if unpartitioned:
        echo(f"materializing {len(unpartitioned)} asset(s) ...")
        result = job.execute_in_process(
            instance=instance, asset_selection=unpartitioned, run_config=QUIET_RUN_CONFIG, raise_on_error=False
        )
        _record(report, result, None)
    for partitions_def, keys in by_partitions.items():
        partition_keys = _partition_keys(partitions_def, instance)
        if not partition_keys:
            report.skipped.extend(k.to_user_string() for k in keys)
            continue
        for partition_key in partition_keys:
            echo(f"materializing {', '.join(k.to_user_string() for k in keys)} [{partition_key}] ...")
            result = job.execute_in_process(
                instance=instance,
                asset_selection=keys,
                partition_key=partition_key,
                run_config=QUIET_RUN_CONFIG,
                raise_on_error=False,
            )
            _record(report, result, partition_key)
    _run_parquet_levels(parquet, job, instance, settings, report, echo)
    report.orphan_blobs = count_orphan_blobs(settings)
    return report


def _parquet_levels(settings: Settings) -> list:
    """The parquetize level assets of the deployment, lower levels first."""
    from dataspace_assets.dataspace.config import dataspace_folder, load_config
    from dataspace_assets.dataspace.parquetize import parquet_levels

    config = load_config(dataspace_folder(settings.configs_dir), timezone=settings.timezone, import_classes=False)
    return parquet_levels(config)


def _run_parquet_levels(levels: list, job, instance, settings: Settings, report: MainJobReport, echo) -> None:
    """Each parquetize level over its pending windows, as one ranged run (a level needs the one below it)."""
    if not levels:
        return
    from dataspace_assets.storage.store import DataStore

    store = DataStore.from_settings(settings)
    try:
        for level in levels:
            keys = level.pending(store)
            if not keys:
                report.skipped.append(level.key.to_user_string())
                continue
            span = keys[0] if len(keys) == 1 else f"{keys[0]}...{keys[-1]}"
            echo(f"materializing {level.key.to_user_string()} [{span}] ...")
            result = job.execute_in_process(
                instance=instance,
                asset_selection=[level.key],
                tags={RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]},
                run_config=QUIET_RUN_CONFIG,
                raise_on_error=False,
            )
            _record(report, result, span)
    finally:
        store.close()


def count_orphan_blobs(settings: Settings) -> int:
    """Blobs left by a crash between a blob and its row (the summary mentions them)."""
    from dataspace_assets.dataspace.storage_check import check_storage
    from dataspace_assets.storage.store import DataStore

    try:
        store = DataStore.from_settings(settings)
        try:
            return len(check_storage(store).orphans)
        finally:
            store.close()
    except Exception:  # the summary must not fail on it: `dataspace storage check` reports the cause
        return 0


def format_report(report: MainJobReport, settings: Settings) -> str:
    """The short summary printed after the main job."""
    lines = [f"materialized {len(report.materialized)} asset(s) in {len(report.run_ids)} run(s):"]
    for item in report.materialized:
        where = f"  -> {item.uri}" if item.uri else f"  ({item.detail})" if item.detail else ""
        lines.append(f"  {item.asset}{f' [{item.partition}]' if item.partition else ''}{where}")
    if report.skipped:
        lines.append(f"skipped (no partitions yet): {', '.join(report.skipped)}")
    for failure in report.failures:
        lines.append(f"FAILED {failure}")
    if report.orphan_blobs:
        lines.append(
            f"storage: {report.orphan_blobs} orphan blob(s) left by an interrupted write "
            "(`dataspace storage check --repair` removes them)"
        )
    lines += [
        "",
        "data:",
        f"  dagster instance  {settings.dagster_home}",
        f"  blobs             {settings.blobs_dir if settings.blob_backend == 'local' else 'azure:' + settings.azure_container}",
        f"  database          {redact(settings.database_url)}",
        "",
        "open the UI on the same instance:  .venv/bin/dataspace dev   (http://127.0.0.1:3000)",
    ]
    return "\n".join(lines)
