"""A read-only view of the data space store, limited to some components: what handlers are given.

The view has the reader API of `DataStore` and nothing that writes. Its database connections are
read-only as well (SQLite `query_only`, PostgreSQL read-only transactions), so even code that digs out
the engine cannot change the index.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.blobs import AzureBlobStore, BlobStore, LocalBlobStore
from dataspace_assets.storage.database import create_engine
from dataspace_assets.storage.index import as_utc, check_name
from dataspace_assets.storage.store import Data, DataStore

if TYPE_CHECKING:
    from dataspace_assets.settings import Settings


def read_only_engine(url: str) -> sa.Engine:
    """An engine whose every connection refuses writes."""
    engine = create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        elif engine.dialect.name == "postgresql":
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        if engine.dialect.name == "postgresql":
            dbapi_connection.commit()

    return engine


def read_only_store(settings: Settings) -> DataStore:
    """The deployment's store (same blobs and index as `DataStore.from_settings`) on read-only connections."""
    if settings.azure_connection_string:
        blobs: BlobStore = AzureBlobStore(settings.azure_container, connection_string=settings.azure_connection_string)
    else:
        blobs = LocalBlobStore(settings.blobs_dir)
    return DataStore(blobs, read_only_engine(settings.database_url))


class BlobCache:
    """The bytes of recently read blobs: a blob is never overwritten, so its location names its bytes forever."""

    def __init__(self, read: Callable[[str], bytes], max_item: int = 1 << 20, max_total: int = 64 << 20) -> None:
        self._read = read
        self._max_item = max_item
        self._max_total = max_total
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def read(self, location: str) -> bytes:
        """The blob's bytes, from memory when read before."""
        with self._lock:
            found = self._items.get(location)
            if found is not None:
                self._items.move_to_end(location)
                return found
        payload = self._read(location)
        if len(payload) <= self._max_item:
            with self._lock:
                if location not in self._items:
                    self._items[location] = payload
                    self._total += len(payload)
                while self._total > self._max_total and self._items:
                    _, dropped = self._items.popitem(last=False)
                    self._total -= len(dropped)
        return payload


class DataReader:
    """Latest, as-of, range and paged reads of the components it allows; no writes."""

    def __init__(
        self, store: DataStore, names: Collection[str] | None = None, *, blob_cache: BlobCache | None = None
    ) -> None:
        # Name-mangled so a handler does not reach the store (and its write methods) by accident.
        self.__store = store
        self.__names = frozenset(names) if names is not None else None
        self.__cache = blob_cache
        self.__latest: dict[str, _PreparedLatest] = {}

    @property
    def names(self) -> frozenset[str] | None:
        """The components this reader may read; None means every stored component."""
        return self.__names

    def _allowed(self, name: str) -> str:
        check_name(name)
        if self.__names is not None and name not in self.__names:
            allowed = ", ".join(sorted(self.__names)) or "none"
            raise DataspaceError(f"component {name!r} is not readable here (readable: {allowed})")
        return name

    def _cached(self, items: list[Data]) -> list[Data]:
        if self.__cache is not None:
            for item in items:
                item._read = self.__cache.read
        return items

    def _one(self, item: Data | None) -> Data | None:
        return self._cached([item])[0] if item is not None else None

    def latest(self, name: str) -> Data | None:
        """The newest item."""
        return self._one(self.__store.latest(self._allowed(name)))

    def latest_before(self, name: str, date: datetime) -> Data | None:
        """The newest item strictly before `date` (one prepared statement on a pooled DBAPI connection)."""
        name = self._allowed(name)
        prepared = self.__latest.get(name)
        if prepared is None:
            table = self.__store.index.table(name, create=False)
            if table is None:
                return None
            prepared = self.__latest[name] = _PreparedLatest(self.__store.engine, table)
        row = prepared.fetch(date)
        if row is None:
            return None
        read = self.__cache.read if self.__cache is not None else self.__store.blobs.read
        return Data(name, row[0], row[1], row[2], row[3], row[4], row[5], read)

    def latest_n_before(self, name: str, date: datetime, n: int) -> list[Data]:
        """The `n` newest items strictly before `date`, newest first."""
        return self._cached(self.__store.latest_n_before(self._allowed(name), date, n))

    def first(self, name: str) -> Data | None:
        """The oldest item."""
        return self._one(self.__store.first(self._allowed(name)))

    def after(self, name: str, date: datetime, *, limit: int | None = None, offset: int = 0) -> list[Data]:
        """Items strictly after `date`, oldest first."""
        return self._cached(self.__store.after(self._allowed(name), date, limit=limit, offset=offset))

    def between(
        self, name: str, start: datetime | None, end: datetime | None, *, limit: int | None = None, offset: int = 0
    ) -> list[Data]:
        """Items with start < date < end (a None bound is open), oldest first."""
        return self._cached(self.__store.between(self._allowed(name), start, end, limit=limit, offset=offset))

    def count(self, name: str) -> int:
        """How many items `name` holds."""
        return self.__store.count(self._allowed(name))

    def get(self, name: str, item_id: int) -> Data | None:
        """One item by its id (None if there is none, or it is a marker row)."""
        found = self._rows(name, lambda table: table.c.id == int(item_id), limit=1)
        return found[0] if found else None

    def items_after(self, name: str, date: datetime, item_id: int, *, limit: int | None = None) -> list[Data]:
        """Items after the cursor (date, id), oldest first: ties on date are ordered by id, so none is lost."""
        date = as_utc(date)

        def where(table: sa.Table) -> sa.ColumnElement[bool]:
            return sa.or_(table.c.date > date, sa.and_(table.c.date == date, table.c.id > int(item_id)))

        return self._rows(name, where, limit=limit)

    def newest_cursor(self, name: str) -> tuple[datetime, int] | None:
        """(date, id) of the newest item, the starting cursor of a watcher that only wants new items."""
        items = self._rows(name, None, limit=1, newest_first=True)
        return (items[0].date, int(items[0].id)) if items else None

    def _rows(
        self,
        name: str,
        where: Callable[[sa.Table], sa.ColumnElement[bool]] | None,
        *,
        limit: int | None,
        newest_first: bool = False,
    ) -> list[Data]:
        store = self.__store
        table = store.index.table(self._allowed(name), create=False)
        if table is None:
            return []
        query = sa.select(table).where(table.c.location.is_not(None))
        if where is not None:
            query = query.where(where(table))
        order = (table.c.date.desc(), table.c.id.desc()) if newest_first else (table.c.date.asc(), table.c.id.asc())
        query = query.order_by(*order)
        if limit is not None:
            query = query.limit(limit)
        with store.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        read = self.__cache.read if self.__cache is not None else store.blobs.read
        return [
            Data(name, r["id"], r["date"], r["hash"], r["content_type"], r["size"], r["location"], read) for r in rows
        ]


class _PreparedLatest:
    """`latest_before` of one table compiled once: the handler server's hot query, with no SQL built per call."""

    def __init__(self, engine: sa.Engine, table: sa.Table) -> None:
        query = (
            sa.select(table.c.id, table.c.date, table.c.hash, table.c.content_type, table.c.size, table.c.location)
            .where(table.c.location.is_not(None), table.c.date < sa.bindparam("before", type_=table.c.date.type))
            .order_by(table.c.date.desc(), table.c.id.desc())
            .limit(1)
        )
        dialect = engine.dialect
        self.engine = engine
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self.defaults = compiled.construct_params({"before": None})  # the LIMIT's value, under its own name
        self.order = compiled.positiontup  # bind names in order for qmark dialects (SQLite); None when named
        self.bind = table.c.date.type.bind_processor(dialect)
        self._local = threading.local()

    def fetch(self, before: datetime) -> tuple | None:
        value = self.bind(as_utc(before)) if self.bind else as_utc(before)
        params = {**self.defaults, "before": value}
        args = [params[n] for n in self.order] if self.order else params
        # One pooled connection kept per thread: the server's loop thread asks for it thousands of times a second.
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self.sql, args)
            row = cursor.fetchone()
            cursor.close()
            connection.rollback()  # end the read transaction: the next query sees new items
        except BaseException:
            self._local.connection = None
            connection.invalidate()
            raise
        if row is None:
            return None
        date = row[1]
        if isinstance(date, str):  # SQLite hands back its stored text (naive UTC)
            date = datetime.fromisoformat(date)
        return (row[0], as_utc(date), row[2], row[3], row[4], row[5])
