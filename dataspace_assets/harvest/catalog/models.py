"""Tables of the harvest catalogue (SQLAlchemy Core) and the versioned migrations that create them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

import sqlalchemy as sa

metadata = sa.MetaData()


class UTCDateTime(sa.types.TypeDecorator):
    """Stores naive UTC and always hands back timezone-aware UTC, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite may hand back text for values written by other tools
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


ID = sa.String(32)  # uuid4 hex

schema_version = sa.Table(
    "harvest_schema_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

licenses = sa.Table(
    "licenses",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("url", sa.String(1000)),
    sa.Column("alternate_urls", sa.JSON, nullable=False, default=list),
    sa.Column("alternate_titles", sa.JSON, nullable=False, default=list),
)

sources = sa.Table(
    "harvest_sources",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("slug", sa.String(255), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("backend", sa.String(100), nullable=False),
    sa.Column("domain", sa.String(255), nullable=False),
    sa.Column("config", sa.JSON, nullable=False, default=dict),
    sa.Column("frequency", sa.String(20), nullable=False, default="manual"),
    sa.Column("schedule", sa.String(100)),  # cron expression, None = not scheduled
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("autoarchive", sa.Boolean, nullable=False, default=True),
    sa.Column("validation_state", sa.String(20), nullable=False, default="pending"),
    sa.Column("validation_by", sa.String(255)),
    sa.Column("validation_on", UTCDateTime),
    sa.Column("validation_comment", sa.Text),
    sa.Column("owner", sa.String(255)),
    sa.Column("organization", sa.String(255)),
    sa.Column("declared_in", sa.String(1000)),  # the configs/harvest/*.toml file that declares it
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("deleted", UTCDateTime),
)

jobs = sa.Table(
    "harvest_jobs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("source_id", ID, sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False, default="pending"),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("started", UTCDateTime),
    sa.Column("ended", UTCDateTime),
    sa.Column("max_items", sa.Integer),
    sa.Column("data", sa.JSON, nullable=False, default=dict),
    sa.Column("errors", sa.JSON, nullable=False, default=list),
    sa.Column("items_total", sa.Integer, nullable=False, default=0),
    sa.Column("items_by_status", sa.JSON, nullable=False, default=dict),
    sa.Column("items_by_type", sa.JSON, nullable=False, default=dict),
    sa.Column("dagster_run_id", sa.String(64)),
)

items = sa.Table(
    "harvest_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", ID, sa.ForeignKey("harvest_jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("remote_id", sa.String(2000)),
    sa.Column("remote_url", sa.String(2000)),
    sa.Column("kind", sa.String(20), nullable=False, default="dataset"),
    sa.Column("dataset_id", ID),
    sa.Column("dataservice_id", ID),
    sa.Column("status", sa.String(20), nullable=False, default="pending"),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("started", UTCDateTime),
    sa.Column("ended", UTCDateTime),
    sa.Column("errors", sa.JSON, nullable=False, default=list),
    sa.Column("logs", sa.JSON, nullable=False, default=list),
    sa.Column("kwargs", sa.JSON, nullable=False, default=dict),
)

contact_points = sa.Table(
    "contact_points",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("email", sa.String(500)),
    sa.Column("url", sa.String(2000)),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("slug", sa.String(255), nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("acronym", sa.String(255)),
    sa.Column("tags", sa.JSON, nullable=False, default=list),
    sa.Column("frequency", sa.String(50)),
    sa.Column("temporal_coverage", sa.JSON),
    sa.Column("spatial", sa.JSON),
    sa.Column("license", sa.String(100), sa.ForeignKey("licenses.id")),
    sa.Column("schema", sa.JSON),
    sa.Column("access_type", sa.String(50)),
    sa.Column("access_type_reason_category", sa.String(100)),
    sa.Column("extras", sa.JSON, nullable=False, default=dict),
    sa.Column("harvest", sa.JSON),  # spec 5.2, datetimes as ISO strings
    # Copies of the harvest keys the engine queries on (identity, autoarchive), indexed.
    sa.Column("harvest_source_id", ID, index=True),
    sa.Column("harvest_remote_id", sa.String(2000), index=True),
    sa.Column("harvest_domain", sa.String(255)),
    sa.Column("harvest_last_update", UTCDateTime),
    sa.Column("archived", UTCDateTime),
    sa.Column("deleted", UTCDateTime),
    sa.Column("private", sa.Boolean, nullable=False, default=False),
    sa.Column("organization", sa.String(255)),
    sa.Column("owner", sa.String(255)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_modified", UTCDateTime, nullable=False),
)

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("dataset_id", ID, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("format", sa.String(255)),
    sa.Column("mime", sa.String(255)),
    sa.Column("filesize", sa.BigInteger),
    sa.Column("filetype", sa.String(20), nullable=False, default="remote"),
    sa.Column("type", sa.String(20), nullable=False, default="main"),
    sa.Column("checksum", sa.JSON),
    sa.Column("schema", sa.JSON),
    sa.Column("extras", sa.JSON, nullable=False, default=dict),
    sa.Column("harvest", sa.JSON),
)

dataset_contact_points = sa.Table(
    "dataset_contact_points",
    metadata,
    sa.Column("dataset_id", ID, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("contact_point_id", ID, sa.ForeignKey("contact_points.id"), nullable=False),
    sa.Column("role", sa.String(100), nullable=False, default="contact"),
)

dataservices = sa.Table(
    "dataservices",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("base_api_url", sa.Text),
    sa.Column("machine_documentation_url", sa.Text),
    sa.Column("license", sa.String(100), sa.ForeignKey("licenses.id")),
    sa.Column("tags", sa.JSON, nullable=False, default=list),
    sa.Column("extras", sa.JSON, nullable=False, default=dict),
    sa.Column("harvest", sa.JSON),
    sa.Column("harvest_source_id", ID, index=True),
    sa.Column("harvest_remote_id", sa.String(2000), index=True),
    sa.Column("harvest_domain", sa.String(255)),
    sa.Column("harvest_last_update", UTCDateTime),
    sa.Column("archived_at", UTCDateTime),
    sa.Column("deleted", UTCDateTime),
    sa.Column("organization", sa.String(255)),
    sa.Column("owner", sa.String(255)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_modified", UTCDateTime, nullable=False),
)

dataservice_contact_points = sa.Table(
    "dataservice_contact_points",
    metadata,
    sa.Column("dataservice_id", ID, sa.ForeignKey("dataservices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("contact_point_id", ID, sa.ForeignKey("contact_points.id"), nullable=False),
    sa.Column("role", sa.String(100), nullable=False, default="contact"),
)

dataservice_datasets = sa.Table(
    "dataservice_datasets",
    metadata,
    sa.Column("dataservice_id", ID, sa.ForeignKey("dataservices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("dataset_id", ID, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
)

# Tables of each schema version. A new version appends a migration below; never edit an old one.
_V1_TABLES = [
    licenses,
    sources,
    jobs,
    items,
    contact_points,
    datasets,
    resources,
    dataset_contact_points,
    dataservices,
    dataservice_contact_points,
    dataservice_datasets,
]


def _migration_1(conn: sa.Connection) -> None:
    """Create the catalogue: licences, sources, jobs, items, datasets, resources, dataservices, contacts."""
    metadata.create_all(conn, tables=_V1_TABLES)


def _migration_2(conn: sa.Connection) -> None:
    """Index items by status within a job (job pages filter on it)."""
    # Plain DDL: an sa.Index bound to the table would leak into later create_all calls of migration 1.
    conn.execute(sa.text("CREATE INDEX ix_harvest_items_job_status ON harvest_items (job_id, status)"))


log = logging.getLogger("dataspace_assets.harvest")

# The run that holds a source: one row per source being harvested (runs of a source are exclusive).
source_locks = sa.Table(
    "harvest_source_locks",
    metadata,
    sa.Column("source_id", ID, sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("job_id", ID),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
)


# Runs asked for by `dataspace harvest launch`: the harvest sensor turns each into a queued run.
launch_requests = sa.Table(
    "harvest_launch_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_id", ID, sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("max_items", sa.Integer),
)


def _detach_duplicates(conn: sa.Connection, table: sa.Table) -> list[str]:
    """Keep one record per (source, remote id), the live then oldest one; soft-delete and unlink the others."""
    t = table
    deleted = t.c.deleted
    dupes = (
        sa.select(t.c.harvest_source_id, t.c.harvest_remote_id)
        .where(t.c.harvest_source_id.is_not(None), t.c.harvest_remote_id.is_not(None))
        .group_by(t.c.harvest_source_id, t.c.harvest_remote_id)
        .having(sa.func.count() > 1)
    )
    report = []
    now = datetime.now(timezone.utc)
    for source_id, remote_id in conn.execute(dupes).all():
        rows = conn.execute(
            sa.select(t.c.id, t.c.harvest, deleted)
            .where(t.c.harvest_source_id == source_id, t.c.harvest_remote_id == remote_id)
            .order_by(deleted.is_not(None), t.c.created_at, t.c.id)
        ).all()
        kept, extras = rows[0], rows[1:]
        for row in extras:
            harvest = dict(row.harvest or {})
            harvest["duplicate_of"] = kept.id
            conn.execute(
                t.update()
                .where(t.c.id == row.id)
                .values(harvest=harvest, harvest_source_id=None, harvest_remote_id=None, deleted=row.deleted or now)
            )
        report.append(
            f"{t.name}: source {source_id}, remote id {remote_id!r}: kept {kept.id}, "
            f"deleted the duplicate(s) {', '.join(r.id for r in extras)}"
        )
    return report


def _migration_3(conn: sa.Connection) -> None:
    """One dataset (and one dataservice) per (source, remote id); existing duplicates are reported and set aside."""
    for table in (datasets, dataservices):
        for line in _detach_duplicates(conn, table):
            log.warning("harvest catalogue migration 3: %s", line)
        conn.execute(
            sa.text(
                f"CREATE UNIQUE INDEX ux_{table.name}_harvest_identity "
                f"ON {table.name} (harvest_source_id, harvest_remote_id)"
            )
        )


def _migration_4(conn: sa.Connection) -> None:
    """Source locks (at most one run harvests a source at a time) and the launch requests of the CLI."""
    metadata.create_all(conn, tables=[source_locks, launch_requests])


MIGRATIONS: list[tuple[int, Callable[[sa.Connection], None]]] = [
    (1, _migration_1),
    (2, _migration_2),
    (3, _migration_3),
    (4, _migration_4),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]


def current_version(conn: sa.Connection) -> int:
    """The schema version of this database (0 when empty)."""
    if not sa.inspect(conn).has_table(schema_version.name):
        return 0
    value = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
    return int(value or 0)


def upgrade(engine: sa.Engine, target: int | None = None) -> int:
    """Apply every pending migration, each in its own transaction; return the new version."""
    target = SCHEMA_VERSION if target is None else target
    with engine.begin() as conn:
        schema_version.create(conn, checkfirst=True)
    for version, migrate in MIGRATIONS:
        if version > target:
            break
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Serialise concurrent openers (parallel run workers) on the migration step.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(724011)"))
            if current_version(conn) >= version:
                continue
            migrate(conn)
            conn.execute(
                schema_version.insert().values(version=version, applied_at=datetime.now(timezone.utc))
            )
    with engine.connect() as conn:
        return current_version(conn)
