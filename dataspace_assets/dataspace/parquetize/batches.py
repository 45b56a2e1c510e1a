"""Parquetize without Dagster: snapshots of a window → rows → one Parquet file, and roll-ups of those files.

Nothing is lost if a run dies: a new file is written under a fresh blob key, then recorded, replacing the
rows it supersedes in one transaction (`storage/parquet.py`); superseded blobs are deleted last. A window of
a level that a coarser level without KEYS already holds goes straight into that coarser file (its rows for
the window replaced), so re-running an old window never doubles its rows.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dataspace_assets.dataspace.parquetize.plan import Level, ParquetPlan, floor_window
from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.blobs import LocalBlobStore
from dataspace_assets.storage.parquet import MEDIA_TYPE as PARQUET_TYPE
from dataspace_assets.storage.parquet import ParquetFile, ParquetIndex, keys_text
from dataspace_assets.storage.store import Data, DataStore

DATE_COLUMN = "date"
DATE_TYPE = pa.timestamp("us", tz="UTC")  # the snapshot dates, to the microsecond as stored
READ_THREADS = 8  # blob reads overlap (Azure answers in milliseconds, not microseconds)


@dataclass
class WindowResult:
    """What one window of one level did: the counts the asset reports as metadata."""

    level: str
    start: datetime
    end: datetime
    files: list[ParquetFile] = field(default_factory=list)  # files recorded by this run
    into: str | None = None  # the coarser level the window went into, when one already held it
    snapshots: int = 0
    valid: int = 0
    invalid: int = 0  # refused by SCHEMA
    empty: int = 0
    not_json: int = 0
    not_records: int = 0  # JSON, but not a list of objects (or RECORDS does not lead to one)
    rows: int = 0
    original_size: int = 0
    compressed_size: int = 0
    replaced: int = 0  # earlier files this run superseded
    schema: dict[str, str] = field(default_factory=dict)
    note: str | None = None

    @property
    def skipped(self) -> int:
        return self.invalid + self.empty + self.not_json + self.not_records


class Parquetizer:
    """Parquetize one component: batch windows from its snapshots, roll-ups from the level below."""

    def __init__(self, store: DataStore, component: str, plan: ParquetPlan) -> None:
        # SCHEMA was checked with jsonschema when the config loaded; every snapshot is checked with
        # jsonschema-rs, the same JSON Schema drafts at a few microseconds a snapshot instead of milliseconds.
        import jsonschema_rs

        self.store = store
        self.component = component
        self.plan = plan
        self.index = ParquetIndex(store.engine, component)
        self._validator = jsonschema_rs.validator_for(plan.schema) if plan.schema else None

    # ------------------------------------------------------------------ batch level

    def batch(self, start: datetime, end: datetime) -> WindowResult:
        """Turn the snapshots dated in [start, end) into one Parquet file of the batch level."""
        level = self.plan.batch
        result = WindowResult(level.label, start, end)
        items = self.store.in_window(self.component, start, end)
        result.snapshots = len(items)
        records: list[dict[str, Any]] = []
        dates: list[datetime] = []  # the date of each snapshot that gave records ...
        ends: list[int] = []  # ... and where its records end in `records`
        for item, content in zip(items, self._contents(items), strict=True):
            result.original_size += item.size or 0
            found = self._records_of(content, result)
            if found:
                records.extend(found)
                dates.append(item.date)
                ends.append(len(records))
        table = _table(records, dates, ends, f"{self.component} window {_span(start, end)}") if records else None
        if table is not None:
            result.rows = table.num_rows
            result.schema = arrow_schema(table)
        self._place(0, start, end, table, result, consumed=[], holders_from=1)
        return result

    def _contents(self, items: Sequence[Data]) -> Iterator[bytes]:
        """The snapshots' bytes in order: read in parallel from a remote store, in a plain loop from a folder."""
        if isinstance(self.store.blobs, LocalBlobStore):
            return (item.content for item in items)
        pool = ThreadPoolExecutor(READ_THREADS)
        try:
            return iter(list(pool.map(_content, items)))
        finally:
            pool.shutdown()

    def _records_of(self, content: bytes, result: WindowResult) -> list[dict[str, Any]]:
        """The records of one snapshot; counts why a snapshot gave none."""
        if not content.strip():
            result.empty += 1
            return []
        try:
            value = orjson.loads(content)
        except orjson.JSONDecodeError:
            result.not_json += 1
            return []
        if self._validator is not None and not self._validator.is_valid(value):
            result.invalid += 1
            return []
        records = _records(value, self.plan.records)
        if records is None:
            result.not_records += 1
            return []
        result.valid += 1
        return records

    # ------------------------------------------------------------------ roll-ups

    def roll_up(self, level_index: int, start: datetime, end: datetime) -> WindowResult:
        """Make level `level_index`'s file(s) for [start, end) from the files of the level it is made from."""
        level = self.plan.levels[level_index]
        source = self.plan.levels[level.source or 0]
        result = WindowResult(level.label, start, end)
        inputs = self.index.files(source.label, start=start, end=end)
        result.snapshots = sum(f.count for f in inputs)
        result.valid = result.snapshots
        result.original_size = sum(f.original_size for f in inputs)
        if not inputs:
            result.note = f"no {source.label} files in this window (nothing new to roll up)"
            return result
        table = _concat([self._read(f) for f in inputs], f"{self.component} {level.label} window {_span(start, end)}")
        result.rows, result.schema = table.num_rows, arrow_schema(table)
        if level.keys:
            self._write_keyed(level, start, end, table, inputs, result)
        else:
            # A roll-up also merges with this level's own file of the window, if an earlier run wrote one.
            self._place(level_index, start, end, table, result, consumed=inputs, holders_from=level_index)
        return result

    def _write_keyed(
        self,
        level: Level,
        start: datetime,
        end: datetime,
        table: pa.Table,
        inputs: Sequence[ParquetFile],
        result: WindowResult,
    ) -> None:
        """One file per key combination; the files below are kept (they are the unsplit data set)."""
        missing = [key for key in level.keys if key not in table.column_names]
        if missing:
            raise DataspaceError(
                f"{self.component} PARQUETIZE GROUP {level.label}: KEYS column(s) {missing} are not in the rows "
                f"of window {_span(start, end)} (columns: {', '.join(table.column_names)})"
            )
        groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
        columns = [table.column(key).to_pylist() for key in level.keys]
        for row, values in enumerate(zip(*columns, strict=True)):
            combination = dict(zip(level.keys, values, strict=True))
            groups.setdefault(keys_text(combination), (combination, []))[1].append(row)
        new = []
        for combination, rows in groups.values():
            part = table.take(pa.array(rows, type=pa.int64()))
            new.append(self._write_file(level, start, end, part, result, keys=combination, count=0))
        # Every earlier keyed file of this window goes, including combinations that no longer occur.
        old = self.index.files(level.label, start=start, end=end)
        self._commit(new, old, result)

    # ------------------------------------------------------------------ placing a window

    def _place(
        self,
        level_index: int,
        start: datetime,
        end: datetime,
        table: pa.Table | None,
        result: WindowResult,
        *,
        consumed: Sequence[ParquetFile],
        holders_from: int,
    ) -> None:
        """Record the window's rows at this level, or inside the coarsest unsplit level that already holds it."""
        level = self.plan.levels[level_index]
        holder = self._holder(holders_from, start)
        if holder is None:
            if table is None:
                # An empty window replaces what an earlier run wrote for it: it had no valid snapshot now.
                old = self.index.files(level.label, start=start, end=end)
                self._commit([], [*old, *consumed], result)
                result.note = "no valid snapshot in this window: nothing written"
                return
            count = result.valid
            new = self._write_file(level, start, end, table, result, keys={}, count=count)
            self._commit([new], consumed, result)
            return
        # A coarser file holds this window already: its rows of the window are replaced by ours.
        coarse = self.plan.level(holder.level)
        result.into = coarse.label if coarse is not level else None
        # The batch level re-derives its whole window; a roll-up replaces just the windows of its inputs.
        replaced = [(f.start, f.end) for f in consumed] if consumed else [(start, end)]
        kept = self._without(self._read(holder), replaced)
        parts = [kept] + ([table] if table is not None else [])
        merged = _concat(parts, f"{self.component} {coarse.label} window {_span(holder.start, holder.end)}")
        new = self._write_file(coarse, holder.start, holder.end, merged, result, keys={}, count=_snapshots(merged))
        self._commit([new], [holder, *consumed], result)

    def _holder(self, first: int, start: datetime) -> ParquetFile | None:
        """The file of the coarsest unsplit level from `first` up whose window holds the one starting at `start`."""
        for level in reversed(self.plan.levels[first:]):
            if level.keys:
                continue
            window_start = floor_window(start, level.seconds)
            found = self.index.files(level.label, start=window_start, end=window_start + timedelta(seconds=1))
            if found:
                return found[0]
        return None

    # ------------------------------------------------------------------ files

    def _write_file(
        self,
        level: Level,
        start: datetime,
        end: datetime,
        table: pa.Table,
        result: WindowResult,
        *,
        keys: dict[str, Any],
        count: int,
    ) -> ParquetFile:
        """Write a Parquet blob under a fresh key (never over a recorded one) and describe it."""
        sink = io.BytesIO()
        # Roll-ups keep snappy too: one codec for every level reads the same in every engine.
        pq.write_table(table, sink, compression="snappy", use_dictionary=True)
        payload = sink.getvalue()
        location = self.store.blobs.write(self._key(level, start, end, keys), payload, PARQUET_TYPE)
        result.compressed_size += len(payload)
        return ParquetFile(
            id=None,
            level=level.label,
            start=start,
            end=end,
            location=location,
            count=count,
            skipped=result.skipped,
            rows=table.num_rows,
            original_size=result.original_size,
            compressed_size=len(payload),
            schema=arrow_schema(table),
            keys=keys,
            sha256=hashlib.sha256(payload).hexdigest(),
        )

    def _key(self, level: Level, start: datetime, end: datetime, keys: dict[str, Any]) -> str:
        stamp = f"{start:%Y-%m-%d_%H-%M-%S}_to_{end:%Y-%m-%d_%H-%M-%S}"
        suffix = "".join(f"_{name}={_safe(value)}" for name, value in keys.items())
        return f"{self.index.table.name}/{level.label}/{stamp}{suffix}-{secrets.token_hex(4)}.parquet"

    def _commit(self, new: list[ParquetFile], remove: Sequence[ParquetFile], result: WindowResult) -> None:
        """Record `new` and forget `remove` atomically, then delete the forgotten blobs."""
        try:
            forgotten = self.index.replace(new, remove=remove)
        except BaseException:
            for item in new:  # never recorded: do not leave the blob behind
                self.store.blobs.delete(item.location)
            raise
        recorded = {item.location for item in new}
        for item in forgotten:
            if item.location not in recorded:
                self.store.blobs.delete(item.location)
        result.files.extend(new)
        result.replaced += len(forgotten)

    def _read(self, item: ParquetFile) -> pa.Table:
        return pq.read_table(io.BytesIO(self.store.blobs.read(item.location)))

    @staticmethod
    def _without(table: pa.Table, windows: Sequence[tuple[datetime, datetime]]) -> pa.Table:
        """The rows of `table` dated outside every [start, end) of `windows`."""
        if DATE_COLUMN not in table.column_names or not windows:
            return table
        dates = table.column(DATE_COLUMN)
        inside = None
        for start, end in windows:
            low = pa.scalar(start.astimezone(UTC), type=dates.type)
            high = pa.scalar(end.astimezone(UTC), type=dates.type)
            mask = pc.and_(pc.greater_equal(dates, low), pc.less(dates, high))
            inside = mask if inside is None else pc.or_(inside, mask)
        return table.filter(pc.invert(pc.fill_null(inside, False)))


# ---------------------------------------------------------------------- helpers


def pending_windows(store: DataStore, component: str, plan: ParquetPlan, level_index: int, now: datetime) -> list[datetime]:
    """Start of every complete window of a level that has input and no file yet (oldest first)."""
    level = plan.levels[level_index]
    index = ParquetIndex(store.engine, component)
    done = {f.start for f in index.files(level.label)}
    if level_index == 0:
        # A window already rolled up into a coarser unsplit level is done too.
        for coarse in plan.levels[1:]:
            if not coarse.keys:
                for f in index.files(coarse.label):
                    done.update(_starts(f.start, f.end, level.seconds))
        starts = {floor_window(moment, level.seconds) for moment in store.dates(component, start=plan.start)}
    else:
        source = plan.levels[level.source or 0]
        starts = {floor_window(f.start, level.seconds) for f in index.files(source.label)}
        if not level.keys:
            done = set()  # files below that still exist are new input, whatever this level holds
    complete = [s for s in starts if s >= plan.start and s + timedelta(seconds=level.seconds) <= now]
    return sorted(s for s in complete if s not in done)


def arrow_schema(table: pa.Table) -> dict[str, str]:
    """Column name → Arrow type, as recorded and shown."""
    return {name: str(kind) for name, kind in zip(table.schema.names, table.schema.types, strict=True)}


def _starts(start: datetime, end: datetime, seconds: int) -> list[datetime]:
    out, moment = [], start
    while moment < end:
        out.append(moment)
        moment += timedelta(seconds=seconds)
    return out


def _snapshots(table: pa.Table) -> int:
    """How many snapshots gave the rows of a table: its distinct snapshot dates."""
    if DATE_COLUMN not in table.column_names or table.num_rows == 0:
        return 0
    return int(pc.count_distinct(table.column(DATE_COLUMN)).as_py())


def _content(item: Data) -> bytes:
    return item.content


def _records(value: Any, path: str | None) -> list[dict[str, Any]] | None:
    """The list of objects a snapshot holds: itself, the list at RECORDS, or one object as one row."""
    if path is not None:
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and set(map(type, value)) <= {dict}:  # map(type) stays in C: fast
        return value
    return None


def _table(records: list[dict[str, Any]], dates: list[datetime], ends: list[int], where: str) -> pa.Table:
    """The records as one table plus the snapshot `date` column (which wins over a record field of that name).

    `dates[i]` dates the records before `ends[i]`: the column is decoded from those runs in Arrow, since
    converting one Python datetime per row took as long as building the rest of the table.
    """
    try:
        table = pa.Table.from_pylist(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataspaceError(
            f"{where}: the rows do not make one table ({exc}); tighten SCHEMA so every field has one type"
        ) from exc
    if DATE_COLUMN in table.column_names:
        table = table.drop_columns([DATE_COLUMN])
    runs = pa.RunEndEncodedArray.from_arrays(pa.array(ends, pa.int64()), pa.array(dates, type=DATE_TYPE))
    return table.append_column(DATE_COLUMN, pc.run_end_decode(runs))


def _concat(tables: Sequence[pa.Table], where: str) -> pa.Table:
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataspaceError(f"{where}: the files below do not share a schema ({exc})") from exc


def _span(start: datetime, end: datetime) -> str:
    return f"[{start.isoformat()}, {end.isoformat()})"


def _safe(value: Any) -> str:
    text = str(value)
    return "".join(ch if ch.isalnum() or ch in "-_." else "%" + format(ord(ch), "02X") for ch in text)[:60]
