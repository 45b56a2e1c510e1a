"""The main job: materialize every asset defined by `configs/` once, into the persistent instance."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import dagster as dg

from dataspace_assets.definitions import build_definitions
from dataspace_assets.harvest import harvest_progress, harvest_run_tags, sync_declared_sources
from dataspace_assets.instance import get_instance
from dataspace_assets.errors import DataspaceError
from dataspace_assets.runs import LAUNCHED_BY_TAG, QUIET_RUN_CONFIG, failure_messages, full_limits, process_tags
from dataspace_assets.settings import Settings, load_settings, redact

MAIN_JOB_NAME = "dataspace_main_job"
PROGRESS_SECONDS = 5.0  # between progress lines of a harvest partition
# A harvest run of `dataspace run` runs in this process, outside the run queue: it first waits (this long at
# most) until the queue's tag limits (one run per remote domain, per source) leave it a slot.
SLOT_WAIT_ENV = "DATASPACE_RUN_SLOT_WAIT"
SLOT_WAIT_SECONDS = 3600.0
SLOT_POLL_SECONDS = 1.0
MAIN_JOB_TAGS = {LAUNCHED_BY_TAG: "dataspace run"}
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
    if "job_status" not in metadata:
        return None
    statuses = ("archived", "done", "failed", "skipped")
    counts = ", ".join(f"{metadata[f'items_{s}']} {s}" for s in statuses if metadata.get(f"items_{s}"))
    return f"source {metadata.get('source')}: job {metadata.get('job_status')}, items {counts or 'none'}"


def main_job(
    defs: dg.Definitions, keys: Sequence[dg.AssetKey], executor_def: dg.ExecutorDefinition | None = None
) -> dg.JobDefinition:
    """The named job of `dataspace run` over `keys`, tagged as launched by it.

    One job per run: Dagster refuses a job over assets of different partitions definitions, and the
    location has several (harvest sources, hourly windows, Parquet levels).
    """
    job = dg.define_asset_job(
        MAIN_JOB_NAME, selection=dg.AssetSelection.assets(*keys), tags=MAIN_JOB_TAGS, executor_def=executor_def
    )
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(MAIN_JOB_NAME)


def main_job_for_workers(keys: list[str]) -> dg.JobDefinition:
    """The main job over `keys` rebuilt from the environment, with DATASPACE_EXECUTOR's executor (Celery workers)."""
    from dataspace_assets.executors import select_executor

    settings = load_settings()
    return main_job(build_definitions(settings), [dg.AssetKey.from_user_string(k) for k in keys], select_executor(settings))


def _execute(
    settings: Settings,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: list[dg.AssetKey],
    partition_key: str | None,
    tags: dict[str, str],
) -> dg.ExecuteInProcessResult:
    """One run of the main job: in this process, or its steps on Celery workers (DATASPACE_EXECUTOR=celery)."""
    tags = {**MAIN_JOB_TAGS, **process_tags(), **tags}
    if settings.executor == "celery":
        if partition_key is not None:
            tags["dagster/partition"] = partition_key
        job = dg.build_reconstructable_job(
            "dataspace_assets.main_job", "main_job_for_workers",
            reconstructable_args=([k.to_user_string() for k in keys],),
        )
        with dg.execute_job(job, instance=instance, tags=tags, run_config=QUIET_RUN_CONFIG) as result:
            return result  # events stay readable after the context closes
    return main_job(defs, keys).execute_in_process(
        instance=instance, partition_key=partition_key, tags=tags,
        run_config=QUIET_RUN_CONFIG, raise_on_error=False,
    )


def _record(report: MainJobReport, result: dg.ExecuteInProcessResult, partition: str | None) -> None:
    report.run_ids.append(result.run_id)
    seen: set[str] = set()
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        asset = materialization.asset_key.to_user_string()
        if asset in seen:
            continue  # a ranged run (Parquet windows) materializes one asset once per window: one line for it
        seen.add(asset)
        metadata = {name: getattr(value, "value", value) for name, value in materialization.metadata.items()}
        report.materialized.append(Materialized(asset, partition, metadata.get("dagster/uri"), _detail(metadata)))
    if not result.success:
        for step, message in failure_messages(result):
            report.failures.append(f"{step}{f' [{partition}]' if partition else ''}: {message}")


def slot_wait_seconds() -> float:
    """How long a harvest run of `dataspace run` waits for a slot ($DATASPACE_RUN_SLOT_WAIT seconds)."""
    value = os.environ.get(SLOT_WAIT_ENV, "").strip()
    if not value:
        return SLOT_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds < 0:
        raise DataspaceError(f'{SLOT_WAIT_ENV}: expected a number of seconds (0 or more), got "{value}"')
    return seconds


def wait_for_run_slot(
    instance: dg.DagsterInstance, tags: dict[str, str], label: str, echo: Callable[[str], None], timeout: float
) -> str | None:
    """Wait while runs in progress fill a tag limit of the run queue that a run of `tags` falls under.

    None once the run may start; else why it may not (the wait ran out). A run executed in this process
    never goes through the queue, so this is what keeps it within the per-domain limit of dagster.yaml.
    """
    deadline = time.monotonic() + timeout
    last_line: float | None = None
    while True:
        full = full_limits(instance, tags)
        if not full:
            return None
        reason = "; ".join(
            f"{tag} has {len(ids)} run(s) in progress (limit {limit}): {', '.join(ids)}" for tag, limit, ids in full
        )
        now = time.monotonic()
        if now >= deadline:
            return f"not started, no run slot after {timeout:g} s ({SLOT_WAIT_ENV}): {reason}"
        if last_line is None or now - last_line >= PROGRESS_SECONDS:
            echo(f"  {label}: waiting for a run slot: {reason}")
            last_line = now
        time.sleep(max(0.05, min(SLOT_POLL_SECONDS, deadline - now)))


@contextmanager
def _progress_lines(settings: Settings, harvest_partition: str | None, echo: Callable[[str], None]) -> Iterator[None]:
    """While a harvest partition runs, echo its item count every few seconds (a log or a pipe shows it moves)."""
    if harvest_partition is None:
        yield
        return
    stop = threading.Event()

    def follow() -> None:
        last = None
        while not stop.wait(PROGRESS_SECONDS or 0.2):
            line = harvest_progress(settings, harvest_partition)
            if line and line != last:
                echo(f"  {harvest_partition}: {line}")
                last = line

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_main_job(
    settings: Settings,
    *,
    instance: dg.DagsterInstance | None = None,
    echo: Callable[[str], None] = print,
    asset_keys: Sequence[dg.AssetKey] | None = None,
) -> MainJobReport:
    """Materialize every asset once (or only `asset_keys`): unpartitioned ones in one run, then each partition of the others."""
    instance = instance or get_instance(settings)
    slot_wait = slot_wait_seconds()
    defs = build_definitions(settings)
    sources = sync_declared_sources(settings, instance)
    echo(f"declared harvest sources synced: {len(sources)}")

    graph = defs.resolve_asset_graph()
    wanted = set(asset_keys) if asset_keys is not None else None
    report = MainJobReport()
    unpartitioned: list[dg.AssetKey] = []
    by_partitions: dict[dg.PartitionsDefinition, list[dg.AssetKey]] = {}
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

    # An unpartitioned asset made from partitioned ones (the published catalogue) runs last, on what they stored.
    later = {key for key in unpartitioned if _ancestors(graph, key) & (parquet_keys | _keys_of(by_partitions))}
    first = [key for key in unpartitioned if key not in later]
    if first:
        echo(f"materializing {len(first)} asset(s) ...")
        _record(report, _execute(settings, defs, instance, first, None, {}), None)
    for partitions_def, keys in by_partitions.items():
        partition_keys = _partition_keys(partitions_def, instance)
        if not partition_keys:
            report.skipped.extend(k.to_user_string() for k in keys)
            continue
        for partition_key in partition_keys:
            echo(f"materializing {', '.join(k.to_user_string() for k in keys)} [{partition_key}] ...")
            # A harvest run carries the tags of every harvest run (source, domain), so the UI filters it alike.
            tags = harvest_run_tags(settings, partitions_def, partition_key)
            refused = wait_for_run_slot(instance, tags, partition_key, echo, slot_wait) if tags else None
            if refused is not None:
                report.failures.append(f"{', '.join(k.to_user_string() for k in keys)} [{partition_key}]: {refused}")
                continue
            with _progress_lines(settings, partition_key if tags else None, echo):
                result = _execute(settings, defs, instance, keys, partition_key, tags)
            _record(report, result, partition_key)
    _run_parquet_levels(parquet, defs, instance, settings, report, echo)
    if later:
        echo(f"materializing {', '.join(sorted(k.to_user_string() for k in later))} ...")
        _record(report, _execute(settings, defs, instance, sorted(later, key=lambda k: k.to_user_string()), None, {}), None)
    report.orphan_blobs = count_orphan_blobs(settings)
    return report


def _keys_of(by_partitions: dict[dg.PartitionsDefinition, list[dg.AssetKey]]) -> set[dg.AssetKey]:
    return {key for keys in by_partitions.values() for key in keys}


def _ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    """Every asset `key` is made from, directly or not."""
    seen: set[dg.AssetKey] = set()
    todo = list(graph.get(key).parent_keys)
    while todo:
        parent = todo.pop()
        if parent not in seen:
            seen.add(parent)
            if graph.has(parent):
                todo.extend(graph.get(parent).parent_keys)
    return seen


def _parquet_levels(settings: Settings) -> list:
    """The parquetize level assets of the deployment, lower levels first."""
    from dataspace_assets.dataspace.config import dataspace_folder, load_config
    from dataspace_assets.dataspace.parquetize import parquet_levels

    config = load_config(dataspace_folder(settings.configs_dir), timezone=settings.timezone, import_classes=False)
    return parquet_levels(config)


def _run_parquet_levels(
    levels: list, defs: dg.Definitions, instance, settings: Settings, report: MainJobReport, echo
) -> None:
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
            result = _execute(settings, defs, instance, [level.key], None, {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]})
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
