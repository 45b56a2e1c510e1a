"""What a handler written for digitaltwin-dataspace 0.0.1 expects: `tables` and the `retrieve_*` functions.

The original built each handler as `Handler(tables)` (a dict of full name -> SQLAlchemy Table) and the handler
read rows with `digitaltwin_dataspace.data.retrieve`. Here `tables` maps each readable full name to an
`OriginalTable` (its `.name` is the full name), and the functions below take one and read through the
handler's read-only reader. Porting a handler means changing one import:
`from dataspace_assets.dataspace.original import retrieve_latest_row, ...`.
Dates are UTC (a naive datetime is taken as UTC), where the original used naive local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dataspace_assets.storage.reader import DataReader
from dataspace_assets.storage.store import Data


@dataclass(frozen=True)
class OriginalTable:
    """Stands for the original's per-component Table: the full name and a reader."""

    name: str
    reader: DataReader


def original_tables(reader: DataReader, names: list[str]) -> dict[str, OriginalTable]:
    """The `tables` argument of an original handler: one entry per readable component."""
    return {name: OriginalTable(name, reader) for name in names}


def retrieve_latest_row(table: OriginalTable, with_null: bool = False) -> Data | None:
    """The newest item (marker rows are never returned)."""
    return table.reader.latest(table.name)


def retrieve_first_row(table: OriginalTable) -> Data | None:
    """The oldest item."""
    return table.reader.first(table.name)


def retrieve_after_datetime(table: OriginalTable, date: datetime, limit: int | None = None) -> list[Data]:
    """Items with date > `date`, newest first, at most `limit` (the original's order)."""
    items = list(reversed(table.reader.after(table.name, date)))
    return items[:limit] if limit is not None else items


def retrieve_before_datetime(table: OriginalTable, date: datetime, limit: int | None = None) -> list[Data]:
    """Items with date < `date`, newest first, at most `limit`."""
    if limit is None:
        return list(reversed(table.reader.between(table.name, None, date)))
    return table.reader.latest_n_before(table.name, date, limit)


retrieve_latest_rows_before_datetime = retrieve_before_datetime


def retrieve_latest_row_before_datetime(table: OriginalTable, date: datetime, with_null: bool = False) -> Data | None:
    """The newest item strictly before `date`."""
    return table.reader.latest_before(table.name, date)


def retrieve_between_datetime(
    table: OriginalTable, start: datetime | None, end: datetime | None, limit: int | None = None
) -> list[Data]:
    """Items with start < date < end (a None bound is open), oldest first, at most `limit`."""
    return table.reader.between(table.name, start, end, limit=limit)
