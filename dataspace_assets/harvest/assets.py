"""The partitioned graph asset `catalog/harvest`: one partition per harvest source, one materialization per job."""

import os

import dagster as dg

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest.catalog import Catalog, HarvestJob
from dataspace_assets.harvest.pools import domain_slot
from dataspace_assets.harvest.sources_config import PARTITIONS_NAME
from dataspace_assets.settings import Settings

HARVEST_ASSET_KEY = dg.AssetKey(["catalog", "harvest"])
HARVEST_JOB_NAME = "catalog_harvest_job"
DOMAIN_TAG = "dataspace/harvest-domain"  # run-level concurrency: one run per remote domain (dagster.yaml)
SOURCE_TAG = "dataspace/harvest-source"
MAX_ITEMS_TAG = "dataspace/harvest-max-items"

# Items per `harvest_process` step. Each step costs Dagster ~10 stored events and a catalogue reopen, and a
# DCAT page is parsed once per process, so a few large steps beat many small ones (the engine still saves
# and recounts every 50 items inside a step, so progress and partial results show as before).
HARVEST_CHUNK_SIZE = 2500
CHUNK_SIZE_ENV = "DATASPACE_HARVEST_CHUNK_SIZE"  # an operator may ask for more, smaller steps (read at run time)

harvest_partitions = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)


def job_metadata(job: HarvestJob, source_slug: str) -> dict[str, dg.MetadataValue]:
    """Materialization metadata of a harvest job: counts by status, errors and how to see the job."""
    by_status = {k: int(v) for k, v in (job.items_by_status or {}).items()}
    metadata: dict[str, dg.MetadataValue] = {
        "job_id": dg.MetadataValue.text(job.id),
        "job_status": dg.MetadataValue.text(job.status),
        "source": dg.MetadataValue.text(source_slug),
        "items_total": dg.MetadataValue.int(int(job.items_total or 0)),
        "items_by_status": dg.MetadataValue.json(by_status),
        "items_by_type": dg.MetadataValue.json({k: int(v) for k, v in (job.items_by_type or {}).items()}),
        "job_errors": dg.MetadataValue.json([e.get("message") for e in job.errors or []]),
        "job_link": dg.MetadataValue.text(f"dataspace harvest job {job.id}"),
        "dagster/row_count": dg.MetadataValue.int(by_status.get("done", 0)),
    }
    for status in ("done", "failed", "skipped", "archived"):
        metadata[f"items_{status}"] = dg.MetadataValue.int(by_status.get(status, 0))
    return metadata


def _chunk_size() -> int:
    value = os.environ.get(CHUNK_SIZE_ENV, "")
    if not value:
        return HARVEST_CHUNK_SIZE
    if not value.isdigit() or int(value) < 1:
        raise dg.Failure(description=f'{CHUNK_SIZE_ENV}: expected a positive whole number, got "{value}"')
    return int(value)


def _step_key(context: dg.OpExecutionContext) -> str:
    return context.get_step_execution_context().step.key


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


def build_harvest_asset(settings: Settings) -> dg.AssetsDefinition:
    """The `catalog/harvest` graph asset: initialize -> process (fan-out over item chunks) -> finalize."""
    from dataspace_assets.harvest import engine

    def open_catalog() -> Catalog:
        return Catalog.from_settings(settings)

    @dg.op(
        name="harvest_initialize",
        out={"job_id": dg.Out(str), "chunks": dg.DynamicOut(dict)},
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
            with domain_slot(context.instance, context.run_id, _step_key(context), source.domain, context.log):
                job_id, chunks = engine.initialize_job(
                    catalog, source, max_items=_max_items(context), run_id=context.run_id, chunk_size=_chunk_size()
                )
            job = catalog.get_job(job_id)
            context.log.info(f"harvest job {job_id} of {source.slug}: {job.items_total if job else 0} item(s) listed")
        finally:
            catalog.close()
        yield dg.Output(job_id, "job_id")
        for index, chunk in enumerate(chunks):
            yield dg.DynamicOutput(
                {"job_id": job_id, "domain": source.domain, "items": chunk},
                output_name="chunks",
                mapping_key=f"chunk_{index}",
            )

    @dg.op(name="harvest_process")
    def harvest_process(context: dg.OpExecutionContext, chunk: dict) -> dict:
        """Map and store one chunk of remote records (each record in isolation)."""
        catalog = open_catalog()
        try:
            with domain_slot(context.instance, context.run_id, _step_key(context), chunk["domain"], context.log):
                counts = engine.process_chunk(catalog, chunk["job_id"], chunk["items"])
        finally:
            catalog.close()
        context.log.info(f"chunk of {len(chunk['items'])} item(s): {counts}")
        return counts

    @dg.op(name="harvest_finalize", out=dg.Out(dg.Nothing))
    def harvest_finalize(context: dg.OpExecutionContext, job_id: str, chunk_counts: list[dict]):
        """Link the dataservices, archive what disappeared from the remote, and close the job."""
        catalog = open_catalog()
        try:
            job = engine.finalize_job(catalog, job_id)
            source = catalog.get_source(job.source_id, include_deleted=True)
        finally:
            catalog.close()
        metadata = job_metadata(job, source.slug if source else job.source_id)
        if job.status == "failed":
            messages = "; ".join(e.get("message", "") for e in job.errors) or "failed"
            raise dg.Failure(description=f"harvest job {job.id} failed: {messages}", metadata=metadata)
        yield dg.Output(None, metadata=metadata)

    @dg.graph_asset(
        key=HARVEST_ASSET_KEY,
        partitions_def=harvest_partitions,
        group_name="catalog",
        kinds={"python"},
        description="Harvest one source (a partition) into the catalogue: one materialization per harvest job.",
    )
    def catalog_harvest():
        job_id, chunks = harvest_initialize()
        counts = chunks.map(harvest_process)
        return harvest_finalize(job_id, counts.collect())

    return catalog_harvest


def build_harvest_job():
    """The job that materializes one partition of `catalog/harvest` (what the sensor and the CLI launch)."""
    # In-process: the parsed remote catalogue stays in the run's memory for every step, where subprocesses
    # would each import Dagster and fetch and parse the remote again; the mapping is CPU-bound, so
    # fanning steps out over processes buys nothing for a harvest.
    return dg.define_asset_job(
        HARVEST_JOB_NAME, selection=dg.AssetSelection.assets(HARVEST_ASSET_KEY), executor_def=dg.in_process_executor
    )


def run_tags(source_id: str, slug: str, domain: str, max_items: int | None = None) -> dict[str, str]:
    """Tags of a harvest run: its partition, its source and the remote domain (for concurrency limits)."""
    tags = {"dagster/partition": source_id, SOURCE_TAG: slug, DOMAIN_TAG: domain}
    if max_items is not None:
        tags[MAX_ITEMS_TAG] = str(max_items)
    return tags
