"""The partitioned graph asset `catalog/harvest`: one partition per harvest source, one materialization per job."""

import os
import sys

import dagster as dg

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest import admin
from dataspace_assets.harvest.catalog import Catalog, HarvestJob, HarvestSource
from dataspace_assets.harvest.reaper import reap, tag_run_worker
from dataspace_assets.harvest.sources_config import PARTITIONS_NAME
from dataspace_assets.settings import Settings

HARVEST_ASSET_KEY = admin.HARVEST_ASSET_KEY
HARVEST_JOB_NAME = "catalog_harvest_job"
DOMAIN_TAG = "dataspace/harvest-domain"  # run-level concurrency: one run per remote domain (dagster.yaml)
SOURCE_TAG = "dataspace/harvest-source"  # run-level concurrency: one run per source (dagster.yaml)
MAX_ITEMS_TAG = "dataspace/harvest-max-items"
# Steps that query a remote portal: `dagster instance concurrency set harvest N` bounds them instance-wide.
HARVEST_POOL = "harvest"
# A failed harvest is recorded as a failed job and harvested again at the next tick: a run retry
# (deploy/dagster.yaml retries failed runs) would only start a second job for the same tick.
NO_RETRIES = {"dagster/max_retries": "0"}

# Items per `harvest_process` step when steps run in separate processes (Celery workers, the UI's
# "Materialize" with the multiprocess executor). Each step costs Dagster ~10 stored events and a DCAT page is
# parsed once per process, so a few large steps beat many small ones (the engine still saves and recounts
# every few hundred items inside a step, so progress and partial results show as before). The harvest job
# itself runs in-process, where a fan-out buys nothing: there every item is one chunk, processed by the
# initialize step, unless DATASPACE_HARVEST_CHUNK_SIZE asks for steps.
HARVEST_CHUNK_SIZE = 2500
CHUNK_SIZE_ENV = "DATASPACE_HARVEST_CHUNK_SIZE"  # an operator may ask for more, smaller steps (read at run time)
ONE_CHUNK = sys.maxsize

harvest_partitions = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)


# The harvest job's executor, and the one `execute_in_process` puts in its place (the `dataspace` commands).
IN_PROCESS_EXECUTORS = {dg.in_process_executor.name, "execute_in_process_executor"}


def _in_process(context: dg.OpExecutionContext) -> bool:
    """Whether every step of this run runs in this process."""
    return context.job_def.executor_def.name in IN_PROCESS_EXECUTORS


def _chunk_size(context: dg.OpExecutionContext) -> int:
    value = os.environ.get(CHUNK_SIZE_ENV, "")
    if not value:
        return ONE_CHUNK if _in_process(context) else HARVEST_CHUNK_SIZE
    if not value.isdigit() or int(value) < 1:
        raise dg.Failure(description=f'{CHUNK_SIZE_ENV}: expected a positive whole number, got "{value}"')
    return int(value)


def _max_items(context: dg.OpExecutionContext) -> int | None:
    value = context.run.tags.get(MAX_ITEMS_TAG)
    if not value:
        return None
    try:
        max_items = int(value)
    except ValueError:
        max_items = 0
    if max_items < 1:
        raise dg.Failure(description=f'run tag {MAX_ITEMS_TAG}: expected a positive whole number, got "{value}"')
    return max_items


def busy_message(source: HarvestSource, holder: dict) -> str:
    """Why a run of a source does nothing: another run holds the source."""
    since = holder["claimed_at"].strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f'harvest source "{source.slug}" is already being harvested by Dagster run {holder["run_id"]} '
        f"(since {since}); this run harvested nothing: wait for that run to end"
    )


def _observe_sources(context: dg.OpExecutionContext, catalog: Catalog) -> None:
    """Refresh `catalog/sources` in the UI (its last-job columns changed)."""
    context.instance.report_runless_asset_event(admin.sources_observation(catalog))


def build_harvest_asset(settings: Settings) -> dg.AssetsDefinition:
    """The `catalog/harvest` graph asset: initialize -> process (fan-out over item chunks) -> finalize."""
    from dataspace_assets.harvest import engine

    def open_catalog(*, migrate: bool = True) -> Catalog:
        # The run's first step upgrades the schema and seeds the licences; the later steps need not again.
        return Catalog.open(settings.database_url, migrate=migrate)

    def fail_listing(context: dg.OpExecutionContext, catalog: Catalog, source: HarvestSource, job_id: str) -> None:
        """The listing failed: finish the items found so far and fail this step (the one that failed)."""
        job = engine.finalize_job(catalog, job_id)
        metadata = admin.job_metadata(catalog, job, source)
        for evaluation in admin.job_checks(job, HARVEST_ASSET_KEY):
            context.instance.report_runless_asset_event(evaluation)
        _observe_sources(context, catalog)
        messages = "; ".join(e.get("message", "") for e in job.errors) or "failed"
        raise dg.Failure(description=f"harvest job {job.id} failed while listing: {messages}", metadata=metadata)

    @dg.op(
        name="harvest_initialize",
        out={"job_id": dg.Out(str), "chunks": dg.DynamicOut(dict)},
        pool=HARVEST_POOL,
    )
    def harvest_initialize(context: dg.OpExecutionContext):
        """List the source's remote catalogue and create its harvest job."""
        catalog = open_catalog()
        try:
            source = catalog.get_source(context.partition_key)
            if source is None:
                raise dg.Failure(f'harvest source "{context.partition_key}" not found (deleted or purged)')
            try:
                engine.ensure_runnable(source)
            except DataspaceError as exc:  # shown as the step's failure message in the UI
                raise dg.Failure(description=str(exc)) from None
            tag_run_worker(context.instance, context.run_id)  # so that the reaper can tell if it dies
            reaped = reap(catalog, context.instance, source.id)
            for job_id in reaped.jobs:
                context.log.warning(f"closed harvest job {job_id} of {source.slug}: its run had died")
            holder = catalog.claim_source(source.id, context.run_id)
            if holder is not None:
                raise dg.Failure(description=busy_message(source, holder))
            try:
                job_id, chunks = engine.initialize_job(
                    catalog, source, max_items=_max_items(context), run_id=context.run_id, chunk_size=_chunk_size(context)
                )
                catalog.set_lock_job(source.id, context.run_id, job_id)
                job = catalog.get_job(job_id)
                if job is not None and (job.data or {}).get("failed"):
                    fail_listing(context, catalog, source, job_id)
            except BaseException:
                catalog.release_source(source.id, context.run_id)
                raise
            listed = {"items_listed": job.items_total if job else 0}
            if len(chunks) == 1:
                # One chunk: processed in this step, so a small harvest costs Dagster no step of its own
                # (its start, input, output and success events); larger ones still fan out.
                counts = engine.process_chunk(catalog, job_id, chunks[0])
                listed.update({f"items_{status}": count for status, count in counts.items()})
                chunks = []
        finally:
            catalog.close()
        # Counts as output metadata, not log lines: each log line is one more stored Dagster event.
        yield dg.Output(job_id, "job_id", metadata=listed)
        for index, chunk in enumerate(chunks):
            yield dg.DynamicOutput(
                {"job_id": job_id, "domain": source.domain, "items": chunk},
                output_name="chunks",
                mapping_key=f"chunk_{index}",
            )

    @dg.op(name="harvest_process", pool=HARVEST_POOL)
    def harvest_process(chunk: dict) -> dg.Output[dict]:
        """Map and store one chunk of remote records (each record in isolation)."""
        catalog = open_catalog(migrate=False)
        try:
            counts = engine.process_chunk(catalog, chunk["job_id"], chunk["items"])
        finally:
            catalog.close()
        return dg.Output(counts, metadata={"items": len(chunk["items"]), **{f"items_{k}": v for k, v in counts.items()}})

    @dg.op(
        name="harvest_finalize",
        out={
            "harvest": dg.Out(dg.Nothing),
            admin.CHECK_JOB_STATUS: dg.Out(dg.Nothing, is_required=False),
            admin.CHECK_FAILED_ITEMS: dg.Out(dg.Nothing, is_required=False),
        },
    )
    def harvest_finalize(context: dg.OpExecutionContext, job_id: str, chunk_counts: list[dict]):
        """Link the dataservices, archive what disappeared from the remote, and close the job."""
        catalog = open_catalog(migrate=False)
        try:
            job: HarvestJob | None = None
            try:
                job = engine.finalize_job(catalog, job_id)
            finally:
                finished = job or catalog.get_job(job_id)
                if finished is not None:
                    catalog.release_source(finished.source_id, context.run_id)
            source = catalog.get_source(job.source_id, include_deleted=True)
            metadata = admin.job_metadata(catalog, job, source)
            _observe_sources(context, catalog)
        finally:
            catalog.close()
        checks = admin.as_results(admin.job_checks(job, HARVEST_ASSET_KEY))
        if job.status == "failed":
            yield from checks
            messages = "; ".join(e.get("message", "") for e in job.errors) or "failed"
            raise dg.Failure(description=f"harvest job {job.id} failed: {messages}", metadata=metadata)
        yield dg.Output(None, "harvest", metadata=metadata)
        yield from checks

    @dg.graph_multi_asset(
        name="catalog__harvest",
        outs={
            "harvest": dg.AssetOut(
                key=HARVEST_ASSET_KEY,
                group_name="catalog",
                kinds={"python"},
                description="Harvest one source (a partition) into the catalogue: one materialization per harvest job.",
            )
        },
        partitions_def=harvest_partitions,
        check_specs=admin.check_specs(HARVEST_ASSET_KEY),
    )
    def catalog_harvest():
        job_id, chunks = harvest_initialize()
        counts = chunks.map(harvest_process)
        harvest, status_check, items_check = harvest_finalize(job_id, counts.collect())
        return {
            "harvest": harvest,
            f"catalog__harvest_{admin.CHECK_JOB_STATUS}": status_check,
            f"catalog__harvest_{admin.CHECK_FAILED_ITEMS}": items_check,
        }

    return catalog_harvest


def build_harvest_job():
    """The job that materializes one partition of `catalog/harvest` (what the sensor and the CLI launch)."""
    # In-process: the parsed remote catalogue stays in the run's memory for every step, where subprocesses
    # would each import Dagster and fetch and parse the remote again; the mapping is CPU-bound, so
    # fanning steps out over processes buys nothing for a harvest.
    return dg.define_asset_job(
        HARVEST_JOB_NAME,
        selection=dg.AssetSelection.assets(HARVEST_ASSET_KEY),
        executor_def=dg.in_process_executor,
        tags=NO_RETRIES,
    )


def run_tags(slug: str, domain: str, max_items: int | None = None) -> dict[str, str]:
    """Tags of a harvest run: its partition (the source slug), its source and remote domain (concurrency limits)."""
    tags = {"dagster/partition": slug, SOURCE_TAG: slug, DOMAIN_TAG: domain, **NO_RETRIES}
    if max_items is not None:
        tags[MAX_ITEMS_TAG] = str(max_items)
    return tags
