"""The `<name>_parquetize` table: one row per Parquet file of a component (window, level, counts, sizes, keys).

The table is the truth about which files make up a component's Parquet data set: a file becomes part of it
when its row is inserted and stops being part of it when its row is deleted, both inside one transaction,
so a run that dies between writing a blob and recording it leaves an orphan blob, never a lost or doubled
window. Blobs of replaced rows are deleted after the transaction commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.index import MAX_NAME_LENGTH, UTCDateTime, add_missing_columns, as_utc, check_name

SUFFIX = "_parquetize"
MEDIA_TYPE = "application/vnd.apache.parquet"  # IANA, registered 2024
STAMP = "%Y-%m-%d_%H-%M-%S"


def table_name(component: str) -> str:
    """The tracking table of a component (the original's `<name>_parquetize`)."""
    check_name(component)
    name = f"{component}{SUFFIX}"
    return check_name(name[:MAX_NAME_LENGTH])


def keys_text(keys: dict[str, Any] | None) -> str:
    """Key values as canonical JSON (sorted, compact): one spelling per combination, so it can be unique."""
    return json.dumps(keys or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class ParquetFile:
    """One recorded Parquet file of a component."""

    id: int | None
    level: str
    start: datetime
    end: datetime
    location: str
    count: int = 0  # valid snapshots that went into it
    skipped: int = 0  # snapshots refused by the schema, empty or not JSON
    rows: int = 0
    original_size: int = 0  # bytes of the source snapshots
    compressed_size: int = 0  # bytes of the Parquet file
    schema: dict[str, str] = field(default_factory=dict)  # column -> Arrow type
    keys: dict[str, Any] = field(default_factory=dict)  # the key combination of a KEYS level, else {}
    sha256: str | None = None  # hex SHA-256 of the file; None for files recorded before it was kept

    @property
    def name(self) -> str:
        """The file's public name, one per (level, window, keys): `<start>_to_<end>[_<key>=<value>].parquet`.

        Unlike the blob key it has no random part, so a re-run window keeps its URL.
        """
        stamp = f"{as_utc(self.start):{STAMP}}_to_{as_utc(self.end):{STAMP}}"
        keys = "".join(f"_{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in sorted(self.keys.items()))
        return f"{stamp}{keys}.parquet"

    @property
    def path(self) -> str:
        """Where the file is below its component's Parquet route: `<level>/<name>`."""
        return f"{self.level}/{self.name}"


def window_start_of(name: str) -> datetime | None:
    """The window start a public file name begins with (None when it is not one)."""
    try:
        return datetime.strptime(name[: len("0000-00-00_00-00-00")], STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _table(name: str, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("aggregation", sa.String(32), nullable=False),  # the level label: "1h", "1d", ...
        sa.Column("start_date", UTCDateTime(), nullable=False),
        sa.Column("end_date", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("original_size", sa.BigInteger, nullable=False),
        sa.Column("compressed_size", sa.BigInteger, nullable=False),
        sa.Column("schema", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("data", sa.String(1024), nullable=False),  # the blob location
        sa.Column("keys", sa.String(1024), nullable=False),
        *added_columns(),
        # One file per (level, window, key combination): a re-run replaces, a bug cannot double a window.
        sa.UniqueConstraint("aggregation", "start_date", "keys", name=f"uq_{name[:40]}_window"),
        sa.Index(f"ix_{name[:44]}_level", "aggregation", "start_date"),
        sa.Index(f"ix_{name[:44]}_dates", "start_date", "end_date"),
    )


def added_columns() -> list[sa.Column]:
    """The columns of later releases (nullable): added to older tables by the first writer."""
    return [sa.Column("sha256", sa.String(64), nullable=True)]


def _file(row: sa.RowMapping) -> ParquetFile:
    return ParquetFile(
        id=row["id"],
        level=row["aggregation"],
        start=row["start_date"],
        end=row["end_date"],
        location=row["data"],
        count=row["count"],
        skipped=row["skipped"],
        rows=row["rows"],
        original_size=row["original_size"],
        compressed_size=row["compressed_size"],
        schema=dict(row["schema"] or {}),
        keys=json.loads(row["keys"] or "{}"),
        sha256=row.get("sha256"),
    )


class ConcurrentChange(DataspaceError):
    """Another run changed the files this run was replacing; nothing was recorded, the run may be retried."""


class ParquetIndex:
    """Reads and swaps the recorded Parquet files of one component."""

    def __init__(self, engine: sa.Engine, component: str, *, create: bool = True) -> None:
        self.engine = engine
        self.component = component
        self.table = _table(table_name(component), sa.MetaData())
        # Readers (the handler server, the catalogue) pass create=False: their connections may be read-only,
        # and a component that never wrote a file simply has none.
        self._readonly = not create
        self._up_to_date = False  # a reader's table has every column (learnt once, then not looked up again)
        if create:
            self.table.create(engine, checkfirst=True)
            add_missing_columns(engine, self.table, added_columns())

    def _columns(self, conn: sa.Connection) -> list[sa.Column] | None:
        """The columns to read; None when a reader finds no table (a reader may meet one no writer upgraded yet)."""
        if not self._readonly:
            return list(self.table.c)
        inspector = sa.inspect(conn)
        if not inspector.has_table(self.table.name):
            return None
        if not self._up_to_date:
            present = {c["name"] for c in inspector.get_columns(self.table.name)}
            self._up_to_date = present >= set(self.table.c.keys())
            if not self._up_to_date:
                return [c for c in self.table.c if c.name in present]
        return list(self.table.c)

    def files(
        self,
        level: str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[ParquetFile]:
        """Recorded files, oldest window first; with `start`/`end`, those whose window starts in [start, end)."""
        t = self.table
        with self.engine.connect() as conn:
            columns = self._columns(conn)
            if columns is None:
                return []
            query = sa.select(*columns).order_by(t.c.start_date, t.c.aggregation, t.c["keys"])
            if level is not None:
                query = query.where(t.c.aggregation == level)
            if start is not None:
                query = query.where(t.c.start_date >= as_utc(start))
            if end is not None:
                query = query.where(t.c.start_date < as_utc(end))
            return [_file(row) for row in conn.execute(query).mappings()]

    def named(self, level: str, name: str) -> ParquetFile | None:
        """The recorded file of a level whose public name, URL-decoded as a server reads a path, is `name`."""
        start = window_start_of(name)
        if start is None:
            return None
        found = self.files(level, start=start, end=start + timedelta(seconds=1))
        return next((f for f in found if unquote(f.name) == name), None)

    def replace(self, new: Sequence[ParquetFile], *, remove: Iterable[ParquetFile] = ()) -> list[ParquetFile]:
        """Record `new` files and forget `remove` ones plus any file at the same (level, window, keys), atomically.

        Returns every forgotten file: their blobs are the caller's to delete once this has committed.
        """
        t = self.table
        expected = {f.id: f for f in remove if f.id is not None}
        forgotten: dict[int, ParquetFile] = {}
        with self.engine.begin() as conn:
            if expected:
                # Optimistic concurrency: the files this run read must still be recorded, else another run
                # already replaced them and ours would drop its work.
                locked = sa.select(t.c.id).where(t.c.id.in_(list(expected))).with_for_update()
                still = conn.execute(locked).scalars().all()
                if len(still) != len(expected):
                    raise ConcurrentChange(
                        f"{self.component}: another run replaced Parquet files of this window meanwhile; "
                        "nothing was recorded, run the window again"
                    )
                forgotten.update(expected)
            for item in new:
                same = sa.select(t).where(
                    t.c.aggregation == item.level,
                    t.c.start_date == as_utc(item.start),
                    t.c["keys"] == keys_text(item.keys),
                )
                forgotten.update({row["id"]: _file(row) for row in conn.execute(same).mappings()})
            if forgotten:
                conn.execute(t.delete().where(t.c.id.in_(list(forgotten))))
            try:
                for item in new:
                    self._insert(conn, item)
            except sa.exc.IntegrityError as exc:
                raise ConcurrentChange(
                    f"{self.component}: another run recorded the same Parquet window meanwhile; "
                    "nothing was recorded, run the window again"
                ) from exc
        return list(forgotten.values())

    def _insert(self, conn: sa.Connection, item: ParquetFile) -> None:
        conn.execute(
            self.table.insert().values(
                aggregation=item.level,
                start_date=as_utc(item.start),
                end_date=as_utc(item.end),
                count=item.count,
                skipped=item.skipped,
                rows=item.rows,
                original_size=item.original_size,
                compressed_size=item.compressed_size,
                schema=item.schema,
                data=item.location,
                keys=keys_text(item.keys),
                sha256=item.sha256,
            )
        )
