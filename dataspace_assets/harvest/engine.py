"""Harvest jobs: initialize (list the remote) -> process (map and store each item) -> finalize (archive, status)."""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlparse

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest.backends import get_backend
from dataspace_assets.harvest.backends.base import (
    BaseBackend,
    HarvestException,
    HarvestSkipException,
    HarvestValidationError,
    ItemRef,
)
from dataspace_assets.harvest.catalog import Catalog, HarvestItem, HarvestJob, HarvestSource, utcnow
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord

log = logging.getLogger("dataspace_assets.harvest")

AUTOARCHIVE_GRACE_DAYS = 7
PREVIEW_MAX_ITEMS = 20
CHUNK_SIZE = 50

Progress = Callable[[int, int], None]  # (items just processed, items total when known else 0)


@dataclass
class JobReport:
    """What a job did: the job row, its items, and (for previews) the records it produced."""

    job: HarvestJob
    items: list[HarvestItem]
    datasets: dict[str, DatasetRecord] = field(default_factory=dict)
    dataservices: dict[str, DataserviceRecord] = field(default_factory=dict)


def is_uri(value: str | None) -> bool:
    """Whether a remote id is a URI (it then identifies a dataset across sources)."""
    if not value or any(c.isspace() for c in value):
        return False
    parsed = urlparse(value)
    return bool(parsed.scheme and (parsed.netloc or parsed.scheme == "urn"))


def ensure_runnable(source: HarvestSource) -> None:
    """Refuse to run a deleted or not yet accepted source, with a message saying what to do."""
    if source.deleted is not None:
        raise DataspaceError(f'harvest source "{source.slug}" ({source.id}) is deleted')
    if source.validation_state != "accepted":
        raise DataspaceError(
            f'harvest source "{source.slug}" is not accepted (validation: {source.validation_state}); '
            f"an administrator must run `dataspace harvest validate {source.slug}` first"
        )


def build_backend(
    catalog: Catalog,
    source: HarvestSource,
    *,
    job_data: dict | None = None,
    max_items: int | None = None,
    dry_run: bool = False,
) -> BaseBackend:
    """Instantiate the source's backend with the catalogue's licence registry."""
    backend_cls = get_backend(source.backend)
    try:
        licenses = catalog.license_registry()
    except ImportError:  # licence module absent: the backend falls back to its own default
        licenses = None
    return backend_cls(source.info(), job_data=job_data, max_items=max_items, dry_run=dry_run, licenses=licenses)


class _ItemLogs(logging.Handler):
    """Collects what is logged while one item is processed, to keep it on the item."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({"level": record.levelname.lower(), "message": record.getMessage()})


@contextmanager
def _capture_logs() -> Iterator[_ItemLogs]:
    handler = _ItemLogs()
    logger = logging.getLogger("dataspace_assets.harvest")
    previous = logger.level
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _error(message: str, details: str | None = None) -> dict:
    return {"message": message, "details": details, "created_at": utcnow().isoformat()}


def _flush_job_errors(catalog: Catalog, job_id: str, backend: BaseBackend) -> None:
    for message, details in backend.job_errors:
        catalog.add_job_error(job_id, message, details)
    backend.job_errors.clear()


# ---------------------------------------------------------------- initialize
def initialize_job(
    catalog: Catalog,
    source: HarvestSource,
    *,
    max_items: int | None = None,
    dry_run: bool = False,
    run_id: str | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> tuple[str, list[list[int]]]:
    """List the remote: create the job and its items; return the job id and the dataset items in chunks."""
    job = catalog.create_job(source.id, status="initializing", max_items=max_items)
    if run_id:
        catalog.update_job(job.id, dagster_run_id=run_id)
    failed = False
    backend: BaseBackend | None = None
    try:
        backend = build_backend(catalog, source, max_items=max_items, dry_run=dry_run)
        backend.initialize()
    except Exception as exc:  # listing failed: the job fails, the items found so far are still processed
        failed = True
        details = None if isinstance(exc, (HarvestException, DataspaceError)) else traceback.format_exc()
        catalog.add_job_error(job.id, str(exc) or type(exc).__name__, details)
        log.warning("harvest of %s failed while listing: %s", source.slug, exc)
    refs = list(backend.items) if backend is not None else []
    if max_items is not None:
        refs = refs[:max_items]
    catalog.add_items(job.id, _triage(refs))
    if backend is not None:
        _flush_job_errors(catalog, job.id, backend)
    job_data = backend.job_data if backend is not None else {}
    try:
        json.dumps(job_data)
    except (TypeError, ValueError) as exc:  # a backend bug: later phases could not rebuild it
        failed = True
        catalog.add_job_error(job.id, f"the {source.backend} backend left job data that is not JSON: {exc}")
        job_data = {}
    catalog.update_job(
        job.id, status="initialized", data={"backend": job_data, "failed": failed, "dry_run": dry_run}
    )
    catalog.recount_job(job.id)
    pending = [i.id for i in catalog.get_items(job.id, status="pending", kind="dataset")]
    chunks = [pending[i : i + chunk_size] for i in range(0, len(pending), chunk_size)]
    return job.id, chunks


def _triage(refs: list[ItemRef]) -> list[dict]:
    """Items as rows; those without an identifier are skipped and repeated identifiers fail, up front."""
    seen: set[str] = set()
    rows = []
    for ref in refs:
        row = {"remote_id": ref.remote_id or None, "kind": ref.kind, "kwargs": ref.kwargs}
        if not ref.remote_id:
            row.update(status="skipped", errors=[_error("missing identifier")], started=utcnow(), ended=utcnow())
        elif ref.remote_id in seen:
            row.update(
                status="failed",
                errors=[_error(f"Identifier '{ref.remote_id}' already exists")],
                started=utcnow(),
                ended=utcnow(),
            )
        else:
            seen.add(ref.remote_id)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- process
def _rebuild(catalog: Catalog, job_id: str) -> tuple[HarvestJob, HarvestSource, BaseBackend]:
    job = catalog.get_job(job_id)
    if job is None:
        raise DataspaceError(f"harvest job {job_id} not found")
    source = catalog.get_source(job.source_id, include_deleted=True)
    if source is None:
        raise DataspaceError(f"harvest source {job.source_id} of job {job_id} not found")
    data = job.data or {}
    try:
        backend = build_backend(
            catalog, source, job_data=data.get("backend") or {}, max_items=job.max_items, dry_run=bool(data.get("dry_run"))
        )
    except DataspaceError as exc:  # e.g. the plugin was uninstalled since the listing
        backend = _Unavailable(source.info(), str(exc))
    return job, source, backend


class _Unavailable(BaseBackend):
    """Stands in for a backend that cannot be loaded: every item fails with the reason."""

    def __init__(self, source, reason: str) -> None:
        super().__init__(source)
        self.reason = reason

    def process_dataset(self, item, dataset):
        raise HarvestValidationError(self.reason)

    def process_dataservice(self, item, dataservice, dataset_ids):
        raise HarvestValidationError(self.reason)


def _check_owner(source: HarvestSource, organization: str | None, owner: str | None, record_id: str) -> None:
    if source.organization:
        conflict = organization != source.organization
    else:
        conflict = organization is not None or owner != source.owner
    if conflict:
        raise HarvestValidationError(f"Item has another owner: {record_id}")


def _find_existing(catalog: Catalog, kind: str, source: HarvestSource, remote_id: str) -> str | None:
    return catalog.find_by_remote_id(
        kind, remote_id, any_source=is_uri(remote_id), domain=source.domain, source_id=source.id
    )


def _stamp(meta, backend: BaseBackend, source: HarvestSource, remote_id: str) -> None:
    meta.backend = backend.display_name or backend.name
    meta.source_id = source.id
    meta.remote_id = remote_id
    meta.domain = source.domain
    meta.last_update = utcnow()
    meta.archived = None
    meta.archived_at = None


def _process_dataset(
    catalog: Catalog, source: HarvestSource, backend: BaseBackend, item: HarvestItem, licence_ids: set[str]
) -> tuple[str, str | None]:
    existing_id = _find_existing(catalog, "dataset", source, item.remote_id)
    if existing_id:
        dataset = catalog.get_dataset(existing_id)
        assert dataset is not None
        _check_owner(source, dataset.organization, dataset.owner, existing_id)
    else:
        dataset = DatasetRecord(organization=source.organization, owner=None if source.organization else source.owner)
    ref = ItemRef(remote_id=item.remote_id, kind=item.kind, kwargs=dict(item.kwargs or {}))
    dataset = backend.process_dataset(ref, dataset)
    if not (dataset.title or "").strip():
        raise HarvestSkipException("missing title on dataset")
    if dataset.license and licence_ids and dataset.license not in licence_ids:
        log.warning('unknown licence "%s" dropped', dataset.license)
        dataset.license = None
    _stamp(dataset.harvest, backend, source, item.remote_id)
    dataset.archived = None
    return catalog.save_dataset(dataset), dataset.harvest.remote_url


def _process_dataservice(
    catalog: Catalog,
    source: HarvestSource,
    backend: BaseBackend,
    item: HarvestItem,
    dataset_ids: dict[str, str],
    licence_ids: set[str],
) -> tuple[str, str | None]:
    existing_id = _find_existing(catalog, "dataservice", source, item.remote_id)
    if existing_id:
        service = catalog.get_dataservice(existing_id)
        assert service is not None
        _check_owner(source, service.organization, service.owner, existing_id)
    else:
        service = DataserviceRecord(organization=source.organization, owner=None if source.organization else source.owner)
    ref = ItemRef(remote_id=item.remote_id, kind=item.kind, kwargs=dict(item.kwargs or {}))
    service = backend.process_dataservice(ref, service, dataset_ids)
    if not (service.title or "").strip():
        raise HarvestSkipException("missing title on dataservice")
    if service.license and licence_ids and service.license not in licence_ids:
        log.warning('unknown licence "%s" dropped', service.license)
        service.license = None
    _stamp(service.harvest, backend, source, item.remote_id)
    service.harvest.source_url = source.url
    service.harvest.archived_reason = None
    service.archived_at = None
    return catalog.save_dataservice(service), service.harvest.remote_url


def _run_item(
    catalog: Catalog,
    source: HarvestSource,
    backend: BaseBackend,
    item: HarvestItem,
    *,
    dataset_ids: dict[str, str] | None = None,
    licence_ids: set[str],
) -> str:
    """Process one item in isolation: whatever happens, the item ends done, skipped or failed."""
    catalog.update_item(item.id, status="started", started=utcnow())
    status, errors, record_id, remote_url = "done", [], None, None
    with _capture_logs() as logs:
        try:
            if item.kind == "dataservice":
                record_id, remote_url = _process_dataservice(
                    catalog, source, backend, item, dataset_ids or {}, licence_ids
                )
            else:
                record_id, remote_url = _process_dataset(catalog, source, backend, item, licence_ids)
        except HarvestSkipException as exc:
            status, errors = "skipped", [_error(str(exc))]
        except HarvestValidationError as exc:
            status, errors = "failed", [_error(str(exc))]
        except Exception as exc:  # any bug in a mapping fails this item only
            status, errors = "failed", [_error(str(exc) or type(exc).__name__, traceback.format_exc())]
            log.debug("item %s failed", item.remote_id, exc_info=True)
    values: dict = {"status": status, "errors": errors, "logs": logs.records, "ended": utcnow()}
    if record_id:
        values["dataservice_id" if item.kind == "dataservice" else "dataset_id"] = record_id
        values["remote_url"] = remote_url
    catalog.update_item(item.id, **values)
    return status


class _Counters:
    """Recomputes the job's counters after an item, at most once per interval: progress without O(n²) queries."""

    def __init__(self, catalog: Catalog, job_id: str, interval: float = 0.5) -> None:
        self.catalog, self.job_id, self.interval, self.last = catalog, job_id, interval, 0.0

    def item_done(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        self.catalog.recount_job(self.job_id)
        self.last = time.monotonic()


def process_chunk(
    catalog: Catalog, job_id: str, item_ids: list[int], *, progress: Progress | None = None
) -> dict[str, int]:
    """Process one chunk of dataset items; return how many ended in each status."""
    job, source, backend = _rebuild(catalog, job_id)
    catalog.update_job(job_id, status="processing")
    licence_ids = catalog.license_ids()
    counts: dict[str, int] = {}
    counters = _Counters(catalog, job_id)
    for item in catalog.get_items(job_id, ids=item_ids):
        if item.status != "pending":
            continue
        status = _run_item(catalog, source, backend, item, licence_ids=licence_ids)
        counts[status] = counts.get(status, 0) + 1
        counters.item_done()  # each item is saved at once; the job's counters follow so progress shows
        if progress:
            progress(1, 0)
    counters.flush()
    _flush_job_errors(catalog, job_id, backend)
    return counts


# ---------------------------------------------------------------- finalize
def _autoarchive(catalog: Catalog, job_id: str, source: HarvestSource, grace_days: int) -> int:
    present = {i.remote_id for i in catalog.get_items(job_id) if i.status != "archived" and i.remote_id}
    now = utcnow()
    limit = now - timedelta(days=grace_days)
    rows: list[dict] = []
    for kind in ("dataset", "dataservice"):
        for record in catalog.records_of_source(kind, source.id):
            remote_id = record["harvest_remote_id"]
            last_update = record["harvest_last_update"]
            if not remote_id or remote_id in present or last_update is None or last_update >= limit:
                continue
            if record["archived"] is None:
                harvest = dict(record["harvest"] or {})
                harvest["archived_at"] = now.isoformat()
                if kind == "dataset":
                    harvest["archived"] = "not-on-remote"
                    catalog.set_dataset_fields(record["id"], archived=now, harvest=harvest)
                else:
                    harvest["archived_reason"] = "not-on-remote"
                    catalog.set_dataservice_fields(record["id"], archived_at=now, harvest=harvest)
            rows.append(
                {
                    "remote_id": remote_id,
                    "kind": kind,
                    "status": "archived",
                    f"{kind}_id": record["id"],
                    "started": now,
                    "ended": now,
                }
            )
    catalog.add_items(job_id, rows)
    return len(rows)


def finalize_job(
    catalog: Catalog,
    job_id: str,
    *,
    grace_days: int = AUTOARCHIVE_GRACE_DAYS,
    progress: Progress | None = None,
) -> HarvestJob:
    """Process the dataservices (second pass), archive what disappeared, and set the final status."""
    job, source, backend = _rebuild(catalog, job_id)
    licence_ids = catalog.license_ids()
    # Dataset items a chunk never reached (a crashed worker) are finished here, then the dataservices.
    counters = _Counters(catalog, job_id)
    for item in catalog.get_items(job_id, status="pending", kind="dataset"):
        _run_item(catalog, source, backend, item, licence_ids=licence_ids)
        counters.item_done()
        if progress:
            progress(1, 0)
    dataset_ids = {
        i.remote_id: i.dataset_id for i in catalog.get_items(job_id, kind="dataset") if i.dataset_id and i.remote_id
    }
    for item in catalog.get_items(job_id, status="pending", kind="dataservice"):
        _run_item(catalog, source, backend, item, dataset_ids=dataset_ids, licence_ids=licence_ids)
        counters.item_done()
        if progress:
            progress(1, 0)
    failed = bool((job.data or {}).get("failed"))
    try:
        backend.finalize()
    except Exception as exc:
        failed = True
        catalog.add_job_error(job_id, str(exc) or type(exc).__name__, traceback.format_exc())
    _flush_job_errors(catalog, job_id, backend)
    if not failed and source.autoarchive:
        _autoarchive(catalog, job_id, source, grace_days)
    job = catalog.recount_job(job_id)
    if failed:
        status = "failed"
    elif job.items_by_status.get("failed"):
        status = "done-errors"
    else:
        status = "done"
    catalog.update_job(job_id, status=status, ended=utcnow())
    final = catalog.get_job(job_id)
    assert final is not None
    return final


# ---------------------------------------------------------------- whole job
def run_job(
    catalog: Catalog,
    source: HarvestSource,
    *,
    dry_run: bool = False,
    max_items: int | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
    grace_days: int = AUTOARCHIVE_GRACE_DAYS,
) -> JobReport:
    """Harvest a source synchronously in this process (initialize, every chunk, finalize)."""
    job_id, chunks = initialize_job(catalog, source, max_items=max_items, dry_run=dry_run, run_id=run_id)
    job = catalog.get_job(job_id)
    assert job is not None
    total = sum(1 for i in catalog.get_items(job_id) if i.status == "pending")
    if progress:
        progress(0, total)
    for chunk in chunks:
        process_chunk(catalog, job_id, chunk, progress=progress)
    job = finalize_job(catalog, job_id, grace_days=grace_days, progress=progress)
    return JobReport(job=job, items=catalog.get_items(job_id))


def preview_job(
    catalog: Catalog, source: HarvestSource | None = None, *, max_items: int = PREVIEW_MAX_ITEMS, **new_source
) -> JobReport:
    """Harvest up to `max_items` items without saving anything: the job, items and records it would produce."""
    with catalog.sandbox() as sandbox:
        if source is None:  # a source payload that is never stored
            from dataspace_assets.harvest.actions import create_source

            source = create_source(sandbox, **new_source)
        report = run_job(sandbox, source, dry_run=True, max_items=max_items)
        for item in report.items:
            if item.dataset_id and item.dataset_id not in report.datasets:
                dataset = sandbox.get_dataset(item.dataset_id)
                if dataset is not None:
                    report.datasets[item.dataset_id] = dataset
            if item.dataservice_id and item.dataservice_id not in report.dataservices:
                service = sandbox.get_dataservice(item.dataservice_id)
                if service is not None:
                    report.dataservices[item.dataservice_id] = service
        return report
