"""The harvest catalogue: sources, jobs, items, datasets, resources, dataservices, contacts and licences."""

from __future__ import annotations

import json
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from dataspace_assets.errors import DataspaceError
from dataspace_assets.harvest.catalog import models as m
from dataspace_assets.harvest.catalog.clean import clean_value
from dataspace_assets.harvest.catalog.entities import (
    FINAL_JOB_STATUSES,
    ITEM_STATUSES,
    HarvestItem,
    HarvestJob,
    HarvestSource,
    ItemOutcome,
    new_id,
    utcnow,
)
from dataspace_assets.harvest.records import (
    Checksum,
    ContactPoint,
    DataserviceRecord,
    DatasetRecord,
    HarvestMetadata,
    ResourceRecord,
)
from dataspace_assets.harvest.slugs import slugify
from dataspace_assets.storage.database import create_engine

SLUG_PROBE_WINDOW = 16  # suffixes probed per query when a slug is taken
IN_BATCH = 500  # values per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


def _batches(values: Sequence[Any], size: int = IN_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def slug_base(text: str) -> str:
    """The slug a text gives before de-duplication."""
    # Truncate ourselves: this python-slugify keeps upper case when given max_length.
    return slugify(text)[:240].strip("-") or "item"


def _parse_dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


_PLAIN = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """Dates and datetimes to ISO strings, recursively, for JSON columns."""
    kind = type(value)
    if kind in _PLAIN:  # most values: checked by exact type first (the store's hot path)
        return value
    if kind is dict:
        return {k: (v if type(v) in _PLAIN else jsonable(v)) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _PLAIN else jsonable(v) for v in value]
    return value


_HARVEST_DT = {f.name for f in fields(HarvestMetadata) if "datetime" in str(f.type)}
_HARVEST_FIELDS = tuple(f.name for f in fields(HarvestMetadata))


def harvest_to_json(meta: HarvestMetadata | None) -> dict | None:
    """HarvestMetadata as a JSON column value."""
    if meta is None:
        return None
    # Flat fields: reading them directly spares asdict's recursive deep copies (a hot path).
    values = ((name, getattr(meta, name)) for name in _HARVEST_FIELDS)
    return {k: (v.isoformat() if isinstance(v, datetime) else jsonable(v)) for k, v in values if v is not None}


def harvest_from_json(data: dict | None) -> HarvestMetadata:
    """HarvestMetadata from a JSON column value (unknown keys ignored)."""
    known = {f.name for f in fields(HarvestMetadata)}
    values = {k: (_parse_dt(v) if k in _HARVEST_DT else v) for k, v in (data or {}).items() if k in known}
    return HarvestMetadata(**values)


def _temporal_from_json(data: dict | None) -> dict | None:
    if not data:
        return None
    return {k: (date.fromisoformat(v) if isinstance(v, str) else v) for k, v in data.items()}


def json_text(value: Any) -> str:
    """A JSON column value as the text SQLAlchemy would store (orjson: ~10x faster than json.dumps)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, ValueError):  # what orjson refuses (e.g. integers beyond 64 bits): json's own answer
        return json.dumps(value)


_Encoder = Callable[[Any], Any] | None
_ENCODERS: dict[tuple[str, str], dict[str, _Encoder]] = {}
_LIGHT: dict[tuple[str, tuple[str, ...]], sa.TableClause] = {}


def _encoders(dialect: sa.Dialect, table: sa.Table) -> dict[str, _Encoder]:
    """Column -> the function turning a Python value into what the driver receives (None: as is), per dialect."""
    key = (dialect.name, table.name)
    found = _ENCODERS.get(key)
    if found is None:
        found = {
            c.name: json_text if isinstance(c.type, sa.JSON) else c.type.dialect_impl(dialect).bind_processor(dialect)
            for c in table.columns
        }
        _ENCODERS[key] = found
    return found


def _light(table: sa.Table, columns: tuple[str, ...]) -> sa.TableClause:
    """The table with untyped columns: statements on it bind pre-encoded values as they are."""
    key = (table.name, columns)
    found = _LIGHT.get(key)
    if found is None:
        found = _LIGHT[key] = sa.table(table.name, *(sa.column(c) for c in columns))
    return found


def _encoded(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: Sequence[dict]) -> list[tuple]:
    """The rows' values in column order, each encoded once by its column's own bind processor.

    SQLAlchemy's per-row, per-value processing of an executemany is most of a chunk's store time; the encoded
    values are the very ones it would bind (same text, same datetime form), on SQLite and PostgreSQL alike.
    """
    encoders = _encoders(conn.dialect, table)
    pairs = [(c, encoders.get(c)) for c in columns]
    return [tuple([row[c] if e is None else e(row[c]) for c, e in pairs]) for row in rows]


def _executemany(conn: sa.Connection, statement: str, light: sa.Executable, keys: tuple[str, ...], values: list[tuple]) -> None:
    """Run one statement for every row of encoded values: the DBAPI's executemany on SQLite, else SQLAlchemy's.

    SQLite's executemany is a C loop; SQLAlchemy would rebuild a parameter set per row first. psycopg2's is
    a round trip per row, so PostgreSQL keeps SQLAlchemy's batched "insertmanyvalues" on the untyped table.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(statement, values)  # errors still come as SQLAlchemy's (IntegrityError ...)
    else:
        conn.execute(light, [dict(zip(keys, row)) for row in values])


def _insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Insert rows (every row with the same keys) in one executemany of pre-encoded values."""
    if not rows:
        return
    columns = tuple(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    statement = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) VALUES ({', '.join('?' * len(columns))})"
    _executemany(conn, statement, _light(table, columns).insert(), columns, _encoded(conn, table, columns, rows))


def _update_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Update rows by id (key "b_id"; every row with the same keys) in one executemany of pre-encoded values."""
    if not rows:
        return
    columns = tuple(k for k in rows[0] if k != "b_id")
    values = [(*encoded, row["b_id"]) for encoded, row in zip(_encoded(conn, table, columns, rows), rows)]
    quote = conn.dialect.identifier_preparer.quote
    statement = f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(c)} = ?' for c in columns)} WHERE id = ?"
    light = _light(table, (*columns, "id"))  # "id" is in no row's values: it is not SET
    _executemany(conn, statement, light.update().where(light.c.id == sa.bindparam("b_id")), (*columns, "b_id"), values)


class Catalog:
    """The catalogue database; every write goes through here."""

    def __init__(self, engine: sa.Engine, *, connection: sa.Connection | None = None) -> None:
        self.engine = engine
        self._connection = connection  # bound connection: writes join its transaction (previews)
        self._licenses: Any = None  # the licence registry, built on first use
        self._license_ids: set[str] | None = None

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
    def _batch(self) -> Iterator[sa.Connection]:
        """One transaction in which savepoints work, for a chunk of writes (SQLite: BEGIN IMMEDIATE)."""
        if self._connection is not None:
            conn = self._connection
            self._begin_sqlite(conn, "BEGIN")
            with conn.begin_nested():
                yield conn
            return
        with self.engine.connect() as conn, conn.begin():
            # pysqlite opens its transaction lazily, so a leading SAVEPOINT would become the outer
            # transaction and its RELEASE would commit; an explicit BEGIN IMMEDIATE also takes the write
            # lock up front, so concurrent workers wait (busy timeout) instead of failing to upgrade.
            self._begin_sqlite(conn, "BEGIN IMMEDIATE")
            yield conn

    @staticmethod
    def _begin_sqlite(conn: sa.Connection, statement: str) -> None:
        if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql(statement)

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
        self._licenses, self._license_ids = None, None
        return len(rows)

    def license_ids(self) -> set[str]:
        """Ids of every licence in the registry table."""
        if self._license_ids is None:
            with self._tx() as conn:
                self._license_ids = set(conn.execute(sa.select(m.licenses.c.id)).scalars())
        return set(self._license_ids)

    def license_registry(self):
        """The licence registry built from the table rows (built once per catalogue: licences only change by seeding)."""
        if self._licenses is None:
            self._licenses = self._build_license_registry()
        return self._licenses

    def _build_license_registry(self):
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
        return self._unique_slugs(conn, table, [text], exclude_id=exclude_id)[0]

    def _taken_slugs(
        self, conn: sa.Connection, table: sa.Table, slugs: Iterable[str], exclude_id: str | None = None
    ) -> set[str]:
        taken: set[str] = set()
        for batch in _batches(sorted(set(slugs))):
            query = sa.select(table.c.slug).where(table.c.slug.in_(list(batch)))
            if exclude_id:
                query = query.where(table.c.id != exclude_id)
            taken.update(conn.execute(query).scalars())
        return taken

    def _unique_slugs(
        self, conn: sa.Connection, table: sa.Table, texts: Sequence[str], exclude_id: str | None = None
    ) -> list[str]:
        """Free slugs for these texts: the base, else base-1, base-2 ... (one query when all bases are free)."""
        bases = [slug_base(t) for t in texts]
        need = Counter(bases)
        taken = self._taken_slugs(conn, table, need, exclude_id)
        free: dict[str, list[str]] = {}
        for base in need:
            free[base] = [] if base in taken else [base]
            need[base] -= len(free[base])
        start = dict.fromkeys(need, 1)
        while any(n > 0 for n in need.values()):
            # Equality probes, not LIKE or ranges: they use the unique index under any collation.
            candidates = {
                b: [f"{b}-{i}" for i in range(start[b], start[b] + n + SLUG_PROBE_WINDOW)]
                for b, n in need.items()
                if n > 0
            }
            taken = self._taken_slugs(conn, table, (c for cs in candidates.values() for c in cs), exclude_id)
            for base, cs in candidates.items():
                got = [c for c in cs if c not in taken and c not in need][: need[base]]
                free[base].extend(got)
                need[base] -= len(got)
                start[base] += len(cs)
        picks = {b: iter(v) for b, v in free.items()}
        return [next(picks[b]) for b in bases]

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
            entry = clean_value({"message": message, "details": details})  # storable on PostgreSQL too
            errors = [*errors, {**entry, "created_at": utcnow().isoformat()}]
            conn.execute(m.jobs.update().where(m.jobs.c.id == job_id).values(errors=errors))

    def get_job(self, job_id: str) -> HarvestJob | None:
        """The job with this id."""
        with self._tx() as conn:
            row = conn.execute(sa.select(m.jobs).where(m.jobs.c.id == job_id)).mappings().first()
        return HarvestJob(**row) if row else None

    def list_jobs(self, source_id: str, *, limit: int | None = None) -> list[HarvestJob]:
        """The source's jobs, newest first."""
        query = sa.select(m.jobs).where(m.jobs.c.source_id == source_id).order_by(m.jobs.c.created.desc())
        if limit is not None and limit < 0:  # PostgreSQL refuses a negative LIMIT, SQLite reads it as none
            raise DataspaceError(f"the job limit must be 0 or more (got {limit})")
        if limit:
            query = query.limit(limit)
        with self._tx() as conn:
            return [HarvestJob(**row) for row in conn.execute(query).mappings()]

    def delete_jobs_before(self, cutoff: datetime) -> int:
        """Remove jobs created before the cutoff (with their items), never a source's latest job; return how many."""
        newest = (
            sa.select(m.jobs.c.source_id, sa.func.max(m.jobs.c.created).label("created"))
            .group_by(m.jobs.c.source_id)
            .subquery()
        )
        kept = sa.select(m.jobs.c.id).join(
            newest, sa.and_(newest.c.source_id == m.jobs.c.source_id, newest.c.created == m.jobs.c.created)
        )
        with self._tx() as conn:
            ids = list(
                conn.execute(
                    sa.select(m.jobs.c.id).where(m.jobs.c.created < cutoff, m.jobs.c.id.not_in(kept))
                ).scalars()
            )
            if ids:
                conn.execute(m.items.delete().where(m.items.c.job_id.in_(ids)))
                conn.execute(m.jobs.delete().where(m.jobs.c.id.in_(ids)))
        return len(ids)

    # --- source locks: one run at a time per source
    def claim_source(self, source_id: str, run_id: str) -> dict | None:
        """Take the source for this run; return None when taken, else the lock of the run that holds it."""
        try:
            with self._tx() as conn:
                conn.execute(m.source_locks.insert().values(source_id=source_id, run_id=run_id, claimed_at=utcnow()))
            return None
        except sa.exc.IntegrityError:
            holder = self.source_lock(source_id)
            if holder is None:  # released in between: try once more
                return self.claim_source(source_id, run_id)
            return holder

    def source_lock(self, source_id: str) -> dict | None:
        """The lock on a source (run_id, job_id, claimed_at), if a run holds it."""
        with self._tx() as conn:
            row = conn.execute(sa.select(m.source_locks).where(m.source_locks.c.source_id == source_id)).mappings().first()
        return dict(row) if row else None

    def source_locks(self, source_id: str | None = None) -> list[dict]:
        """Every lock (of one source when given)."""
        query = sa.select(m.source_locks)
        if source_id:
            query = query.where(m.source_locks.c.source_id == source_id)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def set_lock_job(self, source_id: str, run_id: str, job_id: str) -> None:
        """Record the job the lock holder created."""
        with self._tx() as conn:
            conn.execute(
                m.source_locks.update()
                .where(m.source_locks.c.source_id == source_id, m.source_locks.c.run_id == run_id)
                .values(job_id=job_id)
            )

    def release_source(self, source_id: str, run_id: str) -> None:
        """Give the source back (only the run that holds it can)."""
        with self._tx() as conn:
            conn.execute(
                m.source_locks.delete().where(m.source_locks.c.source_id == source_id, m.source_locks.c.run_id == run_id)
            )

    def request_launch(self, source_id: str, max_items: int | None = None) -> int:
        """Ask the harvest sensor for a run of this source; return the request's number."""
        with self._tx() as conn:
            result = conn.execute(
                m.launch_requests.insert().values(source_id=source_id, requested_at=utcnow(), max_items=max_items)
            )
            return int(result.inserted_primary_key[0])

    def take_launch_requests(self) -> list[dict]:
        """The pending launch requests, oldest first, removed from the table."""
        with self._tx() as conn:
            rows = [dict(r) for r in conn.execute(sa.select(m.launch_requests).order_by(m.launch_requests.c.id)).mappings()]
            if rows:
                conn.execute(m.launch_requests.delete().where(m.launch_requests.c.id.in_([r["id"] for r in rows])))
        return rows

    def open_jobs(self, source_id: str | None = None) -> list[HarvestJob]:
        """Jobs not finished yet (of one source when given), oldest first."""
        query = sa.select(m.jobs).where(m.jobs.c.status.not_in(FINAL_JOB_STATUSES)).order_by(m.jobs.c.created)
        if source_id:
            query = query.where(m.jobs.c.source_id == source_id)
        with self._tx() as conn:
            return [HarvestJob(**row) for row in conn.execute(query).mappings()]

    def close_dead_job(self, job_id: str, message: str) -> None:
        """Fail a job whose run died, and every item it left unfinished, with the reason."""
        now = utcnow()
        error = {"message": message, "details": None, "created_at": now.isoformat()}
        with self._tx() as conn:
            conn.execute(
                m.items.update()
                .where(m.items.c.job_id == job_id, m.items.c.status.in_(("pending", "started")))
                .values(status="failed", errors=[error], ended=now)
            )
            errors = conn.execute(sa.select(m.jobs.c.errors).where(m.jobs.c.id == job_id)).scalar() or []
            conn.execute(m.jobs.update().where(m.jobs.c.id == job_id).values(status="failed", ended=now, errors=[*errors, error]))
        self.recount_job(job_id)

    def add_items(self, job_id: str, rows: Sequence[dict]) -> None:
        """Append items to a job (rows of remote_id, kind, kwargs, status, errors)."""
        if not rows:
            return
        with self._tx() as conn:
            start = conn.execute(sa.select(sa.func.count()).where(m.items.c.job_id == job_id)).scalar() or 0
            now = utcnow()
            _insert_rows(
                conn,
                m.items,
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

    def item_ids(self, job_id: str, *, status: str | None = None, kind: str | None = None) -> list[int]:
        """Ids of a job's items in listing order, optionally by status or kind (no row is loaded)."""
        query = sa.select(m.items.c.id).where(m.items.c.job_id == job_id).order_by(m.items.c.seq)
        if status:
            query = query.where(m.items.c.status == status)
        if kind:
            query = query.where(m.items.c.kind == kind)
        with self._tx() as conn:
            return list(conn.execute(query).scalars())

    def update_item(self, item_id: int, **values: Any) -> None:
        """Change fields of an item."""
        with self._tx() as conn:
            conn.execute(m.items.update().where(m.items.c.id == item_id).values(**values))

    def rename_items(self, remote_ids: dict[int, str]) -> None:
        """Give items new remote ids (item id -> remote id) in one statement."""
        if not remote_ids:
            return
        with self._tx() as conn:
            conn.execute(
                m.items.update().where(m.items.c.id == sa.bindparam("b_id")),
                [{"b_id": item_id, "remote_id": remote_id} for item_id, remote_id in remote_ids.items()],
            )

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
    def _contact_ids(self, conn: sa.Connection, contacts: Iterable[ContactPoint]) -> dict[tuple, str]:
        """Ids of these contact points by (name, email, url), the missing ones created (one query per 500 names)."""
        t = m.contact_points
        keys = list(dict.fromkeys((c.name, c.email, c.url) for c in contacts if c.name))
        found: dict[tuple, str] = {}
        for batch in _batches(sorted({k[0] for k in keys})):
            query = sa.select(t.c.id, t.c.name, t.c.email, t.c.url).where(t.c.name.in_(list(batch))).order_by(t.c.id)
            for row in conn.execute(query):
                found.setdefault((row.name, row.email, row.url), row.id)
        missing = [{"id": new_id(), "name": n, "email": e, "url": u} for n, e, u in keys if (n, e, u) not in found]
        if missing:
            _insert_rows(conn, t, missing)
            found.update({(r["name"], r["email"], r["url"]): r["id"] for r in missing})
        return found

    def _load_contacts(self, conn: sa.Connection, link: sa.Table, key: sa.Column, record_id: str) -> list[ContactPoint]:
        return self._load_contacts_many(conn, link, key, [record_id]).get(record_id, [])

    def _load_contacts_many(
        self, conn: sa.Connection, link: sa.Table, key: sa.Column, record_ids: Sequence[str]
    ) -> dict[str, list[ContactPoint]]:
        out: dict[str, list[ContactPoint]] = {}
        for batch in _batches(list(record_ids)):
            rows = conn.execute(
                sa.select(m.contact_points, link.c.role, key.label("owner_id"))
                .join(link, link.c.contact_point_id == m.contact_points.c.id)
                .where(key.in_(list(batch)))
                .order_by(key, link.c.position)
            ).mappings()
            for r in rows:
                out.setdefault(r["owner_id"], []).append(
                    ContactPoint(name=r["name"], email=r["email"], url=r["url"], role=r["role"])
                )
        return out

    def _save_contacts(
        self,
        conn: sa.Connection,
        link: sa.Table,
        key_name: str,
        owners: Sequence[tuple[str, list[ContactPoint]]],
        *,
        replace: Sequence[str],
    ) -> None:
        """Link each record to its contact points (the links of `replace` records are rewritten)."""
        for batch in _batches(list(replace)):
            conn.execute(link.delete().where(link.c[key_name].in_(list(batch))))
        ids = self._contact_ids(conn, (c for _, contacts in owners for c in contacts))
        rows: list[dict] = []
        for record_id, contacts in owners:
            seen: set[tuple] = set()
            for contact in contacts:
                if not contact.name:
                    continue
                cid = ids[(contact.name, contact.email, contact.url)]
                if (cid, contact.role) in seen:
                    continue
                seen.add((cid, contact.role))
                rows.append(
                    {key_name: record_id, "position": len(seen) - 1, "contact_point_id": cid, "role": contact.role}
                )
        _insert_rows(conn, link, rows)

    def count_contact_points(self) -> int:
        """How many contact points are stored."""
        with self._tx() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(m.contact_points)).scalar() or 0

    # --- datasets
    @staticmethod
    def _resource_from_row(r: Any) -> ResourceRecord:
        return ResourceRecord(
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

    def _datasets_from_rows(self, conn: sa.Connection, rows: Sequence[Any]) -> list[DatasetRecord]:
        """Records of these dataset rows, their resources and contacts loaded in two queries per 500."""
        ids = [row["id"] for row in rows]
        resources: dict[str, list[ResourceRecord]] = {}
        for batch in _batches(ids):
            query = (
                sa.select(m.resources)
                .where(m.resources.c.dataset_id.in_(list(batch)))
                .order_by(m.resources.c.dataset_id, m.resources.c.position)
            )
            for r in conn.execute(query).mappings():
                resources.setdefault(r["dataset_id"], []).append(self._resource_from_row(r))
        contacts = self._load_contacts_many(conn, m.dataset_contact_points, m.dataset_contact_points.c.dataset_id, ids)
        return [
            DatasetRecord(
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
                contact_points=contacts.get(row["id"], []),
                access_type=row["access_type"],
                access_type_reason_category=row["access_type_reason_category"],
                resources=resources.get(row["id"], []),
                extras=dict(row["extras"] or {}),
                harvest=harvest_from_json(row["harvest"]),
                archived=row["archived"],
                organization=row["organization"],
                owner=row["owner"],
                private=bool(row["private"]),
            )
            for row in rows
        ]

    def get_dataset(self, dataset_id: str) -> DatasetRecord | None:
        """The dataset with this id, with its resources and contact points."""
        return self.get_datasets([dataset_id]).get(dataset_id)

    def get_datasets(self, dataset_ids: Iterable[str]) -> dict[str, DatasetRecord]:
        """These datasets by id (the missing ones left out), with their resources and contact points."""
        out: dict[str, DatasetRecord] = {}
        ids = sorted(set(dataset_ids))
        if not ids:
            return out
        with self._tx() as conn:
            for batch in _batches(ids):
                rows = conn.execute(sa.select(m.datasets).where(m.datasets.c.id.in_(list(batch)))).mappings().all()
                out.update((d.id, d) for d in self._datasets_from_rows(conn, rows))
        return out

    def dataset_row(self, dataset_id: str) -> dict | None:
        """The raw row of a dataset (slug, deleted, created_at ...)."""
        with self._tx() as conn:
            row = conn.execute(sa.select(m.datasets).where(m.datasets.c.id == dataset_id)).mappings().first()
        return dict(row) if row else None

    def find_by_remote_id(
        self, kind: str, remote_id: str, *, any_source: bool, domain: str | None = None, source_id: str | None = None
    ) -> str | None:
        """The id of the dataset (or dataservice) harvested under this remote id (spec 1.5)."""
        found = self.find_by_remote_ids(
            kind, [remote_id], any_source=lambda _: any_source, domain=domain, source_id=source_id
        )
        return found.get(remote_id)

    def find_by_remote_ids(
        self,
        kind: str,
        remote_ids: Sequence[str | None],
        *,
        any_source: Callable[[str], bool],
        domain: str | None = None,
        source_id: str | None = None,
    ) -> dict[str, str]:
        """Remote id -> id of the dataset (or dataservice) harvested under it, one query per 500 (spec 1.5).

        A remote id for which `any_source` is true matches in any source; the others only within this
        domain or this source.
        """
        t = m.datasets if kind == "dataset" else m.dataservices
        scope = []
        if domain:
            scope.append(t.c.harvest_domain == domain)
        if source_id:
            scope.append(t.c.harvest_source_id == source_id)
        found: dict[str, str] = {}
        with self._tx() as conn:
            for batch in _batches(list(dict.fromkeys(r for r in remote_ids if r))):
                shared = [r for r in batch if any_source(r)]
                scoped = [r for r in batch if not any_source(r)]
                conditions = []
                if shared:
                    conditions.append(t.c.harvest_remote_id.in_(shared))
                if scoped and scope:
                    conditions.append(sa.and_(t.c.harvest_remote_id.in_(scoped), sa.or_(*scope)))
                if not conditions:
                    continue
                # The live record first, then the oldest: the one users already know.
                query = (
                    sa.select(t.c.id, t.c.harvest_remote_id)
                    .where(sa.or_(*conditions))
                    .order_by(t.c.deleted.is_not(None), t.c.created_at)
                )
                for record_id, remote_id in conn.execute(query):
                    found.setdefault(remote_id, record_id)
        return found

    def save_dataset(self, dataset: DatasetRecord) -> str:
        """Insert or update a dataset with its resources and contact points; return its id."""
        for attempt in range(3):
            try:
                with self._tx() as conn:
                    self._write_datasets(conn, [dataset])
                assert dataset.id is not None
                return dataset.id
            except sa.exc.IntegrityError:
                # Two workers gave the same new slug at once: the loser retries with the next free one.
                if self._connection is not None or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _dataset_values(dataset: DatasetRecord, now: datetime) -> dict:
        meta = dataset.harvest or HarvestMetadata()
        return {
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

    def _write_datasets(self, conn: sa.Connection, datasets: Sequence[DatasetRecord]) -> None:
        """Insert or update these datasets, resources and contacts with a handful of statements for all."""
        now = utcnow()
        existing: set[str] = set()
        for batch in _batches([d.id for d in datasets if d.id]):
            existing.update(conn.execute(sa.select(m.datasets.c.id).where(m.datasets.c.id.in_(list(batch)))).scalars())
        new = [d for d in datasets if d.id not in existing]
        for dataset in new:
            dataset.id = dataset.id or new_id()
        slugs = self._unique_slugs(conn, m.datasets, [d.slug or d.title or d.id or "" for d in new])
        _insert_rows(
            conn,
            m.datasets,
            [{"id": d.id, "slug": slug, "created_at": now, **self._dataset_values(d, now)} for d, slug in zip(new, slugs)],
        )
        updated = [d.id for d in datasets if d.id in existing]
        if updated:
            _update_rows(
                conn, m.datasets, [{"b_id": d.id, **self._dataset_values(d, now)} for d in datasets if d.id in existing]
            )
            for batch in _batches(updated):
                conn.execute(m.resources.delete().where(m.resources.c.dataset_id.in_(list(batch))))
        _insert_rows(conn, m.resources, [row for d in datasets for row in self._resource_rows(d)])
        owners = [(d.id, d.contact_points) for d in datasets if d.id]
        self._save_contacts(conn, m.dataset_contact_points, "dataset_id", owners, replace=updated)

    @staticmethod
    def _resource_rows(dataset: DatasetRecord) -> list[dict]:
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
        return rows

    # --- storing a chunk of harvested items
    def store_outcomes(self, outcomes: Sequence[ItemOutcome]) -> None:
        """Store a chunk's records and item statuses in one transaction; a record that cannot be stored fails its item only."""
        if not outcomes:
            return
        with self._batch() as conn:
            datasets = [o for o in outcomes if o.record is not None and o.kind == "dataset"]
            self._store_isolated(conn, datasets, lambda c, records: self._write_datasets(c, records))
            for outcome in outcomes:
                if outcome.record is not None and outcome.kind == "dataservice":
                    self._store_isolated(conn, [outcome], lambda c, records: self._write_dataservice(c, records[0]))
            self._finish_items(conn, outcomes)

    def _store_isolated(
        self,
        conn: sa.Connection,
        outcomes: Sequence[ItemOutcome],
        write: Callable[[sa.Connection, list], None],
    ) -> None:
        """Write the records together; if that fails, each in its own savepoint, failing only the bad ones."""
        if not outcomes:
            return
        if len(outcomes) > 1:
            try:
                with conn.begin_nested():
                    write(conn, [o.record for o in outcomes])
                return
            except Exception:  # noqa: BLE001 - some record cannot be stored: find which, one by one
                pass
        for outcome in outcomes:
            for attempt in (1, 2):
                try:
                    with conn.begin_nested():
                        write(conn, [outcome.record])
                    break
                except Exception as exc:  # noqa: BLE001 - this item fails, the chunk goes on
                    # An IntegrityError may be a slug another worker took meanwhile: probe once more.
                    if attempt == 1 and isinstance(exc, sa.exc.IntegrityError) and self._connection is None:
                        continue
                    reason = getattr(exc, "orig", None) or exc
                    outcome.fail(f"could not store the {outcome.kind}: {reason}", traceback.format_exc())
                    break

    def _finish_items(self, conn: sa.Connection, outcomes: Sequence[ItemOutcome]) -> None:
        """Write every item's final status, errors and logs in one statement."""
        now = utcnow()
        rows = []
        for o in outcomes:
            record_id = o.record.id if o.record is not None and o.status == "done" else None
            rows.append(
                {
                    "b_id": o.item_id,
                    "status": o.status,
                    "errors": o.errors,
                    "logs": o.logs,
                    "started": o.started,
                    "ended": o.ended or now,
                    "remote_url": o.remote_url if record_id else None,
                    "dataset_id": record_id if o.kind != "dataservice" else None,
                    "dataservice_id": record_id if o.kind == "dataservice" else None,
                }
            )
        _update_rows(conn, m.items, rows)

    def list_datasets(self, *, source_id: str | None = None, include_deleted: bool = False) -> list[DatasetRecord]:
        """Datasets (of one source when given), by title."""
        query = sa.select(m.datasets).order_by(m.datasets.c.title, m.datasets.c.id)
        if source_id:
            query = query.where(m.datasets.c.harvest_source_id == source_id)
        if not include_deleted:
            query = query.where(m.datasets.c.deleted.is_(None))
        with self._tx() as conn:
            return self._datasets_from_rows(conn, conn.execute(query).mappings().all())

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

    def records_of_source(self, kind: str, source_id: str, *, updated_before: datetime | None = None) -> list[dict]:
        """Raw rows (id, remote id, last update, archive state) of a source's datasets or dataservices."""
        t = m.datasets if kind == "dataset" else m.dataservices
        archived = t.c.archived if kind == "dataset" else t.c.archived_at
        query = sa.select(
            t.c.id, t.c.harvest_remote_id, t.c.harvest_last_update, t.c.harvest, archived.label("archived")
        ).where(t.c.harvest_source_id == source_id, t.c.deleted.is_(None))
        if updated_before is not None:
            query = query.where(t.c.harvest_last_update < updated_before)
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
        with self._tx() as conn:
            self._write_dataservice(conn, service)
        assert service.id is not None
        return service.id

    def _write_dataservice(self, conn: sa.Connection, service: DataserviceRecord) -> None:
        now = utcnow()
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
        known: set[str] = set()
        for batch in _batches(list(dict.fromkeys(service.datasets))):
            known.update(conn.execute(sa.select(m.datasets.c.id).where(m.datasets.c.id.in_(list(batch)))).scalars())
        links = [{"dataservice_id": service.id, "dataset_id": d} for d in dict.fromkeys(service.datasets) if d in known]
        if links:
            conn.execute(m.dataservice_datasets.insert(), links)
        self._save_contacts(
            conn,
            m.dataservice_contact_points,
            "dataservice_id",
            [(service.id, service.contact_points)],
            replace=[service.id] if exists else [],
        )

    def list_dataservices(self, *, source_id: str | None = None) -> list[DataserviceRecord]:
        """Dataservices (of one source when given), by title."""
        query = sa.select(m.dataservices.c.id).order_by(m.dataservices.c.title)
        if source_id:
            query = query.where(m.dataservices.c.harvest_source_id == source_id)
        with self._tx() as conn:
            ids = list(conn.execute(query).scalars())
        return [s for s in (self.get_dataservice(i) for i in ids) if s is not None]
