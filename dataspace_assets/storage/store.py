"""The data space store: blobs plus their SQL index, and the reader API over them (plain Python, no Dagster).

Each stored item is one blob and one index row. A write puts the blob first and then inserts the row in a
transaction; if the row fails the blob is removed, so a reader never meets a row whose blob is missing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.blobs import AzureBlobStore, BlobStore, LocalBlobStore, blob_key
from dataspace_assets.storage.database import create_engine
from dataspace_assets.storage.index import ItemIndex, as_utc, check_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from dataspace_assets.settings import Settings

# The MIME type stored for each DATA_TYPE of the TOML configs.
CONTENT_TYPES = {
    "json": "application/json",
    "text": "text/plain; charset=utf-8",
    "binary": "application/octet-stream",
}


class UnsupportedPayload(TypeError):
    """A component returned something the store cannot serialise."""


def serialise(value: Any) -> bytes:
    """Bytes to store for a component result: str as UTF-8, dict/list as JSON, bytes as they are."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict | list):
        try:
            return json.dumps(value, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise UnsupportedPayload(f"the returned {type(value).__name__} is not JSON-serialisable: {exc}") from exc
    raise UnsupportedPayload(
        f"returned a {type(value).__module__}.{type(value).__qualname__}; "
        "expected None, str, bytes, dict or list"
    )


@dataclass(eq=False)
class Data:
    """One stored item: its metadata now, its bytes on first access (then cached)."""

    name: str
    id: int
    date: datetime
    hash: str
    content_type: str
    size: int
    location: str
    _read: Callable[[str], bytes] = field(repr=False)
    _content: bytes | None = field(default=None, repr=False)

    @property
    def content(self) -> bytes:
        """The item's bytes, read from the blob store once."""
        if self._content is None:
            self._content = self._read(self.location)
        return self._content

    def text(self, encoding: str = "utf-8") -> str:
        """The bytes decoded as text."""
        return self.content.decode(encoding)

    def json(self) -> Any:
        """The bytes parsed as JSON."""
        return json.loads(self.content)

    @property
    def data(self) -> Any:
        """Decoded by content type, as the original `Data.data`: JSON parsed, text as str, else bytes."""
        base = (self.content_type or "").split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return self.json()
        if base.startswith("text/"):
            return self.text()
        return self.content


class DataStore:
    """Items of every collector and harvester: write them, and query them by date."""

    def __init__(self, blobs: BlobStore, engine: sa.Engine) -> None:
        self.blobs = blobs
        self.engine = engine
        self.index = ItemIndex(engine)
        # One insert statement per table, built once: rebuilding it was a third of a write's cost.
        self._inserts: dict[str, sa.Insert] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> DataStore:
        """The deployment's store: Azure Blob when a connection string is set, else the local folder."""
        if settings.azure_connection_string:
            blobs: BlobStore = AzureBlobStore(
                settings.azure_container, connection_string=settings.azure_connection_string
            )
        else:
            blobs = LocalBlobStore(settings.blobs_dir)
        return cls(blobs, create_engine(settings.database_url))

    def close(self) -> None:
        """Release the database pool and blob clients."""
        self.blobs.close()
        self.engine.dispose()

    # ------------------------------------------------------------------ writing

    def write(
        self,
        name: str,
        payload: bytes,
        *,
        date: datetime | None = None,
        content_type: str = CONTENT_TYPES["binary"],
    ) -> Data:
        """Store one item of component `name`: blob first, then its index row (the blob goes if the row fails)."""
        check_name(name)
        if not isinstance(payload, bytes):
            raise UnsupportedPayload(f"payload must be bytes, not {type(payload).__name__}")
        date = as_utc(date) if date is not None else datetime.now(UTC)
        digest = hashlib.md5(payload).hexdigest()
        table = self.index.table(name)
        location = self.blobs.write(blob_key(name, date), payload, content_type)
        row = {"date": date, "location": location, "content_type": content_type, "hash": digest, "size": len(payload)}
        try:
            with self.engine.begin() as conn:
                item_id = conn.execute(self._insert(table), row).inserted_primary_key[0]
        except BaseException as exc:
            self.blobs.delete(location)
            if isinstance(exc, sa.exc.SQLAlchemyError):
                raise DataspaceError(f"could not index the new item of {name}: {exc.orig or exc}") from exc
            raise
        return Data(name, item_id, date, digest, content_type, len(payload), location, self.blobs.read, payload)

    def _insert(self, table: sa.Table) -> sa.Insert:
        statement = self._inserts.get(table.name)
        if statement is None:
            statement = self._inserts[table.name] = table.insert()
        return statement

    def write_marker(self, name: str, date: datetime) -> None:
        """Record that a window of `name` produced nothing: it moves a cursor but readers never see it."""
        table = self.index.table(check_name(name))
        with self.engine.begin() as conn:
            conn.execute(table.insert().values(date=as_utc(date), location=None, hash=None, content_type=None, size=None))

    # ------------------------------------------------------------------ reading

    def _select(self, name: str, *, markers: bool = False) -> tuple[sa.Table, sa.Select] | None:
        table = self.index.table(check_name(name), create=False)
        if table is None:
            return None
        query = sa.select(table)
        if not markers:
            query = query.where(table.c.location.is_not(None))
        return table, query

    def _run(self, name: str, query: sa.Select) -> list[Data]:
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Data(name, r["id"], r["date"], r["hash"], r["content_type"], r["size"], r["location"], self.blobs.read)
            for r in rows
        ]

    def _query(
        self,
        name: str,
        *,
        after: datetime | None = None,
        before: datetime | None = None,
        newest_first: bool,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Data]:
        selected = self._select(name)
        if selected is None:
            return []
        table, query = selected
        if after is not None:
            query = query.where(table.c.date > as_utc(after))
        if before is not None:
            query = query.where(table.c.date < as_utc(before))
        order = (table.c.date.desc(), table.c.id.desc()) if newest_first else (table.c.date.asc(), table.c.id.asc())
        query = query.order_by(*order).offset(offset or None)
        if limit is not None:
            query = query.limit(limit)
        return self._run(name, query)

    def latest(self, name: str) -> Data | None:
        """The newest item."""
        found = self._query(name, newest_first=True, limit=1)
        return found[0] if found else None

    def latest_before(self, name: str, date: datetime) -> Data | None:
        """The newest item strictly before `date`."""
        found = self._query(name, before=date, newest_first=True, limit=1)
        return found[0] if found else None

    def latest_n_before(self, name: str, date: datetime, n: int) -> list[Data]:
        """The `n` newest items strictly before `date`, newest first."""
        return self._query(name, before=date, newest_first=True, limit=n)

    def first(self, name: str) -> Data | None:
        """The oldest item."""
        found = self._query(name, newest_first=False, limit=1)
        return found[0] if found else None

    def after(self, name: str, date: datetime, *, limit: int | None = None, offset: int = 0) -> list[Data]:
        """Items strictly after `date`, oldest first."""
        return self._query(name, after=date, newest_first=False, limit=limit, offset=offset)

    def between(
        self,
        name: str,
        start: datetime | None,
        end: datetime | None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Data]:
        """Items with start < date < end (a None bound is open), oldest first."""
        return self._query(name, after=start, before=end, newest_first=False, limit=limit, offset=offset)

    def in_window(self, name: str, start: datetime, end: datetime) -> list[Data]:
        """Items with start <= date < end (a half-open window: a boundary item belongs to one window only)."""
        selected = self._select(name)
        if selected is None:
            return []
        table, query = selected
        query = query.where(table.c.date >= as_utc(start), table.c.date < as_utc(end))
        return self._run(name, query.order_by(table.c.date.asc(), table.c.id.asc()))

    def dates(self, name: str, *, start: datetime | None = None) -> list[datetime]:
        """The dates of every item (markers excluded) from `start` on, oldest first: cheap, no blob is read."""
        selected = self._select(name)
        if selected is None:
            return []
        table, _ = selected
        query = sa.select(table.c.date).where(table.c.location.is_not(None)).order_by(table.c.date.asc())
        if start is not None:
            query = query.where(table.c.date >= as_utc(start))
        with self.engine.connect() as conn:
            return [as_utc(value) for value in conn.execute(query).scalars()]

    def count(self, name: str) -> int:
        """How many items (marker rows excluded) `name` holds."""
        selected = self._select(name)
        if selected is None:
            return 0
        _, query = selected
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()

    def last_date(self, name: str, *, markers: bool = True) -> datetime | None:
        """The date of the newest row, marker rows included by default (a harvester's progress cursor)."""
        selected = self._select(name, markers=markers)
        if selected is None:
            return None
        table, _ = selected
        query = sa.select(sa.func.max(table.c.date))
        if not markers:
            query = query.where(table.c.location.is_not(None))
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one()
        # func.max loses the column type on SQLite (a string comes back): parse it ourselves.
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return None if value is None else as_utc(value)


# ---------------------------------------------------------------------- harvester progress


@dataclass(frozen=True)
class Cursor:
    """Where a harvester stopped: its newest row (markers included), by (date, id)."""

    date: datetime
    source_id: int | None  # the last source row its window consumed (None on rows of older releases)
    window_key: str | None


@dataclass(frozen=True)
class Output:
    """One row a harvester window writes: an item (payload) or a marker (payload None)."""

    date: datetime
    window_key: str
    source_id: int | None
    payload: bytes | None = None
    content_type: str = CONTENT_TYPES["binary"]
    note: str | None = None


def harvester_cursor(store: DataStore, name: str) -> Cursor | None:
    """The harvester's own newest row, marker rows included (None: it never wrote anything)."""
    table = store.index.table(check_name(name), create=False)
    if table is None:
        return None
    query = sa.select(table.c.date, table.c.source_id, table.c.window_key).order_by(
        table.c.date.desc(), table.c.id.desc()
    ).limit(1)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else Cursor(as_utc(row.date), row.source_id, row.window_key)


def _rows_query(
    store: DataStore,
    name: str,
    after: tuple[datetime, int | None] | None,
    since: datetime | None,
    before: datetime | None,
) -> tuple[sa.Table, sa.Select] | None:
    selected = store._select(name)
    if selected is None:
        return None
    table, query = selected
    if after is not None:
        date, row_id = as_utc(after[0]), after[1]
        if row_id is None:
            query = query.where(table.c.date > date)
        else:
            # `date >= d` lets the date index bound the scan; the OR only filters the rows at d itself.
            query = query.where(table.c.date >= date).where(sa.or_(table.c.date > date, table.c.id > row_id))
    if since is not None:
        query = query.where(table.c.date >= as_utc(since))
    if before is not None:
        query = query.where(table.c.date < as_utc(before))
    return table, query


def source_rows(
    store: DataStore,
    name: str,
    *,
    after: tuple[datetime, int | None] | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int | None = None,
) -> list[Data]:
    """Items (never markers) of a source, oldest first by (date, id).

    `after` = (date, id): strictly after that row, so rows sharing a date are split at the right one
    (id None: strictly after the date); `since` / `before`: the half-open time range [since, before).
    """
    found = _rows_query(store, name, after, since, before)
    if found is None:
        return []
    table, query = found
    query = query.order_by(table.c.date.asc(), table.c.id.asc())
    if limit is not None:
        query = query.limit(limit)
    return store._run(name, query)


def count_rows(
    store: DataStore,
    name: str,
    *,
    after: tuple[datetime, int | None] | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> int:
    """How many items `source_rows` would return: a harvester's lag in rows."""
    found = _rows_query(store, name, after, since, before)
    if found is None:
        return 0
    _, query = found
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


def write_window(
    store: DataStore, name: str, outputs: list[Output], *, replace: list[str] | None = None
) -> list[Data | None]:
    """Store one window's outputs: every blob first, then every row in one transaction.

    The cursor is the harvester's newest row, so it moves only when that transaction commits: a crash
    before leaves at most orphan blobs (`dataspace storage check`), never a gap or a duplicate. `replace`
    names window keys (and their `<key>/...` items) removed in the same transaction: a re-derived window.
    """
    table = store.index.table(check_name(name))
    assert table is not None
    written: list[str] = []
    rows: list[dict[str, Any]] = []
    try:
        for output in outputs:
            row: dict[str, Any] = {
                "date": as_utc(output.date), "window_key": output.window_key, "source_id": output.source_id,
                "note": output.note, "location": None, "content_type": None, "hash": None, "size": None,
            }
            if output.payload is not None:
                location = store.blobs.write(blob_key(name, row["date"]), output.payload, output.content_type)
                written.append(location)
                row.update(
                    location=location, content_type=output.content_type,
                    hash=hashlib.md5(output.payload).hexdigest(), size=len(output.payload),
                )
            rows.append(row)
        replaced: list[str] = []
        with store.engine.begin() as conn:
            if replace:
                replaced = _delete_windows(conn, table, replace)
            ids = [conn.execute(store._insert(table), row).inserted_primary_key[0] for row in rows]
    except BaseException as exc:
        for location in written:
            store.blobs.delete(location)
        if isinstance(exc, sa.exc.IntegrityError):
            raise DataspaceError(
                f"{name}: window {outputs[0].window_key if outputs else '?'} is already stored "
                "(two runs of one harvester at once?)"
            ) from exc
        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise DataspaceError(f"could not index the window of {name}: {exc.orig or exc}") from exc
        raise
    for location in replaced:
        store.blobs.delete(location)
    payloads = [o.payload for o in outputs]
    return [
        None if r["location"] is None else Data(
            name, i, r["date"], r["hash"], r["content_type"], r["size"], r["location"], store.blobs.read, p
        )
        for r, i, p in zip(rows, ids, payloads, strict=True)
    ]


def _delete_windows(conn: sa.Connection, table: sa.Table, keys: list[str]) -> list[str]:
    """Delete the rows of these windows (a key or `key/...`); the blob locations to remove after commit."""
    clauses = [sa.or_(table.c.window_key == k, table.c.window_key.startswith(f"{k}/", autoescape=True)) for k in keys]
    where = sa.or_(*clauses)
    locations = [r[0] for r in conn.execute(sa.select(table.c.location).where(where)) if r[0]]
    conn.execute(table.delete().where(where))
    return locations


def delete_after(store: DataStore, name: str, date: datetime | None) -> int:
    """Remove every row of `name` dated after `date` (all when None) in one transaction, then their blobs.

    Deleting the rows is the cursor reset (the cursor is the newest remaining row), so both happen at once.
    """
    table = store.index.table(check_name(name), create=False)
    if table is None:
        return 0
    where = sa.true() if date is None else table.c.date > as_utc(date)
    with store.engine.begin() as conn:
        locations = [r[0] for r in conn.execute(sa.select(table.c.location).where(where)) if r[0]]
        deleted = conn.execute(table.delete().where(where)).rowcount
    for location in locations:
        store.blobs.delete(location)
    return deleted


def window_keys(store: DataStore, name: str, keys: list[str]) -> set[str]:
    """Which of these window keys (or `key/...` items) the harvester has stored."""
    table = store.index.table(check_name(name), create=False)
    if table is None or not keys:
        return set()
    found: set[str] = set()
    with store.engine.connect() as conn:
        for key in keys:
            clause = sa.or_(table.c.window_key == key, table.c.window_key.startswith(f"{key}/", autoescape=True))
            if conn.execute(sa.select(table.c.id).where(clause).limit(1)).first() is not None:
                found.add(key)
    return found
