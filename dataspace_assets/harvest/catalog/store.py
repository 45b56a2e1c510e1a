"""The harvest catalogue: sources, jobs, items, datasets, resources, dataservices, contacts and licences."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from slugify import slugify

from dataspace_assets.harvest.backends.base import SourceInfo
from dataspace_assets.harvest.catalog import models as m
from dataspace_assets.harvest.records import (
    Checksum,
    ContactPoint,
    DataserviceRecord,
    DatasetRecord,
    HarvestMetadata,
    ResourceRecord,
)
from dataspace_assets.storage.database import create_engine

ITEM_STATUSES = ("pending", "started", "done", "failed", "skipped", "archived")
JOB_STATUSES = ("pending", "initializing", "initialized", "processing", "done", "done-errors", "failed")
VALIDATION_STATES = ("pending", "accepted", "refused")


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A fresh catalogue id (uuid4 hex)."""
    return uuid.uuid4().hex


def source_domain(url: str) -> str:
    """The host of a URL without its port: the source's domain (file:// URLs give "localhost")."""
    from urllib.parse import urlparse

    return urlparse(url).netloc.split(":")[0].split("@")[-1].lower() or "localhost"


@dataclass
class HarvestSource:
    """A remote catalogue plus the backend that reads it."""

    id: str
    slug: str
    name: str
    url: str
    backend: str
    domain: str
    description: str = ""
    config: dict = field(default_factory=dict)
    frequency: str = "manual"
    schedule: str | None = None
    active: bool = True
    autoarchive: bool = True
    validation_state: str = "pending"
    validation_by: str | None = None
    validation_on: datetime | None = None
    validation_comment: str | None = None
    owner: str | None = None
    organization: str | None = None
    declared_in: str | None = None
    created_at: datetime | None = None
    deleted: datetime | None = None

    def info(self) -> SourceInfo:
        """What a backend sees of this source."""
        return SourceInfo(
            id=self.id,
            slug=self.slug,
            name=self.name,
            url=self.url,
            backend=self.backend,
            domain=self.domain,
            config=dict(self.config or {}),
            organization=self.organization,
            owner=self.owner,
        )

    def to_json(self) -> dict:
        """A JSON-serialisable view for `--json` output."""
        data = asdict(self)
        for key in ("validation_on", "created_at", "deleted"):
            data[key] = _iso(data[key])
        data["validation"] = {
            "state": data.pop("validation_state"),
            "by": data.pop("validation_by"),
            "on": data.pop("validation_on"),
            "comment": data.pop("validation_comment"),
        }
        return data


@dataclass
class HarvestError:
    """One error of a job or an item."""

    message: str
    details: str | None = None
    created_at: str | None = None


@dataclass
class HarvestItem:
    """One remote record within a job."""

    id: int
    job_id: str
    seq: int
    remote_id: str | None
    kind: str = "dataset"
    status: str = "pending"
    remote_url: str | None = None
    dataset_id: str | None = None
    dataservice_id: str | None = None
    created: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    errors: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-serialisable view."""
        data = asdict(self)
        for key in ("created", "started", "ended"):
            data[key] = _iso(data[key])
        return data


@dataclass
class HarvestJob:
    """One run of a source."""

    id: str
    source_id: str
    status: str
    created: datetime
    started: datetime | None = None
    ended: datetime | None = None
    max_items: int | None = None
    data: dict = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    items_total: int = 0
    items_by_status: dict = field(default_factory=dict)
    items_by_type: dict = field(default_factory=dict)
    dagster_run_id: str | None = None

    def to_json(self) -> dict:
        """A JSON-serialisable view (without the backend's scratch data)."""
        data = asdict(self)
        data.pop("data")
        for key in ("created", "started", "ended"):
            data[key] = _iso(data[key])
        return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _parse_dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def jsonable(value: Any) -> Any:
    """Dates and datetimes to ISO strings, recursively, for JSON columns."""
    from datetime import date

    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


_HARVEST_DT = {f.name for f in fields(HarvestMetadata) if "datetime" in str(f.type)}


def harvest_to_json(meta: HarvestMetadata | None) -> dict | None:
    """HarvestMetadata as a JSON column value."""
    if meta is None:
        return None
    return {k: jsonable(v) for k, v in asdict(meta).items() if v is not None}


def harvest_from_json(data: dict | None) -> HarvestMetadata:
    """HarvestMetadata from a JSON column value (unknown keys ignored)."""
    known = {f.name for f in fields(HarvestMetadata)}
    values = {k: (_parse_dt(v) if k in _HARVEST_DT else v) for k, v in (data or {}).items() if k in known}
    return HarvestMetadata(**values)


def _temporal_from_json(data: dict | None) -> dict | None:
    if not data:
        return None
    from datetime import date

    return {k: (date.fromisoformat(v) if isinstance(v, str) else v) for k, v in data.items()}


class Catalog:
    """The catalogue database; every write goes through here."""

    def __init__(self, engine: sa.Engine, *, connection: sa.Connection | None = None) -> None:
        self.engine = engine
        self._connection = connection  # bound connection: writes join its transaction (previews)

    # --- opening
    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> "Catalog":
        """Open the catalogue at this database URL, upgrading its schema and seeding the licences."""
        engine = create_engine(url)
        catalog = cls(engine)
        if migrate:
            m.upgrade(engine)
            catalog.seed_licenses()
        return catalog

    @classmethod
    def from_settings(cls, settings: Any) -> "Catalog":
        """Open the deployment's catalogue (`settings.database_url`)."""
        return cls.open(settings.database_url)

    def close(self) -> None:
        """Release the connections (not the bound preview connection)."""
        if self._connection is None:
            self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        if self._connection is not None:
            if self._connection.dialect.name == "postgresql":
                # A savepoint per write keeps one failed statement from aborting the whole preview.
                # Not on SQLite: pysqlite's SAVEPOINT handling would commit the outer transaction.
                with self._connection.begin_nested():
                    yield self._connection
            else:
                yield self._connection
            return
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def sandbox(self) -> Iterator["Catalog"]:
        """A catalogue whose every write is rolled back at the end: what a preview runs in."""
        with self.engine.connect() as conn:
            trans = conn.begin()
            try:
                yield Catalog(self.engine, connection=conn)
            finally:
                trans.rollback()

    def schema_version(self) -> int:
        """The schema version of the database."""
        with self._tx() as conn:
            return m.current_version(conn)

    # --- licences
    def seed_licenses(self) -> int:
        """Insert the seeded licences that are missing; return how many were added."""
        try:
            from dataspace_assets.harvest.licenses import SEED_LICENSES
        except ImportError:  # the registry module is optional for the engine
            return 0
        with self._tx() as conn:
            present = set(conn.execute(sa.select(m.licenses.c.id)).scalars())
            rows = [
                {
                    "id": lic.id,
                    "title": lic.title,
                    "url": lic.url,
                    "alternate_urls": list(lic.alternate_urls or []),
                    "alternate_titles": list(lic.alternate_titles or []),
                }
                for lic in SEED_LICENSES
                if lic.id not in present
            ]
            if rows:
                conn.execute(m.licenses.insert(), rows)
        return len(rows)

    def license_ids(self) -> set[str]:
        """Ids of every licence in the registry table."""
        with self._tx() as conn:
            return set(conn.execute(sa.select(m.licenses.c.id)).scalars())

    def license_registry(self):
        """The licence registry built from the table rows."""
        from dataspace_assets.harvest.licenses import License, LicenseRegistry

        with self._tx() as conn:
            rows = conn.execute(sa.select(m.licenses)).mappings().all()
        return LicenseRegistry(
            [
                License(
                    id=r["id"],
                    title=r["title"],
                    url=r["url"],
                    alternate_urls=list(r["alternate_urls"] or []),
                    alternate_titles=list(r["alternate_titles"] or []),
                )
                for r in rows
            ]
        )

    # --- sources
    def _unique_slug(self, conn: sa.Connection, table: sa.Table, text: str, exclude_id: str | None = None) -> str:
        # Truncate ourselves: this python-slugify keeps upper case when given max_length.
        base = slugify(text)[:240].strip("-") or "item"
        slug, n = base, 0
        while True:
            query = sa.select(table.c.id).where(table.c.slug == slug)
            if exclude_id:
                query = query.where(table.c.id != exclude_id)
            if conn.execute(query).first() is None:
                return slug
            n += 1
            slug = f"{base}-{n}"

    def insert_source(self, source: HarvestSource) -> HarvestSource:
        """Store a new source (its slug made unique from its name)."""
        with self._tx() as conn:
            source.slug = self._unique_slug(conn, m.sources, source.slug or source.name)
            source.created_at = source.created_at or utcnow()
            conn.execute(m.sources.insert().values(**asdict(source)))
        return source

    def update_source(self, source_id: str, **values: Any) -> HarvestSource:
        """Change fields of a source; a new name gives a new slug."""
        with self._tx() as conn:
            if "name" in values and "slug" not in values:
                values["slug"] = self._unique_slug(conn, m.sources, values["name"], exclude_id=source_id)
            conn.execute(m.sources.update().where(m.sources.c.id == source_id).values(**values))
        found = self.get_source(source_id, include_deleted=True)
        assert found is not None
        return found

    def get_source(self, id_or_slug: str, *, include_deleted: bool = False) -> HarvestSource | None:
        """The source with this id or slug."""
        with self._tx() as conn:
            query = sa.select(m.sources).where(sa.or_(m.sources.c.id == id_or_slug, m.sources.c.slug == id_or_slug))
            if not include_deleted:
                query = query.where(m.sources.c.deleted.is_(None))
            row = conn.execute(query).mappings().first()
        return HarvestSource(**row) if row else None

    def list_sources(self, *, deleted: bool | None = False) -> list[HarvestSource]:
        """Sources by name: live ones (deleted=False), deleted ones (True) or all (None)."""
        query = sa.select(m.sources).order_by(m.sources.c.name, m.sources.c.slug)
        if deleted is True:
            query = query.where(m.sources.c.deleted.is_not(None))
        elif deleted is False:
            query = query.where(m.sources.c.deleted.is_(None))
        with self._tx() as conn:
            return [HarvestSource(**row) for row in conn.execute(query).mappings()]

    def delete_source_row(self, source_id: str) -> None:
        """Remove a source for good; its jobs and items go with it."""
        with self._tx() as conn:
            job_ids = sa.select(m.jobs.c.id).where(m.jobs.c.source_id == source_id)
            conn.execute(m.items.delete().where(m.items.c.job_id.in_(job_ids)))
            conn.execute(m.jobs.delete().where(m.jobs.c.id.in_(job_ids)))
            conn.execute(m.sources.delete().where(m.sources.c.id == source_id))

    # --- jobs and items
    def create_job(self, source_id: str, *, status: str = "initializing", max_items: int | None = None) -> HarvestJob:
        """Start a job for this source."""
        now = utcnow()
        job = HarvestJob(id=new_id(), source_id=source_id, status=status, created=now, started=now, max_items=max_items)
        with self._tx() as conn:
            conn.execute(m.jobs.insert().values(**asdict(job)))
        return job

    def update_job(self, job_id: str, **values: Any) -> None:
        """Change fields of a job."""
        with self._tx() as conn:
            conn.execute(m.jobs.update().where(m.jobs.c.id == job_id).values(**values))

    def add_job_error(self, job_id: str, message: str, details: str | None = None) -> None:
        """Append one job-level error."""
        with self._tx() as conn:
            errors = conn.execute(sa.select(m.jobs.c.errors).where(m.jobs.c.id == job_id)).scalar() or []
            errors = [*errors, {"message": message, "details": details, "created_at": utcnow().isoformat()}]
            conn.execute(m.jobs.update().where(m.jobs.c.id == job_id).values(errors=errors))

    def get_job(self, job_id: str) -> HarvestJob | None:
        """The job with this id."""
        with self._tx() as conn:
            row = conn.execute(sa.select(m.jobs).where(m.jobs.c.id == job_id)).mappings().first()
        return HarvestJob(**row) if row else None

    def list_jobs(self, source_id: str, *, limit: int | None = None) -> list[HarvestJob]:
        """The source's jobs, newest first."""
        query = sa.select(m.jobs).where(m.jobs.c.source_id == source_id).order_by(m.jobs.c.created.desc())
        if limit:
            query = query.limit(limit)
        with self._tx() as conn:
            return [HarvestJob(**row) for row in conn.execute(query).mappings()]

    def delete_jobs_before(self, cutoff: datetime) -> int:
        """Remove jobs created before the cutoff (with their items); return how many."""
        with self._tx() as conn:
            ids = list(conn.execute(sa.select(m.jobs.c.id).where(m.jobs.c.created < cutoff)).scalars())
            if ids:
                conn.execute(m.items.delete().where(m.items.c.job_id.in_(ids)))
                conn.execute(m.jobs.delete().where(m.jobs.c.id.in_(ids)))
        return len(ids)

    def add_items(self, job_id: str, rows: Sequence[dict]) -> None:
        """Append items to a job (rows of remote_id, kind, kwargs, status, errors)."""
        if not rows:
            return
        with self._tx() as conn:
            start = conn.execute(sa.select(sa.func.count()).where(m.items.c.job_id == job_id)).scalar() or 0
            now = utcnow()
            conn.execute(
                m.items.insert(),
                [
                    {
                        "job_id": job_id,
                        "seq": start + i,
                        "remote_id": row.get("remote_id"),
                        "remote_url": row.get("remote_url"),
                        "kind": row.get("kind", "dataset"),
                        "dataset_id": row.get("dataset_id"),
                        "dataservice_id": row.get("dataservice_id"),
                        "status": row.get("status", "pending"),
                        "created": now,
                        "started": row.get("started"),
                        "ended": row.get("ended"),
                        "errors": row.get("errors", []),
                        "logs": row.get("logs", []),
                        "kwargs": jsonable(row.get("kwargs") or {}),
                    }
                    for i, row in enumerate(rows)
                ],
            )

    def get_items(
        self,
        job_id: str,
        *,
        status: str | None = None,
        kind: str | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[HarvestItem]:
        """Items of a job in listing order, optionally by status, kind or id."""
        query = sa.select(m.items).where(m.items.c.job_id == job_id).order_by(m.items.c.seq)
        if status:
            query = query.where(m.items.c.status == status)
        if kind:
            query = query.where(m.items.c.kind == kind)
        if ids is not None:
            query = query.where(m.items.c.id.in_(list(ids)))
        with self._tx() as conn:
            return [HarvestItem(**row) for row in conn.execute(query).mappings()]

    def update_item(self, item_id: int, **values: Any) -> None:
        """Change fields of an item."""
        with self._tx() as conn:
            conn.execute(m.items.update().where(m.items.c.id == item_id).values(**values))

    def recount_job(self, job_id: str) -> HarvestJob:
        """Recompute the job's item counters (total, by status, by type)."""
        with self._tx() as conn:
            by_status = dict.fromkeys(ITEM_STATUSES, 0)
            by_type = {"dataset": 0, "dataservice": 0}
            for status, kind, count in conn.execute(
                sa.select(m.items.c.status, m.items.c.kind, sa.func.count())
                .where(m.items.c.job_id == job_id)
                .group_by(m.items.c.status, m.items.c.kind)
            ):
                by_status[status] = by_status.get(status, 0) + count
                by_type[kind] = by_type.get(kind, 0) + count
            conn.execute(
                m.jobs.update()
                .where(m.jobs.c.id == job_id)
                .values(items_total=sum(by_status.values()), items_by_status=by_status, items_by_type=by_type)
            )
        job = self.get_job(job_id)
        assert job is not None
        return job

    # --- contact points
    def _contact_point_id(self, conn: sa.Connection, contact: ContactPoint, *, create: bool) -> str | None:
        t = m.contact_points
        query = sa.select(t.c.id).where(
            t.c.name == contact.name,
            t.c.email.is_(None) if contact.email is None else t.c.email == contact.email,
            t.c.url.is_(None) if contact.url is None else t.c.url == contact.url,
        )
        found = conn.execute(query).scalar()
        if found or not create:
            return found
        cid = new_id()
        conn.execute(t.insert().values(id=cid, name=contact.name, email=contact.email, url=contact.url))
        return cid

    def _load_contacts(self, conn: sa.Connection, link: sa.Table, key: sa.Column, record_id: str) -> list[ContactPoint]:
        rows = conn.execute(
            sa.select(m.contact_points, link.c.role)
            .join(link, link.c.contact_point_id == m.contact_points.c.id)
            .where(key == record_id)
            .order_by(link.c.position)
        ).mappings()
        return [ContactPoint(name=r["name"], email=r["email"], url=r["url"], role=r["role"]) for r in rows]

    def _save_contacts(
        self, conn: sa.Connection, link: sa.Table, key_name: str, record_id: str, contacts: list[ContactPoint]
    ) -> None:
        conn.execute(link.delete().where(link.c[key_name] == record_id))
        rows, seen = [], set()
        for contact in contacts:
            if not contact.name:
                continue
            cid = self._contact_point_id(conn, contact, create=True)
            if (cid, contact.role) in seen:
                continue
            seen.add((cid, contact.role))
            rows.append({key_name: record_id, "position": len(rows), "contact_point_id": cid, "role": contact.role})
        if rows:
            conn.execute(link.insert(), rows)

    def count_contact_points(self) -> int:
        """How many contact points are stored."""
        with self._tx() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(m.contact_points)).scalar() or 0

    # --- datasets
    def _dataset_from_row(self, conn: sa.Connection, row: Any) -> DatasetRecord:
        resources = [
            ResourceRecord(
                id=r["id"],
                url=r["url"],
                title=r["title"],
                description=r["description"],
                format=r["format"],
                mime=r["mime"],
                filesize=r["filesize"],
                filetype=r["filetype"],
                type=r["type"],
                checksum=Checksum(**r["checksum"]) if r["checksum"] else None,
                schema=r["schema"],
                extras=dict(r["extras"] or {}),
                harvest=dict(r["harvest"] or {}),
            )
            for r in conn.execute(
                sa.select(m.resources).where(m.resources.c.dataset_id == row["id"]).order_by(m.resources.c.position)
            ).mappings()
        ]
        return DatasetRecord(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            acronym=row["acronym"],
            tags=list(row["tags"] or []),
            frequency=row["frequency"],
            temporal_coverage=_temporal_from_json(row["temporal_coverage"]),
            spatial=row["spatial"],
            license=row["license"],
            schema=row["schema"],
            contact_points=self._load_contacts(
                conn, m.dataset_contact_points, m.dataset_contact_points.c.dataset_id, row["id"]
            ),
            access_type=row["access_type"],
            access_type_reason_category=row["access_type_reason_category"],
            resources=resources,
            extras=dict(row["extras"] or {}),
            harvest=harvest_from_json(row["harvest"]),
            archived=row["archived"],
            organization=row["organization"],
            owner=row["owner"],
            private=bool(row["private"]),
        )

    def get_dataset(self, dataset_id: str) -> DatasetRecord | None:
        """The dataset with this id, with its resources and contact points."""
        with self._tx() as conn:
            row = conn.execute(sa.select(m.datasets).where(m.datasets.c.id == dataset_id)).mappings().first()
            return self._dataset_from_row(conn, row) if row else None

    def dataset_row(self, dataset_id: str) -> dict | None:
        """The raw row of a dataset (slug, deleted, created_at ...)."""
        with self._tx() as conn:
            row = conn.execute(sa.select(m.datasets).where(m.datasets.c.id == dataset_id)).mappings().first()
        return dict(row) if row else None

    def find_by_remote_id(
        self, kind: str, remote_id: str, *, any_source: bool, domain: str | None = None, source_id: str | None = None
    ) -> str | None:
        """The id of the dataset (or dataservice) harvested under this remote id (spec 1.5)."""
        t = m.datasets if kind == "dataset" else m.dataservices
        query = sa.select(t.c.id).where(t.c.harvest_remote_id == remote_id)
        if not any_source:
            conditions = []
            if domain:
                conditions.append(t.c.harvest_domain == domain)
            if source_id:
                conditions.append(t.c.harvest_source_id == source_id)
            if not conditions:
                return None
            query = query.where(sa.or_(*conditions))
        # The live record first, then the oldest: the one users already know.
        query = query.order_by(t.c.deleted.is_not(None), t.c.created_at).limit(1)
        with self._tx() as conn:
            return conn.execute(query).scalar()

    def save_dataset(self, dataset: DatasetRecord) -> str:
        """Insert or update a dataset with its resources and contact points; return its id."""
        for attempt in range(3):
            try:
                return self._save_dataset(dataset)
            except sa.exc.IntegrityError:
                # Two workers gave the same new slug at once: the loser retries with the next free one.
                if self._connection is not None or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _save_dataset(self, dataset: DatasetRecord) -> str:
        now = utcnow()
        with self._tx() as conn:
            exists = dataset.id is not None and conn.execute(
                sa.select(m.datasets.c.id).where(m.datasets.c.id == dataset.id)
            ).first()
            dataset.id = dataset.id or new_id()
            meta = dataset.harvest or HarvestMetadata()
            values = {
                "title": dataset.title,
                "description": dataset.description or "",
                "acronym": dataset.acronym,
                "tags": list(dataset.tags or []),
                "frequency": dataset.frequency,
                "temporal_coverage": jsonable(dataset.temporal_coverage),
                "spatial": jsonable(dataset.spatial),
                "license": dataset.license,
                "schema": jsonable(dataset.schema),
                "access_type": dataset.access_type,
                "access_type_reason_category": dataset.access_type_reason_category,
                "extras": jsonable(dataset.extras or {}),
                "harvest": harvest_to_json(dataset.harvest),
                "harvest_source_id": meta.source_id,
                "harvest_remote_id": meta.remote_id,
                "harvest_domain": meta.domain,
                "harvest_last_update": meta.last_update,
                "archived": dataset.archived,
                "private": dataset.private,
                "organization": dataset.organization,
                "owner": dataset.owner,
                "last_modified": now,
            }
            if exists:
                conn.execute(m.datasets.update().where(m.datasets.c.id == dataset.id).values(**values))
            else:
                slug = self._unique_slug(conn, m.datasets, dataset.title or dataset.id)
                conn.execute(m.datasets.insert().values(id=dataset.id, slug=slug, created_at=now, **values))
            self._save_resources(conn, dataset)
            self._save_contacts(conn, m.dataset_contact_points, "dataset_id", dataset.id, dataset.contact_points)
        return dataset.id

    def _save_resources(self, conn: sa.Connection, dataset: DatasetRecord) -> None:
        conn.execute(m.resources.delete().where(m.resources.c.dataset_id == dataset.id))
        rows, seen = [], set()
        for position, res in enumerate(dataset.resources):
            if not res.id or res.id in seen:
                res.id = new_id()
            seen.add(res.id)
            rows.append(
                {
                    "id": res.id,
                    "dataset_id": dataset.id,
                    "position": position,
                    "url": res.url,
                    "title": res.title or "",
                    "description": res.description or "",
                    "format": res.format,
                    "mime": res.mime,
                    "filesize": res.filesize,
                    "filetype": res.filetype,
                    "type": res.type,
                    "checksum": asdict(res.checksum) if res.checksum else None,
                    "schema": jsonable(res.schema),
                    "extras": jsonable(res.extras or {}),
                    "harvest": jsonable(res.harvest or {}) or None,
                }
            )
        if rows:
            conn.execute(m.resources.insert(), rows)

    def list_datasets(self, *, source_id: str | None = None, include_deleted: bool = False) -> list[DatasetRecord]:
        """Datasets (of one source when given), by title."""
        query = sa.select(m.datasets).order_by(m.datasets.c.title, m.datasets.c.id)
        if source_id:
            query = query.where(m.datasets.c.harvest_source_id == source_id)
        if not include_deleted:
            query = query.where(m.datasets.c.deleted.is_(None))
        with self._tx() as conn:
            return [self._dataset_from_row(conn, row) for row in conn.execute(query).mappings()]

    def count(self, kind: str) -> int:
        """How many rows a catalogue table holds (datasets, resources, dataservices, jobs ...)."""
        table = {
            "datasets": m.datasets,
            "resources": m.resources,
            "dataservices": m.dataservices,
            "jobs": m.jobs,
            "items": m.items,
            "sources": m.sources,
            "contact_points": m.contact_points,
            "licenses": m.licenses,
        }[kind]
        with self._tx() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0

    def set_dataset_fields(self, dataset_id: str, **values: Any) -> None:
        """Change raw columns of a dataset (archived, deleted, harvest ...)."""
        with self._tx() as conn:
            conn.execute(m.datasets.update().where(m.datasets.c.id == dataset_id).values(**values))

    def set_dataservice_fields(self, dataservice_id: str, **values: Any) -> None:
        """Change raw columns of a dataservice."""
        with self._tx() as conn:
            conn.execute(m.dataservices.update().where(m.dataservices.c.id == dataservice_id).values(**values))

    def detach_dataset(self, dataset_id: str) -> None:
        """Forget where a dataset came from: its and its resources' harvest metadata."""
        with self._tx() as conn:
            conn.execute(
                m.datasets.update()
                .where(m.datasets.c.id == dataset_id)
                .values(harvest=None, harvest_source_id=None, harvest_remote_id=None, harvest_domain=None,
                        harvest_last_update=None)
            )
            conn.execute(m.resources.update().where(m.resources.c.dataset_id == dataset_id).values(harvest=None))

    def records_of_source(self, kind: str, source_id: str) -> list[dict]:
        """Raw rows (id, remote id, last update, archive state) of a source's datasets or dataservices."""
        t = m.datasets if kind == "dataset" else m.dataservices
        archived = t.c.archived if kind == "dataset" else t.c.archived_at
        query = sa.select(
            t.c.id, t.c.harvest_remote_id, t.c.harvest_last_update, t.c.harvest, archived.label("archived")
        ).where(t.c.harvest_source_id == source_id, t.c.deleted.is_(None))
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # --- dataservices
    def get_dataservice(self, dataservice_id: str) -> DataserviceRecord | None:
        """The dataservice with this id, with the ids of the datasets it serves."""
        with self._tx() as conn:
            row = conn.execute(
                sa.select(m.dataservices).where(m.dataservices.c.id == dataservice_id)
            ).mappings().first()
            if row is None:
                return None
            dataset_ids = list(
                conn.execute(
                    sa.select(m.dataservice_datasets.c.dataset_id).where(
                        m.dataservice_datasets.c.dataservice_id == dataservice_id
                    ).order_by(m.dataservice_datasets.c.dataset_id)
                ).scalars()
            )
            return DataserviceRecord(
                id=row["id"],
                title=row["title"],
                description=row["description"],
                base_api_url=row["base_api_url"],
                machine_documentation_url=row["machine_documentation_url"],
                contact_points=self._load_contacts(
                    conn, m.dataservice_contact_points, m.dataservice_contact_points.c.dataservice_id, row["id"]
                ),
                license=row["license"],
                tags=list(row["tags"] or []),
                datasets=dataset_ids,
                extras=dict(row["extras"] or {}),
                harvest=harvest_from_json(row["harvest"]),
                archived_at=row["archived_at"],
                organization=row["organization"],
                owner=row["owner"],
            )

    def save_dataservice(self, service: DataserviceRecord) -> str:
        """Insert or update a dataservice and its served datasets; return its id."""
        now = utcnow()
        with self._tx() as conn:
            exists = service.id is not None and conn.execute(
                sa.select(m.dataservices.c.id).where(m.dataservices.c.id == service.id)
            ).first()
            service.id = service.id or new_id()
            meta = service.harvest or HarvestMetadata()
            values = {
                "title": service.title,
                "description": service.description or "",
                "base_api_url": service.base_api_url,
                "machine_documentation_url": service.machine_documentation_url,
                "license": service.license,
                "tags": list(service.tags or []),
                "extras": jsonable(service.extras or {}),
                "harvest": harvest_to_json(service.harvest),
                "harvest_source_id": meta.source_id,
                "harvest_remote_id": meta.remote_id,
                "harvest_domain": meta.domain,
                "harvest_last_update": meta.last_update,
                "archived_at": service.archived_at,
                "organization": service.organization,
                "owner": service.owner,
                "last_modified": now,
            }
            if exists:
                conn.execute(m.dataservices.update().where(m.dataservices.c.id == service.id).values(**values))
            else:
                conn.execute(m.dataservices.insert().values(id=service.id, created_at=now, **values))
            conn.execute(m.dataservice_datasets.delete().where(m.dataservice_datasets.c.dataservice_id == service.id))
            known = set(
                conn.execute(sa.select(m.datasets.c.id).where(m.datasets.c.id.in_(list(service.datasets)))).scalars()
            )
            links = [{"dataservice_id": service.id, "dataset_id": d} for d in dict.fromkeys(service.datasets) if d in known]
            if links:
                conn.execute(m.dataservice_datasets.insert(), links)
            self._save_contacts(
                conn, m.dataservice_contact_points, "dataservice_id", service.id, service.contact_points
            )
        return service.id

    def list_dataservices(self, *, source_id: str | None = None) -> list[DataserviceRecord]:
        """Dataservices (of one source when given), by title."""
        query = sa.select(m.dataservices.c.id).order_by(m.dataservices.c.title)
        if source_id:
            query = query.where(m.dataservices.c.harvest_source_id == source_id)
        with self._tx() as conn:
            ids = list(conn.execute(query).scalars())
        return [s for s in (self.get_dataservice(i) for i in ids) if s is not None]
