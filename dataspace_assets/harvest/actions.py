"""What an administrator does with harvest sources: create, validate, schedule, delete, clean, purge, attach, detach."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from croniter import croniter

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest.backends import get_backend
from dataspace_assets.harvest.catalog import Catalog, HarvestJob, HarvestSource, new_id, source_domain, utcnow
from dataspace_assets.harvest.catalog.clean import json_problems
from dataspace_assets.harvest.catalog.entities import VALIDATION_STATES
from dataspace_assets.net.http import url_problem

if TYPE_CHECKING:
    import dagster as dg

FREQUENCIES = ("manual", "monthly", "weekly", "daily")
DEFAULT_SCHEDULE = "0 0 * * *"
JOBS_RETENTION_DAYS = 365


def check_cron(cron: str, where: str = "schedule") -> str:
    """A valid five-field cron expression, or a clear error."""
    cron = " ".join(cron.split())
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise DataspaceError(f'invalid {where} "{cron}": expected a cron expression like "0 0 * * *"')
    return cron


def check_source_fields(
    *,
    backend: str,
    url: str,
    name: str,
    config: dict | None,
    frequency: str = "manual",
    where: str = "harvest source",
    config_where: str | None = None,
) -> dict:
    """Validate what a source is made of; return its config (spec 1.1 checks).

    `where` names the source in messages (a TOML entry), `config_where` its config (`<entry>.config`, `--config`).
    """
    config_where = config_where or where
    if not (name or "").strip():
        raise DataspaceError(f"{where}: a name is required")
    if len(name) > 255:
        raise DataspaceError(f"{where}: the name is longer than 255 characters")
    if isinstance(url, str) and url.lower().startswith(("http:", "https:")):
        problem = url_problem(url)  # the same check as every request makes: refused here, not at the first run
        if problem:
            raise DataspaceError(f'{where}: invalid url "{url}": {problem}')
    try:
        parsed = urlparse(url or "")
        parsed.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError as exc:
        raise DataspaceError(f'{where}: invalid url "{url}" ({exc})') from None
    if parsed.scheme not in ("http", "https", "file") or (parsed.scheme != "file" and not parsed.netloc):
        raise DataspaceError(f'{where}: invalid url "{url}" (expected http://, https:// or file://)')
    if frequency not in FREQUENCIES:
        raise DataspaceError(f'{where}: unknown frequency "{frequency}" (expected one of {", ".join(FREQUENCIES)})')
    try:
        backend_cls = get_backend(backend)
    except DataspaceError as exc:
        from dataspace_assets.harvest.backends import list_backends

        known = ", ".join(sorted(e.name for e in list_backends() if e.ok))
        raise DataspaceError(f"{where}: {exc} (known backends: {known})") from exc
    config = dict(config or {})
    unstorable = json_problems(config)  # NaN, Infinity, NUL, lone surrogates: no database stores them alike
    if unstorable:
        raise DataspaceError(f"{config_where}: {'; '.join(unstorable)}")
    try:
        errors = backend_cls.validate_config(config)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # A config of the wrong shape (e.g. a filter key that is a list) must be an error, not a traceback.
        raise DataspaceError(f"{config_where}: invalid config ({type(exc).__name__}: {exc})") from None
    if errors:
        raise DataspaceError(f"{config_where}: {'; '.join(errors)}")
    return config


def create_source(
    catalog: Catalog,
    *,
    backend: str,
    url: str,
    name: str,
    config: dict | None = None,
    frequency: str = "manual",
    owner: str | None = None,
    organization: str | None = None,
    description: str = "",
    active: bool = True,
    autoarchive: bool = True,
    schedule: str | None = None,
    validation_state: str = "pending",
    slug: str | None = None,
    declared_in: str | None = None,
    config_where: str | None = None,
) -> HarvestSource:
    """Create a source, pending validation unless told otherwise (`config_where` names the config in messages)."""
    config = check_source_fields(
        backend=backend, url=url, name=name, config=config, frequency=frequency, config_where=config_where
    )
    if validation_state not in VALIDATION_STATES:
        raise DataspaceError(f'unknown validation state "{validation_state}" (expected one of {", ".join(VALIDATION_STATES)})')
    source = HarvestSource(
        id=new_id(),
        slug=slug or name,
        name=name,
        url=url,
        backend=backend,
        domain=source_domain(url),
        description=description or "",
        config=config,
        frequency=frequency,
        schedule=check_cron(schedule) if schedule else None,
        active=active,
        autoarchive=autoarchive,
        validation_state=validation_state,
        validation_on=utcnow() if validation_state != "pending" else None,
        owner=owner,
        organization=organization,
        declared_in=declared_in,
    )
    return catalog.insert_source(source)


SECRET_CONFIG_KEYS = ("apikey",)  # never shown: listings mask them
SECRET_MASK = "********"


def source_json(source: HarvestSource) -> dict:
    """A source as JSON for listings, its secrets (a CKAN `apikey`) masked."""
    data = source.to_json()
    config = dict(data.get("config") or {})
    for key in SECRET_CONFIG_KEYS:
        if key in config and not isinstance(config[key], dict):  # {"env": NAME} names a variable, not a secret
            config[key] = SECRET_MASK
    data["config"] = config
    return data


def get_source(catalog: Catalog, identifier: str, *, include_deleted: bool = False) -> HarvestSource:
    """The source with this id or slug, or a clear error."""
    source = catalog.get_source(identifier, include_deleted=include_deleted)
    if source is None:
        raise DataspaceError(f'harvest source "{identifier}" not found (give its id or slug; see `dataspace harvest sources`)')
    return source


def validate_source(
    catalog: Catalog, identifier: str, *, refuse: bool = False, comment: str | None = None, by: str | None = None
) -> HarvestSource:
    """Accept (and schedule by default daily) or refuse a source; refusing needs a comment."""
    source = get_source(catalog, identifier)
    if refuse:
        if not (comment or "").strip():
            raise DataspaceError(f'refusing harvest source "{source.slug}" needs a comment (--comment TEXT)')
        return catalog.update_source(
            source.id, validation_state="refused", validation_on=utcnow(), validation_by=by, validation_comment=comment
        )
    return catalog.update_source(
        source.id,
        validation_state="accepted",
        validation_on=utcnow(),
        validation_by=by,
        validation_comment=comment,
        schedule=source.schedule or DEFAULT_SCHEDULE,
    )


def delete_source(catalog: Catalog, identifier: str) -> HarvestSource:
    """Soft-delete a source: it stops running; `purge` removes it for good."""
    source = get_source(catalog, identifier)
    return catalog.update_source(source.id, deleted=utcnow())


def clean_source(catalog: Catalog, identifier: str) -> int:
    """Mark every dataset of the source as deleted; return how many."""
    source = get_source(catalog, identifier, include_deleted=True)
    now = utcnow()
    datasets = catalog.list_datasets(source_id=source.id)
    for dataset in datasets:
        catalog.set_dataset_fields(dataset.id, deleted=now)
    return len(datasets)


def schedule_cron(
    minute: str = "*", hour: str = "*", day_of_week: str = "*", day_of_month: str = "*", month_of_year: str = "*"
) -> str:
    """The cron expression of the `schedule` options (udata's crontab fields)."""
    return check_cron(f"{minute} {hour} {day_of_month} {month_of_year} {day_of_week}")


def schedule_source(catalog: Catalog, identifier: str, cron: str) -> HarvestSource:
    """Run the source on this cron schedule (the harvest sensor launches it)."""
    source = get_source(catalog, identifier)
    return catalog.update_source(source.id, schedule=check_cron(cron))


def unschedule_source(catalog: Catalog, identifier: str) -> HarvestSource:
    """Stop running the source on a schedule."""
    source = get_source(catalog, identifier)
    if not source.schedule:
        raise DataspaceError(f'harvest source "{source.slug}" is not scheduled')
    return catalog.update_source(source.id, schedule=None)


def _archive_all(catalog: Catalog, source_id: str, reason: str) -> int:
    now = utcnow()
    count = 0
    for kind in ("dataset", "dataservice"):
        for record in catalog.records_of_source(kind, source_id):
            harvest = dict(record["harvest"] or {})
            harvest["archived_at"] = now.isoformat()
            if kind == "dataset":
                harvest["archived"] = reason
                catalog.set_dataset_fields(record["id"], archived=record["archived"] or now, harvest=harvest)
            else:
                harvest["archived_reason"] = reason
                catalog.set_dataservice_fields(record["id"], archived_at=record["archived"] or now, harvest=harvest)
            count += 1
    return count


def purge_sources(catalog: Catalog) -> list[HarvestSource]:
    """Remove the deleted sources for good, archiving their records ("harvester-deleted"); return them."""
    purged = catalog.list_sources(deleted=True)
    for source in purged:
        _archive_all(catalog, source.id, "harvester-deleted")
        catalog.delete_source_row(source.id)
    return purged


def purge_jobs(catalog: Catalog, days: int = JOBS_RETENTION_DAYS) -> int:
    """Remove jobs older than the retention period (never a source's latest job); return how many."""
    if not isinstance(days, int) or days < 1:
        raise DataspaceError(f"purge: the job retention must be 1 day or more, got {days!r}")
    return catalog.delete_jobs_before(utcnow() - timedelta(days=days))


def get_job(catalog: Catalog, instance: dg.DagsterInstance | None, job_id: str) -> HarvestJob:
    """The job with this id; a clear error saying whether it was purged (the UI may still name it) or never existed."""
    from dataspace_assets.harvest.admin import job_in_event_log

    job = catalog.get_job(job_id)
    if job is not None:
        return job
    record = job_in_event_log(instance, job_id) if instance is not None else None
    if record is None:
        raise DataspaceError(f"harvest job {job_id} not found")
    when = datetime.fromtimestamp(record.timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    partition = record.partition_key or "?"
    raise DataspaceError(
        f"harvest job {job_id} was purged (`dataspace harvest purge` removes jobs past retention and the jobs of "
        f"purged sources); the Dagster UI still shows its materialization of catalog/harvest [{partition}] of "
        f"{when}: `dataspace harvest jobs {partition}` lists the jobs kept"
    )


MAX_ATTACH_BYTES = 64 * 1024 * 1024


def _read_csv_text(path: Path) -> str:
    """The text of a regular, UTF-8 file of reasonable size (a FIFO or a device would block or never end)."""
    import stat

    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise DataspaceError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if not stat.S_ISREG(mode):
        raise DataspaceError(f"{path}: not a regular file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ATTACH_BYTES + 1)
    except OSError as exc:
        raise DataspaceError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if len(data) > MAX_ATTACH_BYTES:
        raise DataspaceError(f"{path}: larger than {MAX_ATTACH_BYTES // (1024 * 1024)} MiB")
    if b"\x00" in data:
        raise DataspaceError(f"{path}: a binary file, not a ';' CSV")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataspaceError(f"{path}: not UTF-8 text (line {line}): save it as UTF-8") from None


@dataclass
class AttachReport:
    """What `attach` did: the datasets attached and the rows it could not use."""

    attached: list[tuple[str, str]] = field(default_factory=list)  # (dataset id, remote id)
    errors: list[str] = field(default_factory=list)


def attach(catalog: Catalog, path: str | Path, domain: str) -> AttachReport:
    """Attach existing datasets to remote ids of a domain, from a `;` CSV with columns local and remote."""
    path = Path(path)
    text = _read_csv_text(path)
    reader = csv.DictReader(text.splitlines(), delimiter=";")
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise DataspaceError(f"{path}: not a readable ';' CSV ({exc})") from None
    missing = {"local", "remote"} - set(fieldnames)
    if missing:
        raise DataspaceError(f"{path}: missing column(s) {', '.join(sorted(missing))} (expected a ';' CSV with local;remote)")
    report = AttachReport()
    try:
        rows = list(enumerate(reader, start=2))
    except csv.Error as exc:
        raise DataspaceError(f"{path}: line {reader.line_num}: not a readable ';' CSV ({exc})") from None
    for line, row in rows:
        local, remote = (row.get("local") or "").strip(), (row.get("remote") or "").strip()
        dataset = catalog.get_dataset(local) if local else None
        if dataset is None or not remote:
            report.errors.append(f"{path}:{line}: unknown dataset {local!r}" if remote else f"{path}:{line}: empty remote id")
            continue
        holder = catalog.find_by_remote_id("dataset", remote, any_source=False, domain=domain)
        if holder and holder != dataset.id:
            catalog.detach_dataset(holder)
        dataset.harvest.domain = domain
        dataset.harvest.remote_id = remote
        catalog.save_dataset(dataset)
        report.attached.append((dataset.id, remote))
    return report


def detach(catalog: Catalog, dataset_id: str) -> None:
    """Forget where a dataset was harvested from (it and its resources)."""
    if catalog.get_dataset(dataset_id) is None:
        raise DataspaceError(f"dataset {dataset_id} not found")
    catalog.detach_dataset(dataset_id)


def detach_all_from_source(catalog: Catalog, identifier: str) -> int:
    """Detach every dataset of a source; return how many."""
    source = get_source(catalog, identifier, include_deleted=True)
    datasets = catalog.list_datasets(source_id=source.id, include_deleted=True)
    for dataset in datasets:
        catalog.detach_dataset(dataset.id)
    return len(datasets)
