"""The SQL index: one table per collector/harvester, one row per stored item (SQLAlchemy Core).

Columns: id, date (UTC, timezone-aware in Python), location (the blob URI), content_type, hash (MD5 hex),
size. A *marker* row (location and hash NULL) records that a window produced nothing; readers skip it.
Harvester rows also carry `window_key` (unique per table: one output per window, even under a bug),
`source_id` (the last source row the window consumed: the cursor's tie-break) and `note` (why a marker).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from dataspace_assets.errors import DataspaceError

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME_LENGTH = 63  # PostgreSQL truncates longer identifiers silently, which would merge tables


def as_utc(value: datetime) -> datetime:
    """A timezone-aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Dates stored in UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite has no timezone type: store naive UTC so text comparison stays chronological.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def check_name(name: str) -> str:
    """Refuse component names that cannot be a table name on every database we support."""
    if not NAME_PATTERN.match(name) or len(name) > MAX_NAME_LENGTH:
        raise DataspaceError(
            f"invalid component name {name!r}: use letters, digits and _ (at most {MAX_NAME_LENGTH} characters)"
        )
    return name


def index_name(name: str) -> str:
    """The per-table date index name (the original reused one global name, so later tables had none)."""
    candidate = f"ix_{name}_date"
    if len(candidate) <= MAX_NAME_LENGTH:
        return candidate
    digest = hashlib.md5(name.encode()).hexdigest()[:8]
    return f"ix_{name[:44]}_{digest}_date"


def window_index_name(name: str) -> str:
    """The per-table unique index on harvester windows."""
    return index_name(name)[:-len("_date")] + "_window"


def item_table(name: str, metadata: sa.MetaData) -> sa.Table:
    """The table definition of component `name`."""
    check_name(name)
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("date", UTCDateTime(), nullable=False),
        sa.Column("location", sa.String(1024), nullable=True),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("hash", sa.String(32), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        *harvester_columns(),
        sa.Index(index_name(name), "date"),
        sa.Index(window_index_name(name), "window_key", unique=True),
    )


def harvester_columns() -> list[sa.Column]:
    """The columns harvesters fill (NULL for collector items); added to older tables on first use."""
    return [
        sa.Column("window_key", sa.String(200), nullable=True),
        sa.Column("source_id", sa.BigInteger, nullable=True),
        sa.Column("note", sa.String(2000), nullable=True),
    ]


def add_missing_columns(engine: sa.Engine, table: sa.Table, columns: Sequence[sa.Column]) -> None:
    """Bring a table created by an older release up to date: its new nullable `columns`, then its indexes."""
    present = {column["name"] for column in sa.inspect(engine).get_columns(table.name)}
    missing = [c for c in columns if c.name not in present]
    if not missing:
        return
    try:
        with engine.begin() as conn:
            for column in missing:
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    except sa.exc.DatabaseError:
        # Another process added them between our look and our ALTER: fine if they are there now.
        present = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
        if not {c.name for c in columns} <= present:
            raise


class ItemIndex:
    """Creates component tables on first use and hands them out."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.metadata = sa.MetaData()
        self._ready: dict[str, sa.Table] = {}
        self._lock = threading.Lock()

    def table(self, name: str, *, create: bool = True) -> sa.Table | None:
        """The table of `name`, created (with its index) if missing; None if missing and not `create`."""
        table = self._ready.get(name)
        if table is not None:
            return table
        with self._lock:
            table = self.metadata.tables.get(name)
            if table is None:
                table = item_table(name, self.metadata)
            if not create:
                if not sa.inspect(self.engine).has_table(name):
                    return None
            else:
                try:
                    table.create(self.engine, checkfirst=True)
                except sa.exc.DatabaseError:
                    # Another process created it between our check and our CREATE: that is fine.
                    if not sa.inspect(self.engine).has_table(name):
                        raise
            add_missing_columns(self.engine, table, harvester_columns())
            self._ready[name] = table
            return table
