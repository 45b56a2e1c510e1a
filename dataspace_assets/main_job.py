"""The main job: materialize every asset defined by `configs/` once, into the persistent instance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from dataspace_assets.definitions import build_definitions
from dataspace_assets.harvest import sync_declared_sources
from dataspace_assets.instance import get_instance
from dataspace_assets.runs import QUIET_RUN_CONFIG, failure_messages
from dataspace_assets.settings import Settings


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
) -> MainJobReport:
    """Materialize every asset once: unpartitioned ones in one run, then each partition of the others."""
    instance = instance or get_instance(settings)
    defs = build_definitions(settings)
    sources = sync_declared_sources(settings, instance)
    echo(f"declared harvest sources synced: {len(sources)}")

    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    report = MainJobReport()
    unpartitioned: list[dg.AssetKey] = []
    by_partitions: dict[dg.PartitionsDefinition, list[dg.AssetKey]] = {}
    for key in sorted(graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
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
    return report


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
    lines += [
        "",
        "data:",
        f"  dagster instance  {settings.dagster_home}",
        f"  blobs             {settings.blobs_dir if settings.blob_backend == 'local' else 'azure:' + settings.azure_container}",
        f"  database          {settings.database_url}",
        "",
        "open the UI on the same instance:  .venv/bin/dataspace dev   (http://127.0.0.1:3000)",
    ]
    return "\n".join(lines)
