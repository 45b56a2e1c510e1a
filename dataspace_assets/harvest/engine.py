"""Harvest jobs: initialize (list the remote) -> process (map and store each item) -> finalize (archive, status)."""

from __future__ import annotations

import gc
import json
import logging
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar
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
from dataspace_assets.harvest.catalog.clean import bad_characters, clean_record, clean_text, clean_value
from dataspace_assets.harvest.catalog.entities import ItemOutcome
from dataspace_assets.harvest.records import DataserviceRecord, DatasetRecord

log = logging.getLogger("dataspace_assets.harvest")

AUTOARCHIVE_GRACE_DAYS = 7
PREVIEW_MAX_ITEMS = 20
CHUNK_SIZE = 500  # at most this many items mapped and saved together (one transaction)
FIRST_PART = 50  # the first part of a chunk; parts double up to CHUNK_SIZE while each takes under PART_SECONDS
PART_SECONDS = 1.0  # a slow remote keeps small parts: progress shows and a crash loses little
RUN_CHUNK_SIZE = 2500  # items per process_chunk call in run_job: the backend is rebuilt once per call
_SPACE = re.compile(r"\s")

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
    if not value or _SPACE.search(value):
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

    def take(self) -> list[dict]:
        """What was logged since the last take (the item just processed)."""
        records, self.records = self.records, []
        return records


@contextmanager
def _capture_logs() -> Iterator[_ItemLogs]:
    # Installed once per chunk, not per item: Logger.setLevel clears the cache of every logger.
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
    # Messages quote remote data: cleaned, so PostgreSQL stores them like SQLite does.
    return {"message": clean_text(message), "details": clean_text(details) if details else details,
            "created_at": utcnow().isoformat()}


def _flush_job_errors(catalog: Catalog, job_id: str, backend: BaseBackend) -> None:
    for message, details in backend.job_errors:
        catalog.add_job_error(job_id, message, details)
    backend.job_errors.clear()


_gc_depth = 0  # nesting of _gc_spares_the_listing in this process


@contextmanager
def _gc_spares_the_listing() -> Iterator[None]:
    """Keep the cyclic GC from re-scanning what already exists (the parsed catalogue) while a phase runs."""
    # A parsed 5,000-dataset graph is millions of objects: without this every full collection triggered
    # by the phase's allocations walks all of them (~15 % of a harvest). Unfrozen afterwards, so
    # nothing is leaked: it is collected as usual once the backend drops it. get_freeze_count walks the
    # frozen list, so it is asked only when nothing of ours is frozen (then it is cheap).
    global _gc_depth
    if _gc_depth == 0 and gc.get_freeze_count():  # someone else froze (e.g. before forking): leave it be
        yield
        return
    if _gc_depth == 0:
        gc.freeze()
    _gc_depth += 1
    try:
        yield
    finally:
        _gc_depth -= 1
        if _gc_depth == 0:
            gc.unfreeze()


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
    backend, failed = _list_remote(catalog, job.id, source, max_items=max_items, dry_run=dry_run)
    with _gc_spares_the_listing():
        pending = _store_listing(catalog, job.id, source, backend, failed=failed, max_items=max_items, dry_run=dry_run)
    return job.id, [pending[i : i + chunk_size] for i in range(0, len(pending), chunk_size)]


def _list_remote(
    catalog: Catalog, job_id: str, source: HarvestSource, *, max_items: int | None, dry_run: bool
) -> tuple[BaseBackend | None, bool]:
    """Run the backend's listing; a failure is a job error, not an exception."""
    backend: BaseBackend | None = None
    try:
        backend = build_backend(catalog, source, max_items=max_items, dry_run=dry_run)
        backend.initialize()
    except Exception as exc:  # listing failed: the job fails, the items found so far are still processed
        details = None if isinstance(exc, (HarvestException, DataspaceError)) else traceback.format_exc()
        catalog.add_job_error(job_id, str(exc) or type(exc).__name__, details)
        log.warning("harvest of %s failed while listing: %s", source.slug, exc)
        return backend, True
    return backend, False


def _store_listing(
    catalog: Catalog,
    job_id: str,
    source: HarvestSource,
    backend: BaseBackend | None,
    *,
    failed: bool,
    max_items: int | None,
    dry_run: bool,
) -> list[int]:
    """Store the listed items and the backend's job data; return the ids of the pending dataset items."""
    refs = list(backend.items) if backend is not None else []
    if max_items is not None:
        refs = refs[:max_items]
    catalog.add_items(job_id, _triage(refs))
    if backend is not None:
        _flush_job_errors(catalog, job_id, backend)
    job_data = backend.job_data if backend is not None else {}
    try:
        json.dumps(job_data)
    except (TypeError, ValueError) as exc:  # a backend bug: later phases could not rebuild it
        failed = True
        catalog.add_job_error(job_id, f"the {source.backend} backend left job data that is not JSON: {exc}")
        job_data = {}
    catalog.update_job(job_id, status="initialized", data={"backend": job_data, "failed": failed, "dry_run": dry_run})
    catalog.recount_job(job_id)
    return catalog.item_ids(job_id, status="pending", kind="dataset")


def _triage(refs: list[ItemRef]) -> list[dict]:
    """Items as rows; those without an identifier are skipped and repeated identifiers fail, up front."""
    seen: set[str] = set()
    rows = []
    for ref in refs:
        row = {"remote_id": ref.remote_id or None, "kind": ref.kind, "kwargs": clean_value(ref.kwargs)}
        if not ref.remote_id:
            row.update(status="skipped", errors=[_error("missing identifier")], started=utcnow(), ended=utcnow())
        elif isinstance(ref.remote_id, str) and bad_characters(ref.remote_id):
            # Refused, not rewritten: a cleaned identifier could collide with another record's.
            row.update(
                remote_id=clean_text(ref.remote_id), status="failed", started=utcnow(), ended=utcnow(),
                errors=[_error(f"field \"remote_id\" contains {bad_characters(ref.remote_id)}: record refused")],
            )
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


def _existing_records(
    catalog: Catalog, kind: str, source: HarvestSource, items: list[HarvestItem]
) -> dict[str, DatasetRecord | DataserviceRecord]:
    """Remote id -> the record already harvested under it, for a whole chunk in a few queries."""
    found = catalog.find_by_remote_ids(
        kind, [i.remote_id for i in items], any_source=is_uri, domain=source.domain, source_id=source.id
    )
    if kind == "dataset":
        records: dict[str, DatasetRecord | DataserviceRecord] = dict(catalog.get_datasets(found.values()))
    else:  # dataservices are few: one by one
        records = {i: s for i in found.values() if (s := catalog.get_dataservice(i)) is not None}
    return {remote_id: records[record_id] for remote_id, record_id in found.items() if record_id in records}


def _stamp(meta, backend: BaseBackend, source: HarvestSource, remote_id: str) -> None:
    meta.backend = backend.display_name or backend.name
    meta.source_id = source.id
    meta.remote_id = remote_id
    meta.domain = source.domain
    meta.last_update = utcnow()
    meta.archived = None
    meta.archived_at = None


_Record = TypeVar("_Record", DatasetRecord, DataserviceRecord)


def _start_record(source: HarvestSource, existing: _Record | None, cls: type[_Record]) -> _Record:
    """The record a backend maps onto: the existing one (if this source may own it) or a new one."""
    if existing is not None:
        assert existing.id is not None
        _check_owner(source, existing.organization, existing.owner, existing.id)
        return existing
    return cls(organization=source.organization, owner=None if source.organization else source.owner)


def _ref(item: HarvestItem) -> ItemRef:
    return ItemRef(remote_id=item.remote_id, kind=item.kind, kwargs=dict(item.kwargs or {}))


def _check_mapped(record: DatasetRecord | DataserviceRecord, kind: str, licence_ids: set[str]) -> None:
    """Skip a record without title; drop a licence the registry does not know."""
    if not (record.title or "").strip():
        raise HarvestSkipException(f"missing title on {kind}")
    if record.license and licence_ids and record.license not in licence_ids:
        log.warning('unknown licence "%s" dropped', record.license)
        record.license = None


def _map_dataset(
    source: HarvestSource,
    backend: BaseBackend,
    item: HarvestItem,
    existing: DatasetRecord | None,
    licence_ids: set[str],
) -> DatasetRecord:
    dataset = backend.process_dataset(_ref(item), _start_record(source, existing, DatasetRecord))
    _check_mapped(dataset, "dataset", licence_ids)
    _stamp(dataset.harvest, backend, source, item.remote_id)
    dataset.harvest.source_url = source.url  # on datasets too, as udata 17.18 (spec 1.5)
    dataset.archived = None
    return dataset


def _map_dataservice(
    source: HarvestSource,
    backend: BaseBackend,
    item: HarvestItem,
    existing: DataserviceRecord | None,
    dataset_ids: dict[str, str],
    licence_ids: set[str],
) -> DataserviceRecord:
    service = backend.process_dataservice(
        _ref(item), _start_record(source, existing, DataserviceRecord), dataset_ids
    )
    _check_mapped(service, "dataservice", licence_ids)
    _stamp(service.harvest, backend, source, item.remote_id)
    service.harvest.source_url = source.url
    service.harvest.archived_reason = None
    service.archived_at = None
    return service


def _map_item(
    source: HarvestSource,
    backend: BaseBackend,
    item: HarvestItem,
    existing: DatasetRecord | DataserviceRecord | None,
    *,
    dataset_ids: dict[str, str],
    licence_ids: set[str],
    logs: _ItemLogs,
) -> ItemOutcome:
    """Map one item in isolation: whatever happens, it ends done (with its record), skipped or failed."""
    outcome = ItemOutcome(item_id=item.id, kind=item.kind, status="done", started=utcnow())
    logs.take()  # anything logged between items is not this item's
    try:
        if item.kind == "dataservice":
            assert existing is None or isinstance(existing, DataserviceRecord)
            record: DatasetRecord | DataserviceRecord = _map_dataservice(
                source, backend, item, existing, dataset_ids, licence_ids
            )
        else:
            assert existing is None or isinstance(existing, DatasetRecord)
            record = _map_dataset(source, backend, item, existing, licence_ids)
        for cleaned in clean_record(record):  # NUL and lone surrogates, for SQLite and PostgreSQL alike
            outcome.errors.append(_error(f'field "{cleaned}" held NUL or unpaired surrogate characters: removed'))
        outcome.record, outcome.remote_url = record, record.harvest.remote_url
    except HarvestSkipException as exc:
        outcome.status, outcome.errors = "skipped", [_error(str(exc))]
    except HarvestValidationError as exc:
        outcome.status, outcome.errors = "failed", [_error(str(exc))]
    except Exception as exc:  # any bug in a mapping fails this item only
        outcome.status = "failed"
        outcome.errors = [_error(str(exc) or type(exc).__name__, traceback.format_exc())]
        log.debug("item %s failed", item.remote_id, exc_info=True)
    outcome.logs, outcome.ended = clean_value(logs.take()), utcnow()
    return outcome


def _prefetch(catalog: Catalog, backend: BaseBackend, items: list[HarvestItem]) -> None:
    """Let the backend fetch the chunk's records in its bounded pool; adopt the remote ids they give."""
    renamed = backend.prefetch([_ref(i) for i in items])
    changes: dict[int, str] = {}
    for item in items:
        new_id = renamed.get(item.remote_id or "")
        if new_id:  # CKAN: the package id replaces the listed name, before identity is looked up
            changes[item.id] = item.remote_id = new_id
    catalog.rename_items(changes)


def _process_items(
    catalog: Catalog,
    source: HarvestSource,
    backend: BaseBackend,
    items: list[HarvestItem],
    *,
    licence_ids: set[str],
    dataset_ids: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> list[ItemOutcome]:
    """Map a chunk of pending items of one kind, then store records and statuses in one transaction."""
    items = [i for i in items if i.status == "pending"]
    if not items:
        return []
    _prefetch(catalog, backend, items)
    existing = _existing_records(catalog, items[0].kind, source, items)
    with _capture_logs() as logs:
        outcomes = [
            _map_item(
                source, backend, item, existing.get(item.remote_id or ""), dataset_ids=dataset_ids or {},
                licence_ids=licence_ids, logs=logs,
            )
            for item in items
        ]
    catalog.store_outcomes(outcomes)
    if progress:
        for _ in outcomes:
            progress(1, 0)
    return outcomes


def _in_parts(items: list[HarvestItem]) -> Iterator[list[HarvestItem]]:
    """The items in parts of FIRST_PART, doubling up to CHUNK_SIZE while a part takes under PART_SECONDS.

    A fast source (a parsed DCAT page) is saved in few large transactions; a slow remote (one request per
    record) in small ones, so its progress shows and a killed run loses little.
    """
    start, size = 0, FIRST_PART
    while start < len(items):
        began = time.monotonic()
        yield items[start : start + size]
        start += size
        elapsed = time.monotonic() - began
        if elapsed < PART_SECONDS:
            size = min(CHUNK_SIZE, size * 2)
        elif elapsed > 2 * PART_SECONDS:
            size = max(FIRST_PART, size // 2)


def process_chunk(
    catalog: Catalog, job_id: str, item_ids: list[int], *, progress: Progress | None = None
) -> dict[str, int]:
    """Process one chunk of dataset items; return how many ended in each status."""
    job, source, backend = _rebuild(catalog, job_id)
    if job.status != "processing":  # one write per job, not one per chunk
        catalog.update_job(job_id, status="processing")
    items = [i for i in catalog.get_items(job_id, ids=item_ids) if i.kind == "dataset"]
    licence_ids = catalog.license_ids()
    counts: Counter[str] = Counter()
    with _gc_spares_the_listing():
        # A large chunk (one Dagster step) is saved in parts: progress shows and a crash loses little. Only the
        # statuses are kept: a part's records go once stored, so the collector does not walk every record of a
        # 5,000-item chunk again and again.
        for part in _in_parts(items):
            parts = _process_items(catalog, source, backend, part, licence_ids=licence_ids, progress=progress)
            counts.update(o.status for o in parts)
            _recount_now_and_then(catalog, job_id)  # the part is saved at once; the counters follow for progress
    _flush_job_errors(catalog, job_id, backend)
    return dict(counts)


_LAST_RECOUNT: dict[str, float] = {}
RECOUNT_INTERVAL = 1.0  # seconds between progress recounts of a job within one process


def _recount_now_and_then(catalog: Catalog, job_id: str) -> None:
    """Refresh the job's counters at most once a second: progress without a GROUP BY per chunk."""
    now = time.monotonic()
    if now - _LAST_RECOUNT.get(job_id, 0.0) >= RECOUNT_INTERVAL:
        catalog.recount_job(job_id)
        _LAST_RECOUNT[job_id] = now


# ---------------------------------------------------------------- finalize
def _autoarchive(catalog: Catalog, job_id: str, source: HarvestSource, grace_days: int) -> int:
    now = utcnow()
    limit = now - timedelta(days=grace_days)
    # Only records not refreshed within the grace period can be archived: this run's are skipped in SQL.
    stale = {kind: catalog.records_of_source(kind, source.id, updated_before=limit) for kind in ("dataset", "dataservice")}
    if not any(stale.values()):
        return 0
    present = {i.remote_id for i in catalog.get_items(job_id) if i.status != "archived" and i.remote_id}
    rows: list[dict] = []
    for kind in ("dataset", "dataservice"):
        for record in stale[kind]:
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
    _LAST_RECOUNT.pop(job_id, None)
    with _gc_spares_the_listing():
        return _finalize_job(catalog, job_id, grace_days=grace_days, progress=progress)


def _finalize_job(catalog: Catalog, job_id: str, *, grace_days: int, progress: Progress | None) -> HarvestJob:
    job, source, backend = _rebuild(catalog, job_id)
    licence_ids = catalog.license_ids()
    # Dataset items a chunk never reached (a crashed worker) are finished here, then the dataservices.
    for chunk in _in_parts(catalog.get_items(job_id, status="pending", kind="dataset")):
        _process_items(catalog, source, backend, chunk, licence_ids=licence_ids, progress=progress)
    services = catalog.get_items(job_id, status="pending", kind="dataservice")
    if services:
        dataset_ids = {
            i.remote_id: i.dataset_id for i in catalog.get_items(job_id, kind="dataset") if i.dataset_id and i.remote_id
        }
        for chunk in _in_parts(services):
            _process_items(
                catalog, source, backend, chunk, licence_ids=licence_ids, dataset_ids=dataset_ids, progress=progress
            )
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
    job_id, chunks = initialize_job(
        catalog, source, max_items=max_items, dry_run=dry_run, run_id=run_id, chunk_size=RUN_CHUNK_SIZE
    )
    job = catalog.get_job(job_id)
    assert job is not None
    if progress:
        progress(0, job.items_by_status.get("pending", 0))
    with _gc_spares_the_listing():
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
