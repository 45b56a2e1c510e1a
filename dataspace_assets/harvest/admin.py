"""The harvest admin in the Dagster UI: the `catalog/sources` table, job metadata and the job checks."""

from __future__ import annotations

import dagster as dg

from dataspace_assets.harvest.catalog import Catalog, HarvestJob, HarvestSource

SOURCES_ASSET_KEY = dg.AssetKey(["catalog", "sources"])
HARVEST_ASSET_KEY = dg.AssetKey(["catalog", "harvest"])  # the harvest asset (harvest/assets.py), one partition per source
PROBLEMS_CAP = 50  # failed and skipped items shown per materialization (the CLI shows them all)
CHECK_JOB_STATUS = "harvest_job_status"
CHECK_FAILED_ITEMS = "harvest_failed_items"

SOURCE_COLUMNS = [
    dg.TableColumn("name", "string"),
    dg.TableColumn("slug", "string", description="the partition key of catalog/harvest"),
    dg.TableColumn("backend", "string"),
    dg.TableColumn("url", "string"),
    dg.TableColumn("validation", "string", description="pending, accepted or refused (with the comment)"),
    dg.TableColumn("schedule", "string"),
    dg.TableColumn("last_job", "string", description="status of the latest job"),
    dg.TableColumn("last_job_date", "string"),
    dg.TableColumn("last_job_id", "string", description="`dataspace harvest job <id>` (a latest job is never purged)"),
    dg.TableColumn("done", "int"),
    dg.TableColumn("failed", "int"),
    dg.TableColumn("skipped", "int"),
    dg.TableColumn("total", "int"),
]


def sources_spec() -> dg.AssetSpec:
    """`catalog/sources`: observed by the harvest sensor and after each harvest job."""
    return dg.AssetSpec(
        SOURCES_ASSET_KEY,
        group_name="catalog",
        kinds={"python"},
        description="Every harvest source (pending, accepted, refused, inactive) with its latest job: the admin list.",
    )


def _source_row(source: HarvestSource, job: HarvestJob | None) -> dg.TableRecord:
    state = source.validation_state + ("" if source.active else ", inactive")
    if source.validation_comment:
        state += f" ({source.validation_comment})"
    counts = {k: int(v) for k, v in ((job.items_by_status or {}) if job else {}).items()}
    return dg.TableRecord(
        {
            "name": source.name,
            "slug": source.slug,
            "backend": source.backend,
            "url": source.url,
            "validation": state,
            "schedule": source.schedule or "not scheduled",
            "last_job": job.status if job else "never run",
            "last_job_date": job.created.strftime("%Y-%m-%d %H:%M:%S UTC") if job else "",
            "last_job_id": job.id if job else "",
            "done": counts.get("done", 0),
            "failed": counts.get("failed", 0),
            "skipped": counts.get("skipped", 0),
            "total": int(job.items_total or 0) if job else 0,
        }
    )


def sources_metadata(catalog: Catalog) -> dict[str, dg.MetadataValue]:
    """The table of every live source with its latest job, and how many sources are in each state."""
    sources = catalog.list_sources()
    rows = []
    by_state: dict[str, int] = {}
    for source in sources:
        jobs = catalog.list_jobs(source.id, limit=1)
        rows.append(_source_row(source, jobs[0] if jobs else None))
        by_state[source.validation_state] = by_state.get(source.validation_state, 0) + 1
    return {
        "sources": dg.MetadataValue.table(rows, schema=dg.TableSchema(columns=SOURCE_COLUMNS)),
        "sources_total": dg.MetadataValue.int(len(sources)),
        **{f"sources_{state}": dg.MetadataValue.int(by_state.get(state, 0)) for state in ("pending", "accepted", "refused")},
    }


def sources_observation(catalog: Catalog) -> dg.AssetObservation:
    """An observation of `catalog/sources` as the catalogue holds them now."""
    return dg.AssetObservation(asset_key=SOURCES_ASSET_KEY, metadata=sources_metadata(catalog))


def report_sources(catalog: Catalog, instance: dg.DagsterInstance) -> None:
    """Record `catalog/sources` as it is now (after a delete or a purge the UI must not list what is gone)."""
    instance.report_runless_asset_event(sources_observation(catalog))


def job_in_event_log(instance: dg.DagsterInstance, job_id: str) -> dg.EventLogRecord | None:
    """The `catalog/harvest` materialization that recorded this job, newest first, or None (never recorded)."""
    cursor = None
    while True:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=HARVEST_ASSET_KEY), limit=500, cursor=cursor, ascending=False
        )
        for record in result.records:
            value = record.asset_materialization.metadata.get("job_id") if record.asset_materialization else None
            if getattr(value, "value", value) == job_id:
                return record
        if not result.has_more:
            return None
        cursor = result.cursor


def problems_table(catalog: Catalog, job_id: str, cap: int = PROBLEMS_CAP) -> dg.MetadataValue:
    """The job's failed and skipped items with their messages, at most `cap` rows."""
    rows = []
    for status in ("failed", "skipped"):
        for item in catalog.get_items(job_id, status=status):
            if len(rows) >= cap:
                break
            message = "; ".join(e.get("message") or "" for e in item.errors or [])
            rows.append(dg.TableRecord({"status": status, "kind": item.kind, "remote_id": item.remote_id or "", "message": message}))
    columns = [dg.TableColumn(n, "string") for n in ("status", "kind", "remote_id", "message")]
    return dg.MetadataValue.table(rows, schema=dg.TableSchema(columns=columns))


def job_metadata(catalog: Catalog, job: HarvestJob, source: HarvestSource | None) -> dict[str, dg.MetadataValue]:
    """Materialization metadata of a harvest job: each count once, the source URL, failed and skipped items."""
    by_status = {k: int(v) for k, v in (job.items_by_status or {}).items()}
    metadata: dict[str, dg.MetadataValue] = {
        "job_id": dg.MetadataValue.text(job.id),
        "job_status": dg.MetadataValue.text(job.status),
        "source": dg.MetadataValue.text(source.slug if source else job.source_id),
        "items_total": dg.MetadataValue.int(int(job.items_total or 0)),
    }
    for status in ("done", "failed", "skipped", "archived"):
        metadata[f"items_{status}"] = dg.MetadataValue.int(by_status.get(status, 0))
    metadata["items_by_type"] = dg.MetadataValue.json({k: int(v) for k, v in (job.items_by_type or {}).items()})
    metadata["job_errors"] = dg.MetadataValue.json([e.get("message") for e in job.errors or []])
    metadata["failed_and_skipped_items"] = problems_table(catalog, job.id)
    metadata["job_link"] = dg.MetadataValue.text(f"dataspace harvest job {job.id}")
    if source is not None and source.url.startswith(("http://", "https://")):
        metadata["source_url"] = dg.MetadataValue.url(source.url)
    elif source is not None:
        metadata["source_url"] = dg.MetadataValue.path(source.url)
    return metadata


def check_specs(asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The checks every harvest materialization reports."""
    return [
        dg.AssetCheckSpec(CHECK_JOB_STATUS, asset=asset_key, description="the harvest job did not fail"),
        dg.AssetCheckSpec(CHECK_FAILED_ITEMS, asset=asset_key, description="no item of the harvest job failed"),
    ]


def job_checks(job: HarvestJob, asset_key: dg.AssetKey, partition: str | None = None) -> list[dg.AssetCheckEvaluation]:
    """The check evaluations of a finished job: its status (error when failed) and its failed items (warning)."""
    failed_items = int((job.items_by_status or {}).get("failed", 0))
    messages = [e.get("message") or "" for e in job.errors or []]
    return [
        dg.AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=CHECK_JOB_STATUS,
            passed=job.status != "failed",
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"job_id": job.id, "job_status": job.status, "job_errors": messages},
            partition=partition,
        ),
        dg.AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=CHECK_FAILED_ITEMS,
            passed=failed_items == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"job_id": job.id, "items_failed": failed_items},
            partition=partition,
        ),
    ]


def as_results(evaluations: list[dg.AssetCheckEvaluation]) -> list[dg.AssetCheckResult]:
    """The same evaluations as results a step yields."""
    return [
        dg.AssetCheckResult(
            asset_key=e.asset_key, check_name=e.check_name, passed=e.passed, severity=e.severity, metadata=e.metadata
        )
        for e in evaluations
    ]
